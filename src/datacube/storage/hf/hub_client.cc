#include "datacube/storage/hf/hub_client.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "datacube/base/cancel.h"
#include "datacube/base/log.h"
#include "datacube/crypto/sha256.h"
#include "datacube/storage/hf/git_oid.h"
#include "datacube/storage/object_store.h"

namespace datacube::storage::hf {
namespace {

using nlohmann::json;

// The Hub's per-request limits (huggingface_hub UPLOAD_BATCH_MAX_NUM_FILES and the preupload
// chunk size): larger requests are refused, so callers batch.
constexpr size_t kMaxPerRequest = 256;

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

uint64_t U64(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return 0;
  if (it->is_number_unsigned()) return it->get<uint64_t>();
  if (it->is_number_integer())
    return static_cast<uint64_t>(std::max<int64_t>(0, it->get<int64_t>()));
  if (it->is_string()) {
    try {
      return std::stoull(it->get<std::string>());
    } catch (...) {
    }
  }
  return 0;
}

Result<json> ParseJson(const http::HttpResponse& r, const std::string& what) {
  json j = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return UnavailableError(what + ": the Hub answered with malformed JSON (HTTP " +
                            std::to_string(r.status) + ")");
  }
  return j;
}

// A listing the Hub should never send (malformed sizes or oids, paths that escape, pages that
// loop). Not transient, so not retried, and not a checksum failure: the server's answer is wrong.
Status BadListing(const std::string& what) {
  return FailedPreconditionError("refusing the Hub's listing: " + what);
}

// A JSON value shown in a message: compact, control characters escaped by dump(), cut short.
std::string Shown(const json& v) {
  std::string s = v.dump(-1, ' ', true, json::error_handler_t::replace);
  return s.size() > 40 ? s.substr(0, 40) + "..." : s;
}

// Sizes beyond this are lies (the Hub caps files far below it), and offset arithmetic on them
// could overflow.
constexpr uint64_t kMaxFileSize = uint64_t{1} << 50;  // 1 PiB

// A byte count: a JSON unsigned integer, nothing else (no negative, fractional, string or
// out-of-range value read as 0).
Result<uint64_t> SizeField(const json& j, const char* key, const std::string& path) {
  auto it = j.find(key);
  if (it == j.end()) return BadListing("\"" + path + "\" has no \"" + key + "\"");
  if (!it->is_number_unsigned() || it->get<uint64_t>() > kMaxFileSize) {
    return BadListing("\"" + path + "\" has a malformed " + key + " " + Shown(*it) +
                      " (expected a byte count)");
  }
  return it->get<uint64_t>();
}

Result<TreeEntry> ParseEntry(const json& j) {
  if (!j.is_object()) return BadListing("an entry is not a JSON object");
  TreeEntry e;
  auto path = j.find("path");
  if (path == j.end() || !path->is_string()) return BadListing("an entry has no path");
  e.path = path->get<std::string>();
  // First, so that every later message names a path that is safe to print.
  if (Status safe = ValidateRelativeKey(e.path); !safe.ok()) {
    return BadListing(std::string(safe.message()));
  }
  std::string type = Str(j, "type");
  if (type != "file" && type != "directory") {
    return BadListing("\"" + e.path + "\" has the unknown type " + Shown(j.value("type", json())));
  }
  e.is_directory = type == "directory";
  e.oid = Str(j, "oid");
  e.xet_hash = Str(j, "xetHash");
  if (e.is_directory) return e;  // a directory's size and tree id are not used

  DC_ASSIGN_OR_RETURN(e.size, SizeField(j, "size", e.path));
  // The git blob id names the cache blob and verifies regular files: anything but 40 hex
  // digits could alias another file's blob or skip the check.
  if (!IsGitOid(e.oid)) {
    return BadListing("\"" + e.path + "\" has the malformed git blob id " +
                      Shown(j.value("oid", json())) + " (expected 40 lower-case hex digits)");
  }
  auto lfs = j.find("lfs");
  if (lfs != j.end() && !lfs->is_null()) {
    if (!lfs->is_object()) return BadListing("\"" + e.path + "\" has a malformed \"lfs\"");
    LfsInfo info;
    // The tree API names the hash "oid"; the older siblings format "sha256".
    info.sha256 = Str(*lfs, "oid");
    if (info.sha256.empty()) info.sha256 = Str(*lfs, "sha256");
    if (!IsLfsOid(info.sha256)) {
      return BadListing("\"" + e.path + "\" has the malformed LFS oid " +
                        Shown(lfs->value("oid", lfs->value("sha256", json()))) +
                        " (expected 64 lower-case hex digits)");
    }
    DC_ASSIGN_OR_RETURN(info.size, SizeField(*lfs, "size", e.path));
    if (info.size != e.size) {
      return BadListing("\"" + e.path + "\" has size " + std::to_string(e.size) +
                        " but its LFS object " + std::to_string(info.size));
    }
    if (lfs->contains("pointerSize")) {
      DC_ASSIGN_OR_RETURN(info.pointer_size, SizeField(*lfs, "pointerSize", e.path));
    }
    e.lfs = info;
  }
  return e;
}

// True when `path` lies below `dir` ("" = the whole repository).
bool Beneath(const std::string& path, const std::string& dir) {
  return dir.empty() || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                         path[dir.size()] == '/');
}

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

