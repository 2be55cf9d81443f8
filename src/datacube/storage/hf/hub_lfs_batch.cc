// The upload side of the Hub API before a commit: preupload (regular or LFS, decided by the
// server) and the LFS batch call (where each object goes, basic or HF multipart).
#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "datacube/crypto/sha256.h"
#include "datacube/storage/hf/hub_client.h"
#include "datacube/storage/hf/hub_json.h"

namespace datacube::storage::hf {
namespace {

using hub_json::json;
using hub_json::kMaxPerRequest;
using hub_json::ParseJson;
using hub_json::Str;
using hub_json::U64;

http::Headers JsonHeaders(const json& j) {
  http::Headers out;
  if (!j.is_object()) return out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.value().is_string()) out.emplace_back(it.key(), it.value().get<std::string>());
  }
  return out;
}

std::string HeaderValue(const http::Headers& h, std::string_view name) {
  for (const auto& [k, v] : h) {
    if (k == name) return v;
  }
  return "";
}

// The batch request for objects[start, end): an upload, basic or multipart, of SHA-256 oids.
json LfsBatchBody(const std::string& revision,
                  const std::vector<std::pair<std::string, uint64_t>>& objects, size_t start,
                  size_t end, bool create_pr) {
  json body = {{"operation", "upload"},
               {"transfers", {"basic", "multipart"}},
               {"hash_algo", "sha256"},
               {"objects", json::array()}};
  // A pull request's ref does not exist yet; huggingface.js omits it then.
  if (!create_pr) body["ref"] = {{"name", revision}};
  for (size_t i = start; i < end; ++i) {
    body["objects"].push_back({{"oid", objects[i].first}, {"size", objects[i].second}});
  }
  return body;
}

// The "upload" and "verify" actions of one object of the answer.
void ParseLfsActions(const json& o, LfsObjectAnswer& a) {
  auto actions = o.find("actions");
  if (actions == o.end() || !actions->is_object()) return;
  for (const char* name : {"upload", "verify"}) {
    auto act = actions->find(name);
    if (act == actions->end() || !act->is_object()) continue;
    LfsAction action{Str(*act, "href"), {}};
    auto header = act->find("header");
    if (header != act->end()) action.header = JsonHeaders(*header);
    (std::string_view(name) == "upload" ? a.upload : a.verify) = std::move(action);
  }
}

// HF multipart: the upload action's header has chunk_size and one URL per part.
Status ParsePartUrls(LfsObjectAnswer& a) {
  std::string chunk = HeaderValue(a.upload->header, "chunk_size");
  if (chunk.empty()) return Status();
  a.chunk_size = std::strtoull(chunk.c_str(), nullptr, 10);
  // Part URLs are the numeric keys ("1", "2", ... or "00001"), in numeric order.
  std::vector<std::pair<uint64_t, std::string>> parts;
  for (const auto& [k, v] : a.upload->header) {
    if (!k.empty() && k.find_first_not_of("0123456789") == std::string::npos) {
      // A server's part number that does not fit is refused, not thrown past us.
      uint64_t number = 0;
      auto [end, ec] = std::from_chars(k.data(), k.data() + k.size(), number);
      if (ec != std::errc() || end != k.data() + k.size()) {
        return UnavailableError("LFS batch answer for " + a.oid +
                                " has an out-of-range part number");
      }
      parts.emplace_back(number, v);
    }
  }
  std::sort(parts.begin(), parts.end());
  for (auto& p : parts) a.part_urls.push_back(std::move(p.second));
  uint64_t want = a.chunk_size ? (a.size + a.chunk_size - 1) / a.chunk_size : 0;
  if (a.chunk_size == 0 || a.part_urls.size() != want) {
    return UnavailableError("LFS batch answer for " + a.oid + " has " +
                            std::to_string(a.part_urls.size()) + " part URLs for " +
                            std::to_string(want) + " parts");
  }
  return Status();
}

