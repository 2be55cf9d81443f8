// The read side of the Hub API: revision info, the tree listing and paths-info. Listings are
// untrusted: every entry is checked before anyone sees it (docs/huggingface.md, Download).
#include <algorithm>
#include <set>

#include "datacube/storage/hf/git_oid.h"
#include "datacube/storage/hf/hub_client.h"
#include "datacube/storage/hf/hub_json.h"
#include "datacube/storage/object_store.h"

namespace datacube::storage::hf {
namespace {

using hub_json::json;
using hub_json::kMaxPerRequest;
using hub_json::ParseJson;
using hub_json::Str;

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

// A tree page URL is followed once (a page linking to itself or to an earlier one would loop),
// and only so many pages.
Status CheckPageUrl(const HubOptions& o, size_t page, const std::string& url,
                    std::set<std::string>& seen) {
  if (!seen.insert(url).second) {
    return BadListing("page " + std::to_string(page) + " of " + o.repo.Display() +
                      " links back to an earlier page (" + UrlForMessage(url) + ")");
  }
  if (page > o.max_listing_pages) {
    return BadListing("the tree of " + o.repo.Display() + " does not end (more than " +
                      std::to_string(o.max_listing_pages) + " pages)");
  }
  return Status();
}

// Checks the entries of one tree page of the folder `dir` and hands them to `fn`; `entries`
// counts them across pages.
Status EmitTreePage(const HubOptions& o, const json& j, const std::string& dir, size_t& entries,
                    const std::function<Status(TreeEntry)>& fn) {
  if (!j.is_array()) return BadListing("the tree page is not a JSON array");
  for (const auto& item : j) {
    DC_ASSIGN_OR_RETURN(TreeEntry e, ParseEntry(item));
    if (!Beneath(e.path, dir)) {
      return BadListing("\"" + e.path + "\" is not inside the folder \"" + dir +
                        "\" that was listed");
    }
    if (++entries > o.max_listing_entries) {
      return BadListing("the tree of " + o.repo.Display() + " does not end (more than " +
                        std::to_string(o.max_listing_entries) + " entries)");
    }
    DC_RETURN_IF_ERROR(fn(std::move(e)));
  }
  return Status();
}

// The link from a page to the next one: never from an empty page, never to another host.
Status CheckNextLink(const HubClient& client, size_t page, bool page_empty,
                     const std::string& url) {
  const HubOptions& o = client.options();
  if (page_empty) {
    return BadListing("page " + std::to_string(page) + " of the tree of " + o.repo.Display() +
                      " is empty but links to another page");
  }
  if (!client.IsHubUrl(url)) {
    return BadListing("page " + std::to_string(page) + " of the tree of " + o.repo.Display() +
                      " links to another host (" + UrlForMessage(url) + ")");
  }
  return Status();
}

}  // namespace

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
    DC_RETURN_IF_ERROR(CheckPageUrl(options_, page, url, seen));
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
    DC_RETURN_IF_ERROR(EmitTreePage(options_, j, dir, entries, fn));
    url = NextPageUrl(*r);
    if (url.empty()) break;
    DC_RETURN_IF_ERROR(CheckNextLink(*this, page, j.empty(), url));
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

}  // namespace datacube::storage::hf