bool SameOrigin(const http::UrlParts& a, const http::UrlParts& b) {
  auto port = [](const http::UrlParts& u) {
    return u.port != 0 ? u.port : (u.scheme == "https" ? 443 : 80);
  };
  return a.scheme == b.scheme && a.host == b.host && port(a) == port(b);
}

}  // namespace

std::string EncodeRevision(std::string_view revision) {
  return PercentEncode(revision, /*keep_slash=*/false);
}

std::string ResolveUrl(const HubOptions& o, std::string_view revision, std::string_view path) {
  return o.endpoint + "/" + std::string(RepoTypeUrlPrefix(o.repo.type)) + o.repo.id + "/resolve/" +
         EncodeRevision(revision) + "/" + PercentEncode(path, /*keep_slash=*/true);
}

std::string TreeUrl(const HubOptions& o, std::string_view revision, std::string_view path,
                    bool recursive) {
  std::string url = o.endpoint + "/api/" + std::string(RepoTypePlural(o.repo.type)) + "/" +
                    o.repo.id + "/tree/" + EncodeRevision(revision);
  if (!path.empty()) url += "/" + PercentEncode(path, /*keep_slash=*/true);
  url += recursive ? "?recursive=true&expand=false" : "?recursive=false&expand=false";
  return url;
}

std::string NextPageUrl(const http::HttpResponse& response) {
  for (const auto& [name, value] : response.headers) {
    if (name != "link") continue;
    // A Link header may hold several comma-separated links: <url>; rel="next", <url>; rel="prev"
    size_t pos = 0;
    while ((pos = value.find('<', pos)) != std::string::npos) {
      size_t close = value.find('>', pos);
      if (close == std::string::npos) break;
      size_t next_link = value.find('<', close);
      std::string_view params(
          value.data() + close + 1,
          (next_link == std::string::npos ? value.size() : next_link) - close - 1);
      if (params.find("rel=\"next\"") != std::string_view::npos ||
          params.find("rel=next") != std::string_view::npos) {
        return value.substr(pos + 1, close - pos - 1);
      }
      pos = close;
    }
  }
  return "";
}

HubClient::HubClient(HubOptions options, std::shared_ptr<http::HttpTransport> transport)
    : options_(std::move(options)), transport_(std::move(transport)) {
  http::ParseUrl(options_.endpoint, &hub_origin_);
}

bool HubClient::IsHubUrl(std::string_view url) const {
  http::UrlParts parts;
  return http::ParseUrl(url, &parts) && SameOrigin(parts, hub_origin_);
}

ErrorContext HubClient::Context(std::string action, std::string revision, std::string path) const {
  ErrorContext c;
  c.action = std::move(action);
  c.endpoint = options_.endpoint;
  c.repo = options_.repo;
  c.revision = std::move(revision);
  c.path = std::move(path);
  c.authenticated = authenticated();
  c.token_source = options_.token_source;
  return c;
}

std::string HubClient::ApiRepoUrl() const {
  return options_.endpoint + "/api/" + std::string(RepoTypePlural(options_.repo.type)) + "/" +
         options_.repo.id;
}

