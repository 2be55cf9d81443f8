// The fixture's read side: URL dispatch, revision info, tree, paths-info, resolve/raw, and the
// storage host's object downloads.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "datacube/crypto/sha256.h"
#include "datacube/storage/hf/git_oid.h"
#include "testing/hf_fixture/fixture_internal.h"

namespace datacube::testing::hf {
namespace {

std::optional<std::string> TypeFromPlural(const std::string& s) {
  if (s == "models") return "model";
  if (s == "datasets") return "dataset";
  if (s == "spaces") return "space";
  return std::nullopt;
}

// Rejects a Range that starts past the end (416, as S3 and the Hub do). True when handled.
bool RangeNotSatisfiable(const httplib::Request& req, httplib::Response& res, uint64_t size) {
  if (req.ranges.empty()) return false;
  auto [first, last] = req.ranges.front();
  if (first >= 0 && static_cast<uint64_t>(first) >= size && !(size == 0 && first == 0)) {
    res.status = 416;
    res.set_header("Content-Range", "bytes */" + std::to_string(size));
    return true;
  }
  return false;
}

// RFC 7233: a last-byte-pos at or past the end means "to the end". httplib 0.11 would promise the
// missing bytes instead (Content-Range past the size), so the fixture clamps first.
void ClampRanges(const httplib::Request& req, uint64_t size) {
  for (auto& [first, last] : const_cast<httplib::Request&>(req).ranges) {
    if (first >= 0 && last >= 0 && static_cast<uint64_t>(last) >= size) {
      last = static_cast<ssize_t>(size) - 1;
    }
  }
}

// Streams a file with pread; httplib cuts the requested Range out of it. When `corrupt_at` is
// set, that byte is flipped on its way out.
void ServeFile(httplib::Response& res, const std::string& path, uint64_t size,
               const std::string& content_type, std::optional<uint64_t> corrupt_at) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) {
    SendError(res, 500, "", "fixture lost " + path);
    return;
  }
  auto shared_fd = std::make_shared<int>(fd);
  res.set_content_provider(
      static_cast<size_t>(size), content_type,
      [shared_fd, corrupt_at](size_t offset, size_t length, httplib::DataSink& sink) {
        std::vector<char> buf(std::min<size_t>(length, 1 << 20));
        ssize_t n = ::pread(*shared_fd, buf.data(), buf.size(), static_cast<off_t>(offset));
        if (n <= 0) return false;
        if (corrupt_at && *corrupt_at >= offset && *corrupt_at < offset + static_cast<size_t>(n)) {
          buf[*corrupt_at - offset] ^= 0x5a;
        }
        return sink.write(buf.data(), static_cast<size_t>(n));
      },
      [shared_fd](bool) { ::close(*shared_fd); });
}

// application/x-www-form-urlencoded pairs, in order.
std::vector<std::pair<std::string, std::string>> ParseForm(const std::string& body) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  while (start < body.size()) {
    size_t amp = body.find('&', start);
    if (amp == std::string::npos) amp = body.size();
    std::string pair = body.substr(start, amp - start);
    for (auto& c : pair) c = c == '+' ? ' ' : c;
    size_t eq = pair.find('=');
    out.emplace_back(UrlDecode(pair.substr(0, eq)),
                     eq == std::string::npos ? "" : UrlDecode(pair.substr(eq + 1)));
    start = amp + 1;
  }
  return out;
}

// A tampered repository's entries: patches merged into the named files, extra entries added.
void ApplyTamper(const Tamper& t, std::vector<json>& entries) {
  for (auto& e : entries) {
    auto it = t.patch.find(e.value("path", ""));
    if (it != t.patch.end()) e.update(json::parse(it->second));
  }
  for (const auto& x : t.extra) entries.push_back(json::parse(x));
}

json LastCommitJson(const CommitRecord& c) {
  return {{"id", c.sha}, {"title", c.title}, {"date", c.date}};
}

}  // namespace

