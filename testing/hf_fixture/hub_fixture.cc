// HubFixture: start/stop, signing, identity and access rules, faults, request recording, seeding
// and the /_fixture/ control endpoints. Routes live in routes_read.cc and routes_write.cc.
#include "testing/hf_fixture/hub_fixture.h"

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "datacube/crypto/hmac.h"
#include "datacube/crypto/sha256.h"
#include "datacube/storage/hf/git_oid.h"
#include "testing/hf_fixture/fixture_internal.h"

namespace datacube::testing::hf {
namespace {

namespace fs = std::filesystem;

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string RandomHex(size_t bytes) {
  std::random_device rd;
  std::string raw(bytes, '\0');
  for (auto& c : raw) c = static_cast<char>(rd());
  return crypto::HexEncode(raw);
}

// Writes `size` deterministic pseudo-random bytes; returns their SHA-256.
Result<std::string> WriteRandom(const std::string& path, uint64_t size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> base(1 << 17);
  for (auto& v : base) v = rng();
  std::vector<uint64_t> block(base.size());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return InternalError("cannot write " + path);
  crypto::Sha256 h;
  uint64_t written = 0, index = 0;
  while (written < size) {
    for (size_t i = 0; i < block.size(); ++i) block[i] = base[i] ^ (index * 0x9E3779B97F4A7C15ull);
    uint64_t n = std::min<uint64_t>(size - written, block.size() * 8);
    out.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(n));
    h.Update({reinterpret_cast<const uint8_t*>(block.data()), n});
    written += n;
    ++index;
  }
  if (!out) return InternalError("cannot write " + path);
  return h.FinishHex();
}

}  // namespace

// ---- helpers ----

void SendError(httplib::Response& res, int status, const std::string& code,
               const std::string& message) {
  res.status = status;
  if (!code.empty()) res.set_header("X-Error-Code", code);
  res.set_header("X-Error-Message", message);
  res.set_content(json({{"error", message}}).dump(), "application/json; charset=utf-8");
}

void SendJson(httplib::Response& res, const json& body, int status, const std::string& type) {
  res.status = status;
  res.set_content(body.dump(), type);
}