Result<http::HttpResponse> HubClient::Send(http::HttpRequest request, std::string_view body,
                                           io::ByteSink* sink, bool retry) {
  // Whatever headers the caller built, credentials go only to the Hub itself.
  std::erase_if(request.headers, [](const auto& h) {
    std::string lower = h.first;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return lower == "authorization";
  });
  if (authenticated() && IsHubUrl(request.url)) {
    request.headers.emplace_back("authorization", "Bearer " + options_.token.reveal());
  }
  if (!body.empty() || request.method == "POST" || request.method == "PUT") {
    request.content_length = body.size();
  }
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> dist(0.0, 1.0);
  const int attempts = retry ? std::max(1, options_.retry.max_attempts) : 1;
  const std::stop_token stop = CurrentStopToken();
  for (int attempt = 1;; ++attempt) {
    io::SpanSource source(body);
    auto response = transport_->Send(request, request.content_length ? &source : nullptr,
                                     retry ? nullptr : sink);
    std::optional<std::chrono::milliseconds> wait;
    if (!response.ok()) {
      if (!retry || attempt >= attempts || !IsRetryable(response.status())) return response;
    } else if (response->status == 429) {
      wait = RetryAfter(*response);
      if (wait && *wait > options_.max_retry_after) return response;  // mapped by the caller
      if (!retry || attempt >= attempts) {
        if (wait && !SleepFor(*wait, stop)) return CancelledError("cancelled while rate limited");
        return response;
      }
    } else if (response->status >= 500 && retry && attempt < attempts) {
      // retried below
    } else {
      return response;
    }
    std::chrono::milliseconds delay =
        wait ? *wait : BackoffForAttempt(options_.retry, attempt, dist(rng));
    LogDebug("retrying " + request.method + " " + UrlForMessage(request.url) + " in " +
             std::to_string(delay.count()) + " ms");
    if (!SleepFor(delay, stop)) return CancelledError("cancelled during retry backoff");
  }
}

Result<http::HttpResponse> HubClient::Call(http::HttpRequest request, std::string_view body,
                                           const ErrorContext& context) {
  ErrorContext c = context;
  c.url = request.url;
  DC_ASSIGN_OR_RETURN(http::HttpResponse r, Send(std::move(request), body, nullptr, true));
  DC_RETURN_IF_ERROR(HubErrorToStatus(r, c));
  return r;
}

Result<RepoInfo> HubClient::GetRepoInfo(const std::string& revision) {
  http::HttpRequest req;
  req.url = ApiRepoUrl() + "/revision/" + EncodeRevision(revision);
  req.headers = {{"accept", "application/json"}};
  DC_ASSIGN_OR_RETURN(http::HttpResponse r, Call(req, "", Context("resolving", revision)));
  DC_ASSIGN_OR_RETURN(json j, ParseJson(r, "repository info of " + options_.repo.Display()));
  RepoInfo info;
  info.sha = Str(j, "sha");
  if (!IsGitOid(info.sha)) {
    return UnavailableError("the Hub did not return a commit for " + options_.repo.Display() +
                            " at revision \"" + revision + "\"");
  }
  auto priv = j.find("private");
  info.is_private = priv != j.end() && priv->is_boolean() && priv->get<bool>();
  auto gated = j.find("gated");
  if (gated != j.end() && gated->is_string()) info.gated = gated->get<std::string>();
  return info;
}

Status HubClient::ListTree(const std::string& revision, const std::string& path, bool recursive,
                           const std::function<Status(TreeEntry)>& fn) {
  std::string url = TreeUrl(options_, revision, path, recursive);
  std::string dir = path;
  while (!dir.empty() && dir.back() == '/') dir.pop_back();
  ErrorContext ctx = Context("listing", revision, path);
  // A server can make a listing endless: a page linking to itself or to an earlier page, empty
  // pages linking on, or new entries forever. Every URL is followed once, and pages and
  // entries are bounded.
  std::set<std::string> seen;
  size_t entries = 0;
  for (size_t page = 1; !url.empty(); ++page) {
    if (!seen.insert(url).second) {
      return BadListing("page " + std::to_string(page) + " of " + options_.repo.Display() +
                        " links back to an earlier page (" + UrlForMessage(url) + ")");
    }
    if (page > options_.max_listing_pages) {
      return BadListing("the tree of " + options_.repo.Display() + " does not end (more than " +
                        std::to_string(options_.max_listing_pages) + " pages)");
    }
    http::HttpRequest req;
    req.url = url;
    req.headers = {{"accept", "application/json"}};
    auto r = Call(req, "", ctx);
    if (!r.ok()) {
      // A missing folder answers EntryNotFound: an empty listing, as for any prefix.
      if (page == 1 && r.status().code() == StatusCode::kNotFound && !path.empty() &&
          std::string(r.status().message()).find("file \"") != std::string::npos) {
        return Status();
      }
      return r.status();
    }
    DC_ASSIGN_OR_RETURN(json j, ParseJson(*r, "tree of " + options_.repo.Display()));
    if (!j.is_array()) return BadListing("the tree page is not a JSON array");
    for (const auto& item : j) {
      DC_ASSIGN_OR_RETURN(TreeEntry e, ParseEntry(item));
      if (!Beneath(e.path, dir)) {
        return BadListing("\"" + e.path + "\" is not inside the folder \"" + dir +
                          "\" that was listed");
      }
      if (++entries > options_.max_listing_entries) {
        return BadListing("the tree of " + options_.repo.Display() + " does not end (more than " +
                          std::to_string(options_.max_listing_entries) + " entries)");
      }
      DC_RETURN_IF_ERROR(fn(std::move(e)));
    }
    url = NextPageUrl(*r);
    if (url.empty()) break;
    if (j.empty()) {
      return BadListing("page " + std::to_string(page) + " of the tree of " +
                        options_.repo.Display() + " is empty but links to another page");
    }
    if (!IsHubUrl(url)) {
      return BadListing("page " + std::to_string(page) + " of the tree of " +
                        options_.repo.Display() + " links to another host (" + UrlForMessage(url) +
                        ")");
    }
  }
  return Status();
}