void HubFixture::Impl::RouteHubGet(const httplib::Request& req, httplib::Response& res) {
  std::string path = req.target.substr(0, req.target.find('?'));
  auto segs = SplitRaw(path);
  if (segs.empty()) return SendError(res, 404, "", "not found");
  if (segs[0] == "_fixture") return Control(req, res, JoinDecoded(segs, 1));
  if (segs[0] == "api") {
    if (segs.size() >= 2 && segs[1] == "whoami-v2") {
      Caller c = Identify(req);
      if (!c.user) return SendError(res, 401, "", "Invalid credentials in Authorization header");
      json orgs = json::array();
      for (const auto& o : c.user->orgs) orgs.push_back({{"name", o}});
      return SendJson(res, {{"type", "user"},
                            {"name", c.user->name},
                            {"orgs", orgs},
                            {"auth",
                             {{"type", "access_token"},
                              {"accessToken", {{"role", c.user->write ? "write" : "read"}}}}}});
    }
    auto type = segs.size() >= 4 ? TypeFromPlural(segs[1]) : std::nullopt;
    if (!type) return SendError(res, 404, "", "Not Found");
    RepoPath repo{*type, UrlDecode(segs[2]) + "/" + UrlDecode(segs[3])};
    if (segs.size() == 4) return RepoInfo(req, res, repo, "HEAD");
    std::string rev;
    size_t rest = ParseRevision(segs, 5, &rev);
    if (segs[4] == "revision" && rest == segs.size()) return RepoInfo(req, res, repo, rev);
    if (segs[4] == "tree") {
      std::string raw_path = path;
      return Tree(req, res, repo, rev, JoinDecoded(segs, rest), raw_path);
    }
    return SendError(res, 404, "", "Not Found");
  }
  size_t start = 0;
  std::string type = "model";
  if (segs[0] == "datasets" || segs[0] == "spaces") {
    type = *TypeFromPlural(segs[0]);
    start = 1;
  }
  if (segs.size() < start + 5 || (segs[start + 2] != "resolve" && segs[start + 2] != "raw")) {
    return SendError(res, 404, "", "Not Found");
  }
  RepoPath repo{type, UrlDecode(segs[start]) + "/" + UrlDecode(segs[start + 1])};
  std::string rev;
  size_t rest = ParseRevision(segs, start + 3, &rev);
  Resolve(req, res, repo, rev, JoinDecoded(segs, rest), segs[start + 2] == "raw");
}

void HubFixture::Impl::RepoInfo(const httplib::Request& req, httplib::Response& res,
                                const RepoPath& repo, const std::string& rev) {
  if (!Authorize(Identify(req), repo, Need::kMeta, "", res)) return;
  auto sha = model->Resolve(repo.type, repo.id, rev);
  if (!sha) return SendError(res, 404, "RevisionNotFound", "Invalid rev id: " + rev);
  auto commit = model->Commit(repo.type, repo.id, *sha);
  auto meta = model->Meta(repo.type, repo.id);
  bool blobs = IsTrue(QueryParam(req, "blobs"));
  json siblings = json::array();
  for (const auto& [p, f] : commit->files) {
    json s = {{"rfilename", p}};
    if (blobs) {
      s["size"] = f.size;
      s["blobId"] = f.oid;
      if (f.is_lfs()) {
        s["lfs"] = {{"sha256", f.lfs_sha256}, {"size", f.size}, {"pointerSize", f.pointer_size}};
      }
    }
    siblings.push_back(s);
  }
  json gated = meta->gated.empty() ? json(false) : json(meta->gated);
  json info = {{"_id", crypto::Sha256Hex(repo.type + ":" + repo.id).substr(0, 24)},
               {"id", repo.id},
               {"author", repo.org()},
               {"sha", *sha},
               {"lastModified", commit->date},
               {"createdAt", meta->created_at},
               {"private", meta->is_private},
               {"gated", gated},
               {"disabled", false},
               {"downloads", 0},
               {"likes", 0},
               {"tags", json::array()},
               {"siblings", siblings}};
  if (repo.type == "model") info["modelId"] = repo.id;
  if (repo.type == "space") info["sdk"] = "static";
  SendJson(res, info);
}