// One object of the batch answer; its "error" becomes the Status.
Result<LfsObjectAnswer> ParseLfsObject(const json& o) {
  LfsObjectAnswer a;
  a.oid = Str(o, "oid");
  a.size = U64(o, "size");
  auto err = o.find("error");
  if (err != o.end() && err->is_object()) {
    int code = static_cast<int>(U64(*err, "code"));
    std::string text = "LFS object " + a.oid + ": " + Str(*err, "message");
    if (code == 422 || code == 409) return InvalidArgumentError(text);
    return http::HttpStatusToStatus(code ? code : 500, text);
  }
  ParseLfsActions(o, a);
  if (a.upload) DC_RETURN_IF_ERROR(ParsePartUrls(a));
  return a;
}

}  // namespace

Result<std::vector<PreuploadAnswer>> HubClient::Preupload(const std::string& revision,
                                                          const std::vector<PreuploadFile>& files,
                                                          bool create_pr) {
  std::vector<PreuploadAnswer> out;
  for (size_t start = 0; start < files.size(); start += kMaxPerRequest) {
    size_t end = std::min(files.size(), start + kMaxPerRequest);
    json body = {{"files", json::array()}};
    for (size_t i = start; i < end; ++i) {
      body["files"].push_back({{"path", files[i].path},
                               {"size", files[i].size},
                               {"sample", crypto::Base64Encode(files[i].sample)}});
    }
    http::HttpRequest req;
    req.method = "POST";
    req.url =
        ApiRepoUrl() + "/preupload/" + EncodeRevision(revision) + (create_pr ? "?create_pr=1" : "");
    req.headers = {{"content-type", "application/json"}};
    DC_ASSIGN_OR_RETURN(http::HttpResponse r,
                        Call(req, body.dump(), Context("preparing an upload to", revision)));
    DC_ASSIGN_OR_RETURN(json j, ParseJson(r, "preupload answer"));
    auto list = j.find("files");
    if (list == j.end() || !list->is_array()) {
      return UnavailableError("preupload answer has no \"files\" list");
    }
    for (const auto& f : *list) {
      PreuploadAnswer a;
      a.path = Str(f, "path");
      a.lfs = Str(f, "uploadMode") == "lfs";
      auto ignore = f.find("shouldIgnore");
      a.should_ignore = ignore != f.end() && ignore->is_boolean() && ignore->get<bool>();
      a.remote_oid = Str(f, "oid");
      out.push_back(std::move(a));
    }
  }
  return out;
}

Result<std::vector<LfsObjectAnswer>> HubClient::LfsBatchUpload(
    const std::string& revision, const std::vector<std::pair<std::string, uint64_t>>& objects,
    bool create_pr) {
  std::vector<LfsObjectAnswer> out;
  for (size_t start = 0; start < objects.size(); start += kMaxPerRequest) {
    size_t end = std::min(objects.size(), start + kMaxPerRequest);
    http::HttpRequest req;
    req.method = "POST";
    req.url = options_.endpoint + "/" + std::string(RepoTypeUrlPrefix(options_.repo.type)) +
              options_.repo.id + ".git/info/lfs/objects/batch";
    req.headers = {{"accept", "application/vnd.git-lfs+json"},
                   {"content-type", "application/vnd.git-lfs+json"}};
    json body = LfsBatchBody(revision, objects, start, end, create_pr);
    DC_ASSIGN_OR_RETURN(http::HttpResponse r,
                        Call(req, body.dump(), Context("uploading large files to", revision)));
    DC_ASSIGN_OR_RETURN(json j, ParseJson(r, "LFS batch answer"));
    std::string transfer = Str(j, "transfer");
    if (!transfer.empty() && transfer != "basic" && transfer != "multipart") {
      return UnimplementedError("the Hub chose the LFS transfer \"" + transfer +
                                "\", which datacube does not speak");
    }
    auto list = j.find("objects");
    if (list == j.end() || !list->is_array()) {
      return UnavailableError("LFS batch answer has no \"objects\" list");
    }
    for (const auto& o : *list) {
      DC_ASSIGN_OR_RETURN(LfsObjectAnswer a, ParseLfsObject(o));
      out.push_back(std::move(a));
    }
  }
  return out;
}

}  // namespace datacube::storage::hf