std::string UrlDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string UrlEncodePath(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::vector<std::string> SplitRaw(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

size_t ParseRevision(const std::vector<std::string>& segs, size_t start, std::string* rev) {
  if (start >= segs.size()) {
    rev->clear();
    return start;
  }
  std::string first = UrlDecode(segs[start]);
  // huggingface.js writes refs/pr/1 raw in tree URLs; huggingface_hub encodes it as one segment.
  if (first == "refs" && start + 2 < segs.size() + 0 &&
      (segs[start + 1] == "pr" || segs[start + 1] == "convert" || segs[start + 1] == "heads" ||
       segs[start + 1] == "tags")) {
    *rev = "refs/" + segs[start + 1] + "/" + UrlDecode(segs[start + 2]);
    return start + 3;
  }
  *rev = first;
  return start + 1;
}

std::string JoinDecoded(const std::vector<std::string>& segs, size_t start) {
  std::string out;
  for (size_t i = start; i < segs.size(); ++i) {
    if (!out.empty()) out += "/";
    out += UrlDecode(segs[i]);
  }
  return out;
}

std::string QueryParam(const httplib::Request& req, const std::string& name) {
  return req.has_param(name.c_str()) ? req.get_param_value(name.c_str()) : "";
}

bool IsTrue(const std::string& v) { return v == "1" || v == "true" || v == "True"; }

json EntryJson(const std::string& path, const FileRecord& f) {
  json j = {{"type", "file"}, {"oid", f.oid}, {"size", f.size}, {"path", path}};
  if (f.is_lfs()) {
    j["lfs"] = {{"oid", f.lfs_sha256}, {"size", f.size}, {"pointerSize", f.pointer_size}};
  }
  return j;
}

void SendModelError(httplib::Response& res, const Status& s) {
  std::string msg(s.message());
  switch (s.code()) {
    case StatusCode::kNotFound:
      if (msg.find("Invalid rev id") != std::string::npos) {
        return SendError(res, 404, "RevisionNotFound", msg);
      }
      if (msg.find("Entry not found") != std::string::npos) {
        return SendError(res, 404, "EntryNotFound", msg);
      }
      if (msg.find("Repository not found") != std::string::npos) {
        return SendError(res, 404, "RepoNotFound", msg);
      }
      return SendError(res, 400, "", msg);  // e.g. an LFS pointer to a missing object
    case StatusCode::kFailedPrecondition:
      return SendError(res, 412, "", msg);
    case StatusCode::kAlreadyExists:
      return SendError(res, 409, "", msg);
    case StatusCode::kInvalidArgument:
    case StatusCode::kDataLoss:
      return SendError(res, 400, "", msg);
    default:
      return SendError(res, 500, "", msg);
  }
}

Result<std::pair<std::string, FixtureUser>> ParseTokenSpec(const std::string& spec) {
  size_t eq = spec.find('=');
  if (eq == std::string::npos || eq == 0) {
    return InvalidArgumentError("--token wants TOKEN=user[:org1,org2][:ro], got " + spec);
  }
  FixtureUser u;
  std::string rest = spec.substr(eq + 1);
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t colon = rest.find(':', start);
    parts.push_back(rest.substr(start, colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  u.name = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i] == "ro") {
      u.write = false;
      continue;
    }
    size_t s = 0;
    while (s <= parts[i].size()) {
      size_t comma = parts[i].find(',', s);
      if (comma == std::string::npos) comma = parts[i].size();
      if (comma > s) u.orgs.insert(parts[i].substr(s, comma - s));
      s = comma + 1;
    }
  }
  return std::make_pair(spec.substr(0, eq), u);
}

// ---- Impl ----

std::string HubFixture::Impl::HubUrl() const {
  return "http://" + options.host + ":" + std::to_string(hub_port);
}

std::string HubFixture::Impl::StorageUrl() const {
  return "http://" + options.host + ":" + std::to_string(storage_port);
}

std::string HubFixture::Impl::Sign(const std::string& base, const std::string& method,
                                   const std::string& path, const std::string& query) const {
  std::string expires = std::to_string(NowSeconds() + options.url_lifetime_seconds);
  std::string sig =
      crypto::HexEncode(crypto::HmacSha256(secret, method + " " + path + " " + expires));
  return base + path + "?" + (query.empty() ? "" : query + "&") + "X-Expires=" + expires +
         "&X-Signature=" + sig;
}

bool HubFixture::Impl::CheckSignature(const httplib::Request& req,
                                      const std::string& method) const {
  std::string expires = QueryParam(req, "X-Expires");
  std::string sig = QueryParam(req, "X-Signature");
  if (expires.empty() || sig.empty()) return false;
  if (std::stoll(expires) < NowSeconds()) return false;
  std::string path = req.target.substr(0, req.target.find('?'));
  std::string want =
      crypto::HexEncode(crypto::HmacSha256(secret, method + " " + path + " " + expires));
  return sig == want;
}

Caller HubFixture::Impl::Identify(const httplib::Request& req) const {
  Caller c;
  std::string auth = req.get_header_value("Authorization");
  if (auth.empty()) return c;
  c.has_token = true;
  std::string lower = auth.substr(0, 7);
  for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (lower != "bearer ") return c;
  auto it = options.tokens.find(auth.substr(7));
  if (it != options.tokens.end()) c.user = &it->second;
  return c;
}

bool HubFixture::Impl::CheckToken(const Caller& caller, httplib::Response& res) const {
  if (caller.has_token && caller.user == nullptr) {
    SendError(res, 401, "", "Invalid credentials in Authorization header");
    return false;
  }
  return true;
}

bool HubFixture::Impl::Authorize(const Caller& caller, const RepoPath& repo, Need need,
                                 const std::string& path, httplib::Response& res) const {
  if (!CheckToken(caller, res)) return false;
  auto meta = model->Meta(repo.type, repo.id);
  bool member =
      caller.user && (caller.user->name == repo.org() || caller.user->orgs.count(repo.org()) > 0);
  if (!meta || (meta->is_private && !member)) {
    std::string msg =
        "Repository Not Found for url: " + HubUrl() + "/api/" + repo.type + "s/" + repo.id +
        ". Please make sure you specified the correct `repo_id` and `repo_type`. If you are "
        "trying to access a private or gated repo, make sure you are authenticated.";
    SendError(res, caller.user ? 404 : 401, "RepoNotFound", msg);
    return false;
  }
  if (need == Need::kWrite) {
    if (!caller.user) {
      SendError(res, 401, "", "You must be authenticated to write to " + repo.id);
      return false;
    }
    if (!member || !caller.user->write) {
      SendError(res, 403, "",
                "You don't have the rights to create a commit in " + repo.id +
                    " (the token is read-only or its user is not in the namespace)");
      return false;
    }
  }
  if (need == Need::kContent && !meta->gated.empty() && path != "README.md" &&
      path != ".gitattributes") {
    bool granted = caller.user && (member || meta->granted.count(caller.user->name));
    if (!caller.user) {
      SendError(res, 401, "GatedRepo",
                "Access to " + repo.type + " " + repo.id +
                    " is restricted. You must have access to it and be authenticated to access "
                    "it. Please log in.");
      return false;
    }
    if (!granted) {
      SendError(res, 403, "GatedRepo",
                "Access to " + repo.type + " " + repo.id +
                    " is restricted and you are not in the authorized list. Visit " + HubUrl() +
                    "/" + repo.UrlPrefix() + repo.id + " to ask for access.");
      return false;
    }
  }
  return true;
}

bool HubFixture::Impl::ApplyFault(const std::string& server, const httplib::Request& req,
                                  httplib::Response& res) {
  std::string path = req.target.substr(0, req.target.find('?'));
  if (path.rfind("/_fixture/", 0) == 0) return false;
  std::lock_guard<std::mutex> lock(mu);
  for (auto it = faults.begin(); it != faults.end(); ++it) {
    if (!it->server.empty() && it->server != server) continue;
    if (!it->method.empty() && it->method != req.method) continue;
    if (!std::regex_search(path, std::regex(it->path_regex))) continue;
    if (it->retry_after >= 0) res.set_header("Retry-After", std::to_string(it->retry_after));
    SendError(res, it->status, it->error_code, it->message);
    if (it->times > 0 && --it->times == 0) faults.erase(it);
    return true;
  }
  return false;
}

// The fixture's own control requests (/_fixture/...) are not part of the record.
bool HubFixture::Impl::IsRecorded(const std::string& server, const httplib::Request& req) {
  return server != "hub" || req.target.rfind("/_fixture/", 0) != 0;
}

void HubFixture::Impl::Record(const std::string& server, const httplib::Request& req,
                              const httplib::Response& res) {
  RecordedRequest r;
  r.server = server;
  r.method = req.method;
  r.target = req.target;
  for (const auto& [k, v] : req.headers) {
    std::string name = k;
    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    // httplib adds these itself; they were not sent by the client.
    if (name == "remote_addr" || name == "remote_port" || name == "local_addr" ||
        name == "local_port") {
      continue;
    }
    r.headers.emplace_back(name, v);
  }
  r.status = res.status;
  std::lock_guard<std::mutex> lock(mu);
  requests.push_back(std::move(r));
  while (requests.size() > options.max_recorded) requests.pop_front();
}

void HubFixture::Impl::WaitRecorded(std::unique_lock<std::mutex>& lock) const {
  // Bounded: a connection that dies mid-response is never logged by httplib.
  recorded_cv.wait_for(lock, std::chrono::seconds(2), [this] { return unrecorded <= 0; });
}

int HubFixture::Impl::TakeCorruption(const std::string& sha256) {
  std::lock_guard<std::mutex> lock(mu);
  auto it = corrupt.find(sha256);
  if (it == corrupt.end()) return 0;
  if (it->second < 0) return 1;
  if (--it->second == 0) corrupt.erase(it);
  return 1;
}

void HubFixture::Impl::Install() {
  for (auto* server : {&hub, &storage}) {
    // Many clients keep connections alive; httplib holds a worker per connection.
    server->new_task_queue = [] { return new httplib::ThreadPool(96); };
    server->set_keep_alive_max_count(100000);
    server->set_keep_alive_timeout(30);
    server->set_read_timeout(60);
    server->set_write_timeout(60);
    server->set_payload_max_length(std::numeric_limits<size_t>::max());
  }
  for (auto [server, name] : {std::pair{&hub, "hub"}, std::pair{&storage, "storage"}}) {
    server->set_pre_routing_handler(
        [this, name = std::string(name)](const httplib::Request& req, httplib::Response& res) {
          if (IsRecorded(name, req)) {
            std::lock_guard<std::mutex> lock(mu);
            ++unrecorded;
          }
          if (!ApplyFault(name, req, res)) return httplib::Server::HandlerResponse::Unhandled;
          const_cast<httplib::Request&>(req).ranges.clear();  // an error, not content
          return httplib::Server::HandlerResponse::Handled;
        });
  }
  for (auto [server, name] : {std::pair{&hub, "hub"}, std::pair{&storage, "storage"}}) {
    server->set_logger([this, name = std::string(name)](const httplib::Request& req,
                                                        const httplib::Response& res) {
      if (!IsRecorded(name, req)) return;
      Record(name, req, res);
      std::lock_guard<std::mutex> lock(mu);
      --unrecorded;
      recorded_cv.notify_all();
    });
  }
  // httplib applies a request's Range to whatever body a handler sets, error documents and
  // redirects included (a 404 body would come back sliced, a 302 as 416). The Hub applies Range
  // to content only, so the fixture drops the ranges of every other answer.
  auto content_only = [](const httplib::Request& q, const httplib::Response& r) {
    if (r.status != -1 && r.status != 200 && r.status != 206) {
      const_cast<httplib::Request&>(q).ranges.clear();
    }
  };
  hub.Get(".*", [this, content_only](const httplib::Request& q, httplib::Response& r) {
    RouteHubGet(q, r);
    content_only(q, r);
  });
  hub.Post(".*", [this](const httplib::Request& q, httplib::Response& r) { RouteHubPost(q, r); });
  storage.Get(".*", [this, content_only](const httplib::Request& q, httplib::Response& r) {
    RouteStorageGet(q, r);
    content_only(q, r);
  });
  storage.Put(".*",
              [this](const httplib::Request& q, httplib::Response& r,
                     const httplib::ContentReader& reader) { RouteStoragePut(q, r, reader); });
}

void HubFixture::Impl::Control(const httplib::Request& req, httplib::Response& res,
                               const std::string& what) {
  if (what == "health") return SendJson(res, {{"ok", true}});
  if (what == "requests") {
    json list = json::array();
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& r : requests) {
      json h = json::array();
      for (const auto& [k, v] : r.headers) h.push_back({k, v});
      list.push_back({{"server", r.server},
                      {"method", r.method},
                      {"target", r.target},
                      {"headers", h},
                      {"status", r.status}});
    }
    return SendJson(res, list);
  }
  if (what == "requests/clear") {
    std::lock_guard<std::mutex> lock(mu);
    requests.clear();
    return SendJson(res, {{"ok", true}});
  }
  json body = json::parse(req.body, nullptr, false);
  if (!body.is_object()) return SendError(res, 400, "", "control body must be a JSON object");
  if (what == "corrupt") {
    std::lock_guard<std::mutex> lock(mu);
    int times = body.value("times", -1);
    if (times == 0) {
      corrupt.erase(body.value("sha256", ""));
    } else {
      corrupt[body.value("sha256", "")] = times;
    }
    return SendJson(res, {{"ok", true}});
  }
  if (what == "faults/clear") {
    std::lock_guard<std::mutex> lock(mu);
    faults.clear();
    return SendJson(res, {{"ok", true}});
  }
  if (what == "fault") {
    Fault f;
    f.server = body.value("server", "");
    f.method = body.value("method", "");
    f.path_regex = body.value("path_regex", ".*");
    f.status = body.value("status", 500);
    f.times = body.value("times", 1);
    f.retry_after = body.value("retry_after", -1);
    f.error_code = body.value("error_code", "");
    f.message = body.value("message", "injected fault");
    std::lock_guard<std::mutex> lock(mu);
    faults.push_back(std::move(f));
    return SendJson(res, {{"ok", true}});
  }
  if (what == "tamper") {  // {"type","id","patch":{path:{...}},"extra":[...],"link","redirect"}
    Tamper t;
    const json patch = body.value("patch", json::object());
    const json extra = body.value("extra", json::array());
    const json redirect = body.value("redirect", json::object());
    for (const auto& [p, v] : patch.items()) t.patch[p] = v.dump();
    for (const auto& e : extra) t.extra.push_back(e.dump());
    t.link = body.value("link", "");
    for (const auto& [p, v] : redirect.items()) {
      if (v.is_string()) t.redirect[p] = v.get<std::string>();
    }
    std::string type = body.value("type", "model"), id = body.value("id", "");
    bool empty = t.patch.empty() && t.extra.empty() && t.link.empty() && t.redirect.empty();
    std::lock_guard<std::mutex> lock(mu);
    if (empty) {
      tampers.erase(type + ":" + id);
    } else {
      tampers[type + ":" + id] = std::move(t);
    }
    return SendJson(res, {{"ok", true}});
  }
  if (what == "repo") {  // {"type","id","private","gated","granted"}: create or update
    std::string type = body.value("type", "model"), id = body.value("id", "");
    Status s = model->CreateRepo(type, id, body.value("private", false));
    if (!s.ok() && s.code() != StatusCode::kAlreadyExists) return SendModelError(res, s);
    std::set<std::string> granted;
    for (const auto& u : body.value("granted", json::array())) granted.insert(u.get<std::string>());
    s = model->SetGated(type, id, body.value("gated", ""), granted);
    if (s.ok()) s = model->SetPrivate(type, id, body.value("private", false));
    if (!s.ok()) return SendModelError(res, s);
    return SendJson(res, {{"ok", true}});
  }
  if (what == "seed") {
    std::vector<SeedFile> files;
    for (const auto& f : body.value("files", json::array())) {
      SeedFile sf;
      sf.path = f.value("path", "");
      sf.content = f.value("content", "");
      sf.random_size = f.value("random_size", uint64_t{0});
      sf.seed = f.value("seed", uint64_t{1});
      if (f.contains("lfs") && f["lfs"].is_boolean()) sf.lfs = f["lfs"].get<bool>();
      files.push_back(std::move(sf));
    }
    auto seeded = SeedImpl(*this, body.value("type", "model"), body.value("id", ""), files,
                           body.value("message", "seed"), body.value("branch", "main"));
    if (!seeded.ok()) return SendModelError(res, seeded.status());
    json out = {{"commit", *model->Resolve(body.value("type", "model"), body.value("id", ""),
                                           body.value("branch", "main"))},
                {"files", json::array()}};
    for (const auto& f : *seeded) {
      out["files"].push_back({{"path", f.path},
                              {"size", f.size},
                              {"sha256", f.sha256},
                              {"oid", f.oid},
                              {"lfs", f.lfs}});
    }
    return SendJson(res, out);
  }
  SendError(res, 404, "", "unknown control endpoint " + what);
}