void HubFixture::Impl::Tree(const httplib::Request& req, httplib::Response& res,
                            const RepoPath& repo, const std::string& rev, const std::string& path,
                            const std::string& raw_path) {
  if (!Authorize(Identify(req), repo, Need::kMeta, "", res)) return;
  auto sha = model->Resolve(repo.type, repo.id, rev);
  if (!sha) return SendError(res, 404, "RevisionNotFound", "Invalid rev id: " + rev);
  auto commit = model->Commit(repo.type, repo.id, *sha);
  std::string dir = path;
  while (!dir.empty() && dir.back() == '/') dir.pop_back();
  const bool recursive = IsTrue(QueryParam(req, "recursive"));
  const bool expand = IsTrue(QueryParam(req, "expand"));
  auto tree_ids = model->TreeIds(*commit);
  if (!dir.empty() && !tree_ids.count(dir)) {
    return SendError(res, 404, "EntryNotFound", "Entry not found: " + dir + " is not a folder");
  }
  std::string prefix = dir.empty() ? "" : dir + "/";
  std::vector<json> entries;
  auto wanted = [&](const std::string& p) {
    if (p.size() <= prefix.size() || p.compare(0, prefix.size(), prefix) != 0) return false;
    return recursive || p.find('/', prefix.size()) == std::string::npos;
  };
  for (const auto& [p, f] : commit->files) {
    if (!wanted(p)) continue;
    json e = EntryJson(p, f);
    if (expand) {
      e["lastCommit"] = LastCommitJson(*commit);
      e["securityFileStatus"] = {{"status", "safe"}};
    }
    entries.push_back(std::move(e));
  }
  for (const auto& [d, oid] : tree_ids) {
    if (d.empty() || !wanted(d)) continue;
    json e = {{"type", "directory"}, {"oid", oid}, {"size", 0}, {"path", d}};
    if (expand) e["lastCommit"] = LastCommitJson(*commit);
    entries.push_back(std::move(e));
  }
  std::sort(entries.begin(), entries.end(), [](const json& a, const json& b) {
    return a["path"].get<std::string>() < b["path"].get<std::string>();
  });
  const Tamper tamper = TamperFor(repo);
  ApplyTamper(tamper, entries);
  size_t start = 0;
  std::string cursor = QueryParam(req, "cursor");
  if (!cursor.empty()) {
    std::string decoded;
    if (!crypto::Base64Decode(cursor, &decoded) || decoded.rfind("idx:", 0) != 0) {
      return SendError(res, 400, "", "Invalid cursor");
    }
    start = std::stoull(decoded.substr(4));
  }
  size_t page = std::max<size_t>(1, options.tree_page_size);
  size_t end = std::min(entries.size(), start + page);
  json out = json::array();
  for (size_t i = start; i < end; ++i) out.push_back(entries[i]);
  std::string first = HubUrl() + raw_path + "?recursive=" + (recursive ? "true" : "false") +
                      "&expand=" + (expand ? "true" : "false");
  if (tamper.link == "self") {
    res.set_header("Link", "<" + HubUrl() + req.target + ">; rel=\"next\"");
  } else if (end < entries.size()) {
    std::string next =
        first + "&cursor=" + UrlEncodePath(crypto::Base64Encode("idx:" + std::to_string(end)));
    res.set_header("Link", "<" + next + ">; rel=\"next\"");
  } else if (tamper.link == "cycle") {
    res.set_header("Link", "<" + first + ">; rel=\"next\"");
  }
  SendJson(res, out);
}

void HubFixture::Impl::PathsInfo(const httplib::Request& req, httplib::Response& res,
                                 const RepoPath& repo, const std::string& rev) {
  if (!Authorize(Identify(req), repo, Need::kMeta, "", res)) return;
  auto sha = model->Resolve(repo.type, repo.id, rev);
  if (!sha) return SendError(res, 404, "RevisionNotFound", "Invalid rev id: " + rev);
  std::vector<std::string> paths;
  bool expand = false;
  std::string type = req.get_header_value("Content-Type");
  if (type.find("application/json") != std::string::npos) {
    json body = json::parse(req.body, nullptr, false);
    if (!body.is_object()) return SendError(res, 400, "", "body must be JSON");
    for (const auto& p : body.value("paths", json::array())) {
      if (p.is_string()) paths.push_back(p.get<std::string>());
    }
    if (body.contains("expand") && body["expand"].is_boolean()) expand = body["expand"];
  } else {  // huggingface_hub posts a form: paths=a&paths=b&expand=true
    for (const auto& [k, v] : ParseForm(req.body)) {
      if (k == "paths") paths.push_back(v);
      if (k == "expand") expand = IsTrue(v);
    }
  }
  auto commit = model->Commit(repo.type, repo.id, *sha);
  auto tree_ids = model->TreeIds(*commit);
  const Tamper tamper = TamperFor(repo);
  json out = json::array();
  for (std::string p : paths) {
    while (!p.empty() && p.back() == '/') p.pop_back();
    if (auto it = commit->files.find(p); it != commit->files.end()) {
      json e = EntryJson(p, it->second);
      if (expand) {
        e["lastCommit"] = LastCommitJson(*commit);
        e["securityFileStatus"] = {{"status", "safe"}};
      }
      if (auto patch = tamper.patch.find(p); patch != tamper.patch.end()) {
        e.update(json::parse(patch->second));
      }
      out.push_back(e);
    } else if (auto d = tree_ids.find(p); d != tree_ids.end() && !p.empty()) {
      json e = {{"type", "directory"}, {"oid", d->second}, {"size", 0}, {"path", p}};
      if (expand) e["lastCommit"] = LastCommitJson(*commit);
      out.push_back(e);
    }
  }
  for (const auto& x : tamper.extra) out.push_back(json::parse(x));
  SendJson(res, out);
}

