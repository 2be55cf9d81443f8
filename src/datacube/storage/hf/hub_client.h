// HubClient: the Hugging Face Hub HTTP API as plain C++ calls (its wire facts:
// docs/protocols/huggingface.md; how downloads and uploads use it: docs/huggingface.md). Requests,
// retries and URLs are in hub_client.cc; revision, tree and paths-info in hub_tree.cc; preupload
// and LFS batch in hub_lfs_batch.cc; commit and repository creation in hub_commit.cc.
//
//   revision info  GET  /api/{type}s/{repo}/revision/{rev}          -> commit sha
//   tree           GET  /api/{type}s/{repo}/tree/{rev}[/{path}]      paginated by Link rel="next"
//   paths-info     POST /api/{type}s/{repo}/paths-info/{rev}
//   preupload      POST /api/{type}s/{repo}/preupload/{rev}          server picks regular vs LFS
//   LFS batch      POST /{prefix}{repo}.git/info/lfs/objects/batch   basic or multipart upload
//   commit         POST /api/{type}s/{repo}/commit/{rev}             NDJSON
//   create repo    POST /api/repos/create
//
// The token is attached only to requests for the Hub's own origin (scheme, host and port of
// the endpoint): never to an LFS storage host, a CDN, or a pre-signed upload URL, whatever the
// caller passes. Errors are mapped by HubErrorToStatus (hub_errors.h).
//
// Thread-safe: every method may be called from many threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "datacube/base/result.h"
#include "datacube/http/http_transport.h"
#include "datacube/storage/hf/hub_errors.h"
#include "datacube/storage/hf/hub_options.h"

namespace datacube::storage::hf {

struct LfsInfo {
  std::string sha256;  // the LFS oid: SHA-256 of the content, lower-case hex
  uint64_t size = 0;
  uint64_t pointer_size = 0;
};

// One entry of the tree or paths-info API.
struct TreeEntry {
  std::string path;
  bool is_directory = false;
  uint64_t size = 0;  // the real size, also for LFS files
  std::string oid;    // git blob id (of the pointer, for LFS files)
  std::optional<LfsInfo> lfs;
  std::string xet_hash;

  // What huggingface_hub calls the etag and names the cache blob by: the LFS SHA-256, else the
  // git blob id.
  const std::string& etag() const { return lfs ? lfs->sha256 : oid; }
};

struct RepoInfo {
  std::string sha;  // the commit the revision points at
  bool is_private = false;
  std::string gated;  // "", "auto" or "manual"
};

struct PreuploadFile {
  std::string path;
  uint64_t size = 0;
  std::string sample;  // the first 512 bytes (raw; base64-encoded on the wire)
};

struct PreuploadAnswer {
  std::string path;
  bool lfs = false;
  bool should_ignore = false;
  // The remote file's oid at the revision: SHA-256 for LFS files, git blob id otherwise; empty
  // when the file does not exist there.
  std::string remote_oid;
};

struct LfsAction {
  std::string href;
  http::Headers header;
};

// The LFS batch answer for one object.
struct LfsObjectAnswer {
  std::string oid;
  uint64_t size = 0;
  // Absent: the server already has the object, nothing to upload.
  std::optional<LfsAction> upload;
  std::optional<LfsAction> verify;
  // Multipart (HF's own transfer): the part size and the pre-signed URL of each part in order;
  // chunk_size 0 means a single PUT to upload->href.
  uint64_t chunk_size = 0;
  std::vector<std::string> part_urls;
};

struct CommitOperation {
  enum class Kind { kFile, kLfsFile, kDeletedFile, kDeletedFolder };
  Kind kind = Kind::kFile;
  std::string path;
  std::string content;  // kFile: the bytes (base64-encoded on the wire)
  std::string sha256;   // kLfsFile
  uint64_t size = 0;    // kLfsFile
};

struct CommitResult {
  std::string commit_oid;
  std::string commit_url;
  std::string pull_request_url;  // set when the commit opened a pull request
};

// The URLs of the API, for the client and its tests.
std::string EncodeRevision(std::string_view revision);  // quote(rev, safe=""): '/' -> %2F
std::string ResolveUrl(const HubOptions& o, std::string_view revision, std::string_view path);
std::string TreeUrl(const HubOptions& o, std::string_view revision, std::string_view path,
                    bool recursive);

// Parses `Link: <url>; rel="next"`; empty when there is no next page.
std::string NextPageUrl(const http::HttpResponse& response);

class HubClient {
 public:
  HubClient(HubOptions options, std::shared_ptr<http::HttpTransport> transport);

  const HubOptions& options() const { return options_; }
  http::HttpTransport& transport() { return *transport_; }
  bool authenticated() const { return !options_.token.empty(); }

  // True when `url` has the endpoint's scheme, host and port: only such requests get the token.
  bool IsHubUrl(std::string_view url) const;

  ErrorContext Context(std::string action, std::string revision = "", std::string path = "") const;

  // Sends one request: adds user agent and (for Hub URLs only) the token. With `retry`, transport
  // failures, 429 and 5xx are retried per options().retry, 429 after its Retry-After; `sink`
  // must then be null (bodies are captured in the response). Without `retry`, a 429 still waits
  // out its Retry-After before returning, so the caller's own retry does not hammer the Hub.
  // Returns the response whatever its status; transport failures are Status values.
  Result<http::HttpResponse> Send(http::HttpRequest request, std::string_view body,
                                  io::ByteSink* sink, bool retry);

  // Send with retries, then maps any non-2xx status through HubErrorToStatus(context).
  Result<http::HttpResponse> Call(http::HttpRequest request, std::string_view body,
                                  const ErrorContext& context);

  Result<RepoInfo> GetRepoInfo(const std::string& revision);
  // Every entry below `path` ("" = the whole repo) at `revision`, page after page.
  Status ListTree(const std::string& revision, const std::string& path, bool recursive,
                  const std::function<Status(TreeEntry)>& fn);
  // Entries for exactly these paths (missing paths are simply absent from the answer).
  Result<std::vector<TreeEntry>> PathsInfo(const std::string& revision,
                                           const std::vector<std::string>& paths);
  // Asks the server how each file must be uploaded (at most 256 per call, the Hub's limit).
  Result<std::vector<PreuploadAnswer>> Preupload(const std::string& revision,
                                                 const std::vector<PreuploadFile>& files,
                                                 bool create_pr);
  // LFS batch "upload" for (sha256, size) pairs (at most 256 per call).
  Result<std::vector<LfsObjectAnswer>> LfsBatchUpload(
      const std::string& revision, const std::vector<std::pair<std::string, uint64_t>>& objects,
      bool create_pr);
  // One atomic commit. `parent_commit` (optional) makes it fail if the branch moved.
  Result<CommitResult> Commit(const std::string& revision, const std::string& summary,
                              const std::string& description, const std::string& parent_commit,
                              const std::vector<CommitOperation>& operations, bool create_pr);
  // Creates the repository; an existing one is fine when `exist_ok`.
  Status CreateRepo(bool private_repo, bool exist_ok);

 private:
  std::string ApiRepoUrl() const;  // {endpoint}/api/{type}s/{repo}

  const HubOptions options_;
  const std::shared_ptr<http::HttpTransport> transport_;
  http::UrlParts hub_origin_;  // constant after construction
};

// The NDJSON body of a commit (exposed for tests): a header line, then one line per operation,
// each terminated by '\n'.
std::string BuildCommitPayload(const std::string& summary, const std::string& description,
                               const std::string& parent_commit,
                               const std::vector<CommitOperation>& operations);

}  // namespace datacube::storage::hf
