// The fixture's write side: repo create, preupload, LFS batch / verify / multipart completion,
// NDJSON commits, and the storage host's upload URLs.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "datacube/crypto/sha256.h"
#include "testing/hf_fixture/fixture_internal.h"

namespace datacube::testing::hf {
namespace {

namespace fs = std::filesystem;

// The Hub sends files of at least this size to LFS whatever .gitattributes says.
constexpr uint64_t kLfsSizeThreshold = 10ull << 20;

std::optional<std::string> TypeFromPlural(const std::string& s) {
  if (s == "models") return "model";
  if (s == "datasets") return "dataset";
  if (s == "spaces") return "space";
  return std::nullopt;
}

std::string Unquote(std::string s) {
  if (s.rfind("W/", 0) == 0) s = s.substr(2);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

bool AcceptsLfsJson(const httplib::Request& req) {
  return req.get_header_value("Accept").find("application/vnd.git-lfs+json") != std::string::npos;
}

// Parses "<prefix><org>/<name>.git/info/lfs/objects/<what>" segments.
std::optional<RepoPath> LfsRepo(const std::vector<std::string>& segs, std::string* what) {
  size_t start = 0;
  std::string type = "model";
  if (!segs.empty() && (segs[0] == "datasets" || segs[0] == "spaces")) {
    type = *TypeFromPlural(segs[0]);
    start = 1;
  }
  if (segs.size() != start + 6 || segs[start + 2] != "info" || segs[start + 3] != "lfs" ||
      segs[start + 4] != "objects") {
    return std::nullopt;
  }
  std::string name = UrlDecode(segs[start + 1]);
  if (name.size() < 5 || name.substr(name.size() - 4) != ".git") return std::nullopt;
  *what = segs[start + 5];
  return RepoPath{type, UrlDecode(segs[start]) + "/" + name.substr(0, name.size() - 4)};
}

}  // namespace

void HubFixture::Impl::RouteHubPost(const httplib::Request& req, httplib::Response& res) {
  std::string path = req.target.substr(0, req.target.find('?'));
  auto segs = SplitRaw(path);
  if (segs.empty()) return SendError(res, 404, "", "Not Found");
  if (segs[0] == "_fixture") return Control(req, res, JoinDecoded(segs, 1));
  if (segs[0] == "lfs-complete" && segs.size() == 2) return LfsComplete(req, res, segs[1]);
  if (segs[0] == "api") {
    if (segs.size() == 3 && segs[1] == "repos" && segs[2] == "create") return CreateRepo(req, res);
    auto type = segs.size() >= 5 ? TypeFromPlural(segs[1]) : std::nullopt;
    if (!type) return SendError(res, 404, "", "Not Found");
    RepoPath repo{*type, UrlDecode(segs[2]) + "/" + UrlDecode(segs[3])};
    std::string rev;
    size_t rest = ParseRevision(segs, 5, &rev);
    if (rest != segs.size()) return SendError(res, 404, "", "Not Found");
    if (segs[4] == "paths-info") return PathsInfo(req, res, repo, rev);
    if (segs[4] == "preupload") return Preupload(req, res, repo, rev);
    if (segs[4] == "commit") return Commit(req, res, repo, rev);
    return SendError(res, 404, "", "Not Found");
  }
  std::string what;
  if (auto repo = LfsRepo(segs, &what)) {
    if (what == "batch") return LfsBatch(req, res, *repo);
    if (what == "verify") return LfsVerify(req, res, *repo);
  }
  SendError(res, 404, "", "Not Found");
}

void HubFixture::Impl::CreateRepo(const httplib::Request& req, httplib::Response& res) {
  Caller caller = Identify(req);
  if (!CheckToken(caller, res)) return;
  if (!caller.user) return SendError(res, 401, "", "You must be authenticated to create a repo");
  json body = json::parse(req.body, nullptr, false);
  if (!body.is_object() || !body.contains("name") || !body["name"].is_string()) {
    return SendError(res, 400, "", "\"name\" is required");
  }
  std::string org = body.contains("organization") && body["organization"].is_string()
                        ? body["organization"].get<std::string>()
                        : caller.user->name;
  std::string type = body.value("type", "model");
  if (type != "model" && type != "dataset" && type != "space") {
    return SendError(res, 400, "", "Invalid repo type " + type);
  }
  if (type == "space" && !body.contains("sdk")) {
    return SendError(res, 400, "", "sdk is required for spaces");
  }
  bool is_private = body.value("private", false) || body.value("visibility", "") == "private";
  if (!caller.user->write || (org != caller.user->name && !caller.user->orgs.count(org))) {
    return SendError(res, 403, "",
                     "You don't have the rights to create a repo under the namespace " + org);
  }
  RepoPath repo{type, org + "/" + body["name"].get<std::string>()};
  std::string url = HubUrl() + "/" + repo.UrlPrefix() + repo.id;
  Status s = model->CreateRepo(type, repo.id, is_private);
  if (s.code() == StatusCode::kAlreadyExists) {
    res.status = 409;
    res.set_header("X-Error-Message", std::string(s.message()));
    res.set_content(json({{"error", std::string(s.message())}, {"url", url}}).dump(),
                    "application/json");
    return;
  }
  if (!s.ok()) return SendModelError(res, s);
  SendJson(res, {{"url", url}, {"name", repo.id}, {"id", repo.id}});
}

void HubFixture::Impl::Preupload(const httplib::Request& req, httplib::Response& res,
                                 const RepoPath& repo, const std::string& rev) {
  if (!Authorize(Identify(req), repo, Need::kWrite, "", res)) return;
  auto sha = model->Resolve(repo.type, repo.id, rev);
  if (!sha) return SendError(res, 404, "RevisionNotFound", "Invalid rev id: " + rev);
  json body = json::parse(req.body, nullptr, false);
  if (!body.is_object() || !body.contains("files") || !body["files"].is_array()) {
    return SendError(res, 400, "", "\"files\" is required");
  }
  if (body["files"].size() > 1000) return SendError(res, 400, "", "too many files");
  auto commit = model->Commit(repo.type, repo.id, *sha);
  std::string attrs = body.contains("gitAttributes") && body["gitAttributes"].is_string()
                          ? body["gitAttributes"].get<std::string>()
                          : model->GitAttributes(repo.type, repo.id, *commit);
  json out = {{"files", json::array()}, {"commitOid", *sha}};
  for (const auto& f : body["files"]) {
    std::string path = f.value("path", "");
    uint64_t size = f.value("size", uint64_t{0});
    std::string sample;
    crypto::Base64Decode(f.value("sample", ""), &sample);
    // The Hub's rule: .gitattributes, then size, then binary content (a NUL in the sample).
    bool lfs = size > 0 && (GitAttributesSayLfs(attrs, path) || size >= kLfsSizeThreshold ||
                            sample.find('\0') != std::string::npos);
    json answer = {
        {"path", path}, {"uploadMode", lfs ? "lfs" : "regular"}, {"shouldIgnore", false}};
    if (auto it = commit->files.find(path); it != commit->files.end()) {
      answer["oid"] = it->second.is_lfs() ? it->second.lfs_sha256 : it->second.oid;
    } else {
      answer["oid"] = nullptr;
    }
    out["files"].push_back(answer);
  }
  SendJson(res, out);
}

void HubFixture::Impl::LfsBatch(const httplib::Request& req, httplib::Response& res,
                                const RepoPath& repo) {
  if (!AcceptsLfsJson(req)) {
    return SendError(res, 406, "", "Accept must be application/vnd.git-lfs+json");
  }
  json body = json::parse(req.body, nullptr, false);
  if (!body.is_object()) return SendError(res, 422, "", "body must be JSON");
  std::string op = body.value("operation", "");
  if (op != "upload" && op != "download") return SendError(res, 422, "", "bad operation");
  if (!Authorize(Identify(req), repo, op == "upload" ? Need::kWrite : Need::kContent, "", res)) {
    return;
  }
  bool multipart_ok = false;
  for (const auto& t : body.value("transfers", json::array())) {
    if (t == "multipart") multipart_ok = true;
  }
  std::string algo = body.value("hash_algo", "sha256");
  if (algo != "sha256" && algo != "sha_256") return SendError(res, 409, "", "unsupported hash");
  if (!body.contains("objects") || !body["objects"].is_array()) {
    return SendError(res, 422, "", "\"objects\" is required");
  }
  if (body["objects"].size() > 1000) return SendError(res, 413, "", "too many objects");
  json objects = json::array();
  bool any_multipart = false;
  const std::string base = "/" + repo.type + "s/" + repo.id + "/";
  for (const auto& o : body["objects"]) {
    std::string oid = o.value("oid", "");
    uint64_t size = o.value("size", uint64_t{0});
    json answer = {{"oid", oid}, {"size", size}};
    if (!crypto::IsSha256Hex(oid)) {
      answer["error"] = {{"code", 422}, {"message", "oid is not a SHA-256"}};
      objects.push_back(answer);
      continue;
    }
    bool have = model->HasLfs(repo.type, repo.id, oid, size);
    if (op == "download") {
      if (!have) {
        answer["error"] = {{"code", 404}, {"message", "Object does not exist"}};
      } else {
        answer["actions"] = {{"download",
                              {{"href", Sign(StorageUrl(), "GET", "/lfs" + base + oid)},
                               {"expires_in", options.url_lifetime_seconds}}}};
      }
      objects.push_back(answer);
      continue;
    }
    if (have) {  // already uploaded: no actions
      objects.push_back(answer);
      continue;
    }
    json verify = {
        {"href", HubUrl() + "/" + repo.UrlPrefix() + repo.id + ".git/info/lfs/objects/verify"},
        {"header", json::object()}};
    if (size >= options.multipart_threshold && multipart_ok && size > 0) {
      any_multipart = true;
      std::string upload_id = "up" + std::to_string(next_id++);
      uint64_t chunk = options.multipart_chunk;
      size_t parts = static_cast<size_t>((size + chunk - 1) / chunk);
      json header = {{"chunk_size", std::to_string(chunk)}};
      for (size_t n = 1; n <= parts; ++n) {
        header[std::to_string(n)] =
            Sign(StorageUrl(), "PUT", "/part/" + upload_id + "/" + std::to_string(n));
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        uploads[upload_id] = MultipartUpload{repo, oid, size, chunk, parts, {}};
      }
      answer["actions"] = {{"upload",
                            {{"href", Sign(HubUrl(), "POST", "/lfs-complete/" + upload_id)},
                             {"header", header},
                             {"expires_in", options.url_lifetime_seconds}}},
                           {"verify", verify}};
    } else {
      answer["actions"] = {{"upload",
                            {{"href", Sign(StorageUrl(), "PUT", "/upload" + base + oid,
                                           "size=" + std::to_string(size))},
                             {"header", json::object()},
                             {"expires_in", options.url_lifetime_seconds}}},
                           {"verify", verify}};
    }
    objects.push_back(answer);
  }
  SendJson(res, {{"transfer", any_multipart ? "multipart" : "basic"}, {"objects", objects}}, 200,
           "application/vnd.git-lfs+json");
}

void HubFixture::Impl::LfsVerify(const httplib::Request& req, httplib::Response& res,
                                 const RepoPath& repo) {
  if (!Authorize(Identify(req), repo, Need::kWrite, "", res)) return;
  json body = json::parse(req.body, nullptr, false);
  if (!body.is_object()) return SendError(res, 422, "", "body must be JSON");
  std::string oid = body.value("oid", "");
  uint64_t size = body.value("size", uint64_t{0});
  if (!model->HasLfs(repo.type, repo.id, oid, size)) {
    return SendJson(res, {{"message", "Object " + oid + " not found or size mismatch"}}, 404,
                    "application/vnd.git-lfs+json");
  }
  SendJson(res, {{"message", "ok"}}, 200, "application/vnd.git-lfs+json");
}

void HubFixture::Impl::LfsComplete(const httplib::Request& req, httplib::Response& res,
                                   const std::string& id) {
  if (!CheckSignature(req, "POST")) return SendError(res, 403, "", "bad or expired signature");
  json body = json::parse(req.body, nullptr, false);
  if (!body.is_object() || !body.contains("parts") || !body["parts"].is_array()) {
    return SendError(res, 400, "", "\"parts\" is required");
  }
  MultipartUpload up;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = uploads.find(id);
    if (it == uploads.end()) return SendError(res, 404, "", "NoSuchUpload");
    up = it->second;
  }
  if (body.value("oid", "") != up.sha256) return SendError(res, 400, "", "oid mismatch");
  if (body["parts"].size() != up.parts) {
    return SendError(res, 400, "", "expected " + std::to_string(up.parts) + " parts");
  }
  std::string assembled = model->StagingDir() + "/" + id + ".assembled";
  {
    std::ofstream out(assembled, std::ios::binary | std::ios::trunc);
    for (const auto& p : body["parts"]) {
      int n = p.value("partNumber", 0);
      auto it = up.etags.find(n);
      if (it == up.etags.end())
        return SendError(res, 400, "", "part " + std::to_string(n) + " was not uploaded");
      if (Unquote(p.value("etag", "")) != Unquote(it->second)) {
        return SendError(res, 400, "",
                         "InvalidPart: ETag of part " + std::to_string(n) + " does not match");
      }
      std::ifstream in(model->StagingDir() + "/" + id + "." + std::to_string(n), std::ios::binary);
      out << in.rdbuf();
    }
  }
  Status s = model->AdoptLfsObject(up.repo.type, up.repo.id, up.sha256, up.size, assembled);
  for (size_t n = 1; n <= up.parts; ++n) {
    std::error_code ec;
    fs::remove(model->StagingDir() + "/" + id + "." + std::to_string(n), ec);
  }
  if (!s.ok()) return SendError(res, 400, "", std::string(s.message()));
  {
    std::lock_guard<std::mutex> lock(mu);
    uploads.erase(id);
  }
  SendJson(res, {{"success", true}});
}

void HubFixture::Impl::Commit(const httplib::Request& req, httplib::Response& res,
                              const RepoPath& repo, const std::string& rev) {
  if (!Authorize(Identify(req), repo, Need::kWrite, "", res)) return;
  std::istringstream in(req.body);
  std::string line;
  std::string title, description, parent;
  bool have_header = false;
  std::vector<CommitOp> ops;
  while (std::getline(in, line)) {
    if (line.empty() || line == "\r") continue;
    json j = json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("key") || !j.contains("value")) {
      return SendError(res, 400, "", "malformed NDJSON line");
    }
    std::string key = j["key"].get<std::string>();
    const json& v = j["value"];
    if (key == "header") {
      have_header = true;
      title = v.value("summary", "");
      description = v.value("description", "");
      if (v.contains("parentCommit") && v["parentCommit"].is_string()) parent = v["parentCommit"];
      continue;
    }
    if (!have_header) return SendError(res, 400, "", "the header line must come first");
    CommitOp op;
    op.path = v.value("path", "");
    if (key == "file") {
      op.kind = CommitOp::Kind::kFile;
      std::string content = v.value("content", "");
      if (v.value("encoding", "utf-8") == "base64") {
        if (!crypto::Base64Decode(content, &op.content)) {
          return SendError(res, 400, "", "invalid base64 for " + op.path);
        }
      } else {
        op.content = content;
      }
    } else if (key == "lfsFile") {
      op.kind = CommitOp::Kind::kLfsFile;
      op.sha256 = v.value("oid", "");
      if (v.contains("size") && v["size"].is_number()) op.size = v["size"].get<uint64_t>();
      if (v.value("algo", "sha256") != "sha256")
        return SendError(res, 400, "", "algo must be sha256");
    } else if (key == "deletedFile") {
      op.kind = CommitOp::Kind::kDelete;
    } else if (key == "deletedFolder") {
      op.kind = CommitOp::Kind::kDeleteFolder;
    } else {
      return SendError(res, 400, "", "unknown operation " + key);
    }
    ops.push_back(std::move(op));
  }
  if (!have_header || title.empty()) return SendError(res, 400, "", "a summary is required");
  bool create_pr = IsTrue(QueryParam(req, "create_pr"));
  int pr = 0;
  auto sha =
      model->ApplyCommit(repo.type, repo.id, rev, ops, title, description, parent, create_pr, &pr);
  if (!sha.ok()) return SendModelError(res, sha.status());
  std::string base = HubUrl() + "/" + repo.UrlPrefix() + repo.id;
  json out = {{"success", true},
              {"commitOid", *sha},
              {"commitUrl", base + "/commit/" + *sha},
              {"hookOutput", ""}};
  if (create_pr) out["pullRequestUrl"] = base + "/discussions/" + std::to_string(pr);
  SendJson(res, out);
}