void HubFixture::Impl::Resolve(const httplib::Request& req, httplib::Response& res,
                               const RepoPath& repo, const std::string& rev,
                               const std::string& path, bool raw) {
  if (!Authorize(Identify(req), repo, Need::kContent, path, res)) return;
  auto sha = model->Resolve(repo.type, repo.id, rev);
  if (!sha) return SendError(res, 404, "RevisionNotFound", "Invalid rev id: " + rev);
  auto commit = model->Commit(repo.type, repo.id, *sha);
  auto it = commit->files.find(path);
  if (it == commit->files.end()) return SendError(res, 404, "EntryNotFound", "Entry not found");
  const FileRecord& f = it->second;
  res.set_header("X-Repo-Commit", *sha);
  const Tamper tamper = TamperFor(repo);
  if (auto to = tamper.redirect.find(path); to != tamper.redirect.end()) {
    res.set_header("Location", to->second);
    res.status = 302;
    return;
  }
  res.set_header("X-Request-Id", "fixture-" + std::to_string(next_id++));
  if (f.is_lfs() && !raw) {
    std::string location =
        Sign(StorageUrl(), "GET", "/lfs/" + repo.type + "s/" + repo.id + "/" + f.lfs_sha256);
    res.set_header("X-Linked-Etag", "\"" + f.lfs_sha256 + "\"");
    res.set_header("X-Linked-Size", std::to_string(f.size));
    res.set_header("ETag", "\"" + f.oid + "\"");
    res.set_header("Location", location);
    res.status = 302;
    res.set_content("Found. Redirecting to " + location, "text/plain; charset=utf-8");
    return;
  }
  res.set_header("ETag", "\"" + f.oid + "\"");
  res.set_header("Accept-Ranges", "bytes");
  if (f.is_lfs()) {  // raw: the pointer git stores
    res.set_content(storage::hf::LfsPointer(f.lfs_sha256, f.size), "text/plain; charset=utf-8");
    return;
  }
  if (RangeNotSatisfiable(req, res, f.size)) return;
  ClampRanges(req, f.size);
  ServeFile(res, model->ObjectPath(repo.type, repo.id, f.oid), f.size, "application/octet-stream",
            std::nullopt);
}

void HubFixture::Impl::RouteStorageGet(const httplib::Request& req, httplib::Response& res) {
  std::string path = req.target.substr(0, req.target.find('?'));
  auto segs = SplitRaw(path);
  // /lfs/<types>/<org>/<name>/<sha256>
  if (segs.size() != 5 || segs[0] != "lfs" || !TypeFromPlural(segs[1])) {
    return SendError(res, 404, "", "NoSuchKey");
  }
  if (!CheckSignature(req, "GET")) {
    return SendError(res, 403, "", "Request has expired or the signature does not match");
  }
  std::string type = *TypeFromPlural(segs[1]);
  std::string id = UrlDecode(segs[2]) + "/" + UrlDecode(segs[3]);
  std::string sha = segs[4];
  std::string file = model->LfsPath(type, id, sha);
  struct stat st;
  if (!crypto::IsSha256Hex(sha) || ::stat(file.c_str(), &st) != 0) {
    return SendError(res, 404, "", "NoSuchKey");
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (RangeNotSatisfiable(req, res, size)) return;
  ClampRanges(req, size);
  // Corrupt only responses that carry the middle byte, so every corrupted response is wrong.
  std::optional<uint64_t> corrupt_at;
  uint64_t middle = size / 2;
  bool covers = size > 0;
  if (covers && !req.ranges.empty()) {
    auto [first, last] = req.ranges.front();
    uint64_t from = first < 0 ? size - static_cast<uint64_t>(last) : static_cast<uint64_t>(first);
    uint64_t to = (first < 0 || last < 0) ? size - 1 : static_cast<uint64_t>(last);
    covers = middle >= from && middle <= to;
  }
  if (covers && TakeCorruption(sha) > 0) corrupt_at = middle;
  res.set_header("ETag", "\"" + sha + "\"");
  res.set_header("Accept-Ranges", "bytes");
  res.set_header("Content-Disposition", "attachment; filename=\"" + sha + "\"");
  ServeFile(res, file, size, "application/octet-stream", corrupt_at);
}

}  // namespace datacube::testing::hf