Result<std::vector<TreeEntry>> HubClient::PathsInfo(const std::string& revision,
                                                    const std::vector<std::string>& paths) {
  std::vector<TreeEntry> out;
  for (size_t start = 0; start < paths.size(); start += kMaxPerRequest) {
    size_t end = std::min(paths.size(), start + kMaxPerRequest);
    json body = {{"paths", json::array()}, {"expand", false}};
    for (size_t i = start; i < end; ++i) body["paths"].push_back(paths[i]);
    http::HttpRequest req;
    req.method = "POST";
    req.url = ApiRepoUrl() + "/paths-info/" + EncodeRevision(revision);
    req.headers = {{"accept", "application/json"}, {"content-type", "application/json"}};
    DC_ASSIGN_OR_RETURN(http::HttpResponse r,
                        Call(req, body.dump(), Context("reading file info of", revision)));
    DC_ASSIGN_OR_RETURN(json j, ParseJson(r, "paths-info of " + options_.repo.Display()));
    if (!j.is_array()) return BadListing("the paths-info answer is not a JSON array");
    const std::set<std::string> asked(paths.begin() + start, paths.begin() + end);
    for (const auto& item : j) {
      DC_ASSIGN_OR_RETURN(TreeEntry e, ParseEntry(item));
      if (!asked.count(e.path)) {
        return BadListing("the paths-info answer names \"" + e.path +
                          "\", which was not asked for");
      }
      out.push_back(std::move(e));
    }
  }
  return out;
}

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
    json body = {{"operation", "upload"},
                 {"transfers", {"basic", "multipart"}},
                 {"hash_algo", "sha256"},
                 {"objects", json::array()}};
    // A pull request's ref does not exist yet; huggingface.js omits it then.
    if (!create_pr) body["ref"] = {{"name", revision}};
    for (size_t i = start; i < end; ++i) {
      body["objects"].push_back({{"oid", objects[i].first}, {"size", objects[i].second}});
    }
    http::HttpRequest req;
    req.method = "POST";
    req.url = options_.endpoint + "/" + std::string(RepoTypeUrlPrefix(options_.repo.type)) +
              options_.repo.id + ".git/info/lfs/objects/batch";
    req.headers = {{"accept", "application/vnd.git-lfs+json"},
                   {"content-type", "application/vnd.git-lfs+json"}};
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
      auto actions = o.find("actions");
      if (actions != o.end() && actions->is_object()) {
        for (const char* name : {"upload", "verify"}) {
          auto act = actions->find(name);
          if (act == actions->end() || !act->is_object()) continue;
          LfsAction action{Str(*act, "href"), {}};
          auto header = act->find("header");
          if (header != act->end()) action.header = JsonHeaders(*header);
          (std::string_view(name) == "upload" ? a.upload : a.verify) = std::move(action);
        }
      }
      if (a.upload) {
        std::string chunk = HeaderValue(a.upload->header, "chunk_size");
        if (!chunk.empty()) {
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
        }
      }
      out.push_back(std::move(a));
    }
  }
  return out;
}

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