void HubFixture::Impl::RouteStoragePut(const httplib::Request& req, httplib::Response& res,
                                       const httplib::ContentReader& reader) {
  std::string path = req.target.substr(0, req.target.find('?'));
  auto segs = SplitRaw(path);
  if (!CheckSignature(req, "PUT")) {
    return SendError(res, 403, "", "Request has expired or the signature does not match");
  }
  // Stream the body to a staging file, hashing (a 4 GiB upload never sits in memory).
  std::string tmp = model->StagingDir() + "/put-" + std::to_string(next_id++);
  crypto::Sha256 hash;
  uint64_t received = 0;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    reader([&](const char* data, size_t len) {
      out.write(data, static_cast<std::streamsize>(len));
      hash.Update(std::string_view(data, len));
      received += len;
      return static_cast<bool>(out);
    });
  }
  std::string digest = hash.FinishHex();
  if (segs.size() == 5 && segs[0] == "upload" && TypeFromPlural(segs[1])) {
    std::string type = *TypeFromPlural(segs[1]);
    std::string id = UrlDecode(segs[2]) + "/" + UrlDecode(segs[3]);
    uint64_t size = std::stoull(QueryParam(req, "size").empty() ? "0" : QueryParam(req, "size"));
    Status s = model->AdoptLfsObject(type, id, segs[4], size, tmp);
    if (!s.ok()) return SendError(res, 400, "", "BadDigest: " + std::string(s.message()));
    res.set_header("ETag", "\"" + digest.substr(0, 32) + "\"");
    res.status = 200;
    return;
  }
  if (segs.size() == 3 && segs[0] == "part") {
    std::string id = segs[1];
    int n = std::atoi(segs[2].c_str());
    MultipartUpload up;
    {
      std::lock_guard<std::mutex> lock(mu);
      auto it = uploads.find(id);
      if (it == uploads.end()) {
        fs::remove(tmp);
        return SendError(res, 404, "", "NoSuchUpload");
      }
      up = it->second;
    }
    uint64_t offset = static_cast<uint64_t>(n - 1) * up.chunk;
    uint64_t want = n < 1 || offset >= up.size ? 0 : std::min(up.chunk, up.size - offset);
    if (want == 0 || received != want) {
      fs::remove(tmp);
      return SendError(res, 400, "",
                       "part " + std::to_string(n) + " must be " + std::to_string(want) +
                           " bytes, got " + std::to_string(received));
    }
    std::error_code ec;
    fs::rename(tmp, model->StagingDir() + "/" + id + "." + std::to_string(n), ec);
    std::string etag = "\"" + digest.substr(0, 32) + "\"";
    {
      std::lock_guard<std::mutex> lock(mu);
      uploads[id].etags[n] = etag;
    }
    res.set_header("ETag", etag);
    res.status = 200;
    return;
  }
  fs::remove(tmp);
  SendError(res, 404, "", "NoSuchKey");
}

}  // namespace datacube::testing::hf
