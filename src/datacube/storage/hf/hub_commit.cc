// The write side of the Hub API: the NDJSON commit and repository creation.
#include "datacube/crypto/sha256.h"
#include "datacube/storage/hf/hub_client.h"
#include "datacube/storage/hf/hub_json.h"

namespace datacube::storage::hf {

using hub_json::json;
using hub_json::ParseJson;
using hub_json::Str;

std::string BuildCommitPayload(const std::string& summary, const std::string& description,
                               const std::string& parent_commit,
                               const std::vector<CommitOperation>& operations) {
  json header = {{"summary", summary}, {"description", description}};
  if (!parent_commit.empty()) header["parentCommit"] = parent_commit;
  std::string out = json({{"key", "header"}, {"value", header}}).dump() + "\n";
  for (const auto& op : operations) {
    json line;
    switch (op.kind) {
      case CommitOperation::Kind::kFile:
        line = {{"key", "file"},
                {"value",
                 {{"path", op.path},
                  {"content", crypto::Base64Encode(op.content)},
                  {"encoding", "base64"}}}};
        break;
      case CommitOperation::Kind::kLfsFile:
        line = {{"key", "lfsFile"},
                {"value",
                 {{"path", op.path}, {"algo", "sha256"}, {"oid", op.sha256}, {"size", op.size}}}};
        break;
      case CommitOperation::Kind::kDeletedFile:
        line = {{"key", "deletedFile"}, {"value", {{"path", op.path}}}};
        break;
      case CommitOperation::Kind::kDeletedFolder:
        line = {{"key", "deletedFolder"}, {"value", {{"path", op.path}}}};
        break;
    }
    // Invalid UTF-8 in a path must not throw out of dump(): replace it (paths were validated).
    out += line.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  }
  return out;
}

Result<CommitResult> HubClient::Commit(const std::string& revision, const std::string& summary,
                                       const std::string& description,
                                       const std::string& parent_commit,
                                       const std::vector<CommitOperation>& operations,
                                       bool create_pr) {
  http::HttpRequest req;
  req.method = "POST";
  req.url =
      ApiRepoUrl() + "/commit/" + EncodeRevision(revision) + (create_pr ? "?create_pr=1" : "");
  req.headers = {{"content-type", "application/x-ndjson"}};
  std::string payload = BuildCommitPayload(summary, description, parent_commit, operations);
  // A commit is not idempotent: when an answer is lost and the request is retried, the parent
  // commit makes a duplicate fail with 412 instead of landing twice, so retry only with one.
  ErrorContext ctx = Context("committing to", revision);
  ctx.url = req.url;
  DC_ASSIGN_OR_RETURN(http::HttpResponse r,
                      Send(req, payload, nullptr, /*retry=*/!parent_commit.empty()));
  DC_RETURN_IF_ERROR(HubErrorToStatus(r, ctx));
  DC_ASSIGN_OR_RETURN(json j, ParseJson(r, "commit answer"));
  CommitResult out;
  out.commit_oid = Str(j, "commitOid");
  out.commit_url = Str(j, "commitUrl");
  out.pull_request_url = Str(j, "pullRequestUrl");
  return out;
}

Status HubClient::CreateRepo(bool private_repo, bool exist_ok) {
  size_t slash = options_.repo.id.find('/');
  json body = {{"name", options_.repo.id.substr(slash + 1)},
               {"organization", options_.repo.id.substr(0, slash)},
               {"type", std::string(RepoTypeName(options_.repo.type))},
               {"private", private_repo}};
  if (options_.repo.type == RepoType::kSpace) body["sdk"] = "static";
  http::HttpRequest req;
  req.method = "POST";
  req.url = options_.endpoint + "/api/repos/create";
  req.headers = {{"content-type", "application/json"}};
  ErrorContext ctx = Context("creating");
  ctx.url = req.url;
  DC_ASSIGN_OR_RETURN(http::HttpResponse r, Send(req, body.dump(), nullptr, true));
  if (r.status == 409 && exist_ok) return Status();
  return HubErrorToStatus(r, ctx);
}

}  // namespace datacube::storage::hf