// Seeding shares the Impl so the control endpoint can call it.
Result<std::vector<SeededFile>> SeedImpl(HubFixture::Impl& impl, const std::string& type,
                                         const std::string& id, const std::vector<SeedFile>& files,
                                         const std::string& message, const std::string& branch) {
  Status created = impl.model->CreateRepo(type, id, false);
  if (!created.ok() && created.code() != StatusCode::kAlreadyExists) return created;
  auto head = impl.model->Resolve(type, id, branch);
  if (!head) {
    DC_RETURN_IF_ERROR(impl.model->CreateBranch(type, id, branch, "main"));
    head = impl.model->Resolve(type, id, branch);
  }
  auto commit = impl.model->Commit(type, id, *head);
  std::string attrs = impl.model->GitAttributes(type, id, *commit);
  std::vector<CommitOp> ops;
  std::vector<SeededFile> out;
  for (const auto& f : files) {
    SeededFile s;
    s.path = f.path;
    std::string tmp = impl.model->StagingDir() + "/seed-" + std::to_string(impl.next_id++);
    std::string sha;
    if (f.random_size > 0) {
      DC_ASSIGN_OR_RETURN(sha, WriteRandom(tmp, f.random_size, f.seed));
      s.size = f.random_size;
    } else {
      std::ofstream(tmp, std::ios::binary) << f.content;
      sha = crypto::Sha256Hex(f.content);
      s.size = f.content.size();
    }
    s.sha256 = sha;
    bool lfs = f.lfs.value_or(GitAttributesSayLfs(attrs, f.path) || s.size >= (10ull << 20));
    s.lfs = lfs;
    if (lfs) {
      if (impl.model->HasLfs(type, id, sha, s.size)) {
        std::filesystem::remove(tmp);
      } else {
        DC_RETURN_IF_ERROR(impl.model->AdoptLfsObject(type, id, sha, s.size, tmp));
      }
      ops.push_back({CommitOp::Kind::kLfsFile, f.path, "", sha, s.size});
      s.oid = storage::hf::GitBlobId(storage::hf::LfsPointer(sha, s.size));
    } else {
      std::ifstream in(tmp, std::ios::binary);
      std::stringstream buf;
      buf << in.rdbuf();
      std::filesystem::remove(tmp);
      ops.push_back({CommitOp::Kind::kFile, f.path, buf.str(), "", {}});
      s.oid = storage::hf::GitBlobId(buf.str());
    }
    out.push_back(std::move(s));
  }
  DC_RETURN_IF_ERROR(
      impl.model->ApplyCommit(type, id, branch, ops, message, "", "", false, nullptr).status());
  return out;
}

// ---- HubFixture ----

Result<std::unique_ptr<HubFixture>> HubFixture::Start(FixtureOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  DC_ASSIGN_OR_RETURN(impl->model, HubModel::Open(impl->options.root));
  impl->secret = RandomHex(32);
  impl->Install();
  const std::string& host = impl->options.host;
  auto bind = [&](httplib::Server& s, int port, int* bound) -> Status {
    if (port == 0) {
      *bound = s.bind_to_any_port(host.c_str());
    } else {
      *bound = s.bind_to_port(host.c_str(), port) ? port : -1;
    }
    if (*bound <= 0)
      return UnavailableError("cannot listen on " + host + ":" + std::to_string(port));
    return Status();
  };
  DC_RETURN_IF_ERROR(bind(impl->hub, impl->options.hub_port, &impl->hub_port));
  DC_RETURN_IF_ERROR(bind(impl->storage, impl->options.storage_port, &impl->storage_port));
  Impl* raw = impl.get();
  impl->hub_thread = std::thread([raw] { raw->hub.listen_after_bind(); });
  impl->storage_thread = std::thread([raw] { raw->storage.listen_after_bind(); });
  while (!impl->hub.is_running() || !impl->storage.is_running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return std::unique_ptr<HubFixture>(new HubFixture(std::move(impl)));
}

HubFixture::HubFixture(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HubFixture::~HubFixture() { Stop(); }

void HubFixture::Stop() {
  if (!impl_) return;
  impl_->hub.stop();
  impl_->storage.stop();
  if (impl_->hub_thread.joinable()) impl_->hub_thread.join();
  if (impl_->storage_thread.joinable()) impl_->storage_thread.join();
}

std::string HubFixture::hub_url() const { return impl_->HubUrl(); }
std::string HubFixture::storage_url() const { return impl_->StorageUrl(); }
int HubFixture::hub_port() const { return impl_->hub_port; }
int HubFixture::storage_port() const { return impl_->storage_port; }
HubModel& HubFixture::model() { return *impl_->model; }

Result<std::vector<SeededFile>> HubFixture::Seed(const std::string& type, const std::string& id,
                                                 const std::vector<SeedFile>& files,
                                                 const std::string& message,
                                                 const std::string& branch) {
  return SeedImpl(*impl_, type, id, files, message, branch);
}

void HubFixture::SetTamper(const std::string& type, const std::string& id, Tamper tamper) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (tamper.patch.empty() && tamper.extra.empty() && tamper.link.empty() &&
      tamper.redirect.empty()) {
    impl_->tampers.erase(type + ":" + id);
  } else {
    impl_->tampers[type + ":" + id] = std::move(tamper);
  }
}

Tamper HubFixture::Impl::TamperFor(const RepoPath& repo) const {
  std::lock_guard<std::mutex> lock(mu);
  auto it = tampers.find(repo.type + ":" + repo.id);
  return it == tampers.end() ? Tamper() : it->second;
}

void HubFixture::CorruptLfs(const std::string& sha256, int times) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (times == 0) {
    impl_->corrupt.erase(sha256);
  } else {
    impl_->corrupt[sha256] = times;
  }
}

void HubFixture::AddFault(Fault fault) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->faults.push_back(std::move(fault));
}

void HubFixture::ClearFaults() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->faults.clear();
}

std::vector<RecordedRequest> HubFixture::Requests() const {
  std::unique_lock<std::mutex> lock(impl_->mu);
  impl_->WaitRecorded(lock);
  return {impl_->requests.begin(), impl_->requests.end()};
}

void HubFixture::ClearRequests() {
  std::unique_lock<std::mutex> lock(impl_->mu);
  impl_->WaitRecorded(lock);
  impl_->requests.clear();
}

}  // namespace datacube::testing::hf
