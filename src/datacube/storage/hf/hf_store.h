// HfStore: a Hugging Face repository at one revision as an ObjectStore (keys = paths in the repo).
//
// Reads are pinned: Open resolves the revision to a commit sha once, and every listing and every
// byte comes from that commit, so a branch that moves mid-transfer cannot mix two versions.
//   List   the tree API (recursive, all pages), cached per directory for the store's lifetime
//   Stat   the cached listing, else paths-info
//   Read   GET /resolve/<commit>/<path> with Range. A regular file comes straight from the Hub;
//          an LFS file answers 302 to a storage host: the redirect is followed here, *without*
//          the token (pre-signed URL), and its target cached so later parts of the same file
//          go straight to storage. A full read of a regular file is checked against its git blob
//          id (kDataLoss on mismatch); LFS files carry their SHA-256 in ObjectInfo::sha256, which
//          the engine checks while the bytes move.
// Writes are commits: Put uploads one file (preupload decides regular or LFS, LFS bytes go
// through the batch API) and commits it; Delete commits a deletion. That is one commit per file:
// right for single files and for the conformance suite; whole directories go through the upload
// entry point, which batches many files per commit (docs/huggingface.md, Upload).
//
// Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "datacube/storage/hf/hub_client.h"
#include "datacube/storage/object_store.h"

namespace datacube::storage::hf {

struct HfStoreOptions {
  HubOptions hub;
  // Null: a libcurl transport built from hub.transport.
  std::shared_ptr<http::HttpTransport> transport;
  // Resolve the revision at Open (reading). False for a store that will create the repository
  // or its first commit; reads then resolve lazily.
  bool pin_at_open = true;
  // When non-empty, List shows only these paths (the DataCube `files` option).
  std::vector<std::string> only_files;
  // Commit message of Put and Delete; default "Upload <key> with datacube".
  std::string commit_message;
};

class HfStore final : public ObjectStore {
 public:
  static Result<std::shared_ptr<HfStore>> Open(HfStoreOptions options);

  // The commit reads come from ("" before the first resolution of an unpinned store).
  std::string commit() const;
  HubClient& client() { return *client_; }
  const HubOptions& hub() const { return client_->options(); }

  Capabilities capabilities() const override;
  std::string UrlFor(std::string_view key) const override;
  Result<ObjectInfo> Stat(std::string_view key) override;
  Result<ListPage> List(const ListRequest& request) override;
  Status Read(std::string_view key, ByteRange range, io::ByteSink& sink,
              const ReadOptions& options) override;
  Result<ObjectInfo> Put(std::string_view key, io::ByteSource& data,
                         const WriteOptions& options) override;
  Status Delete(std::string_view key) override;

  // Every file entry below `dir` ("" = whole repo), sorted by path, from the pinned commit.
  Result<std::shared_ptr<const std::vector<TreeEntry>>> Files(const std::string& dir);

 private:
  explicit HfStore(HfStoreOptions options, std::shared_ptr<HubClient> client);

  Result<std::string> PinnedCommit();
  // Known entry for `key` from a cached listing, if any.
  std::optional<TreeEntry> Known(std::string_view key);
  // After our own commit: reads move to it and cached listings are dropped.
  void AdvanceTo(const std::string& commit);
  // One attempt at a read (hf_read.cc). Sets *retry_resolve when a cached storage URL expired,
  // so that the caller resolves it again through the Hub.
  Status ReadOnce(const std::string& key, ByteRange range, io::ByteSink& sink,
                  const std::optional<TreeEntry>& entry, bool* retry_resolve);
  // The storage URL `key` last redirected to, while it is fresh; "" otherwise.
  std::string CachedRedirect(const std::string& key);
  // Follows a 3xx answer for `key`: *url becomes its target, which is cached (and *cached set)
  // when it leads to a storage host.
  Status FollowRedirect(const std::string& key, const http::HttpResponse& response,
                        std::string* url, bool* cached);
  // The Status of a read answered neither 2xx nor 3xx from `url`.
  Status ReadFailure(const std::string& key, const http::HttpResponse& response,
                     const std::string& url, bool cached, const ErrorContext& ctx,
                     bool* retry_resolve);

  struct Redirect {
    std::string url;
    std::chrono::steady_clock::time_point when;
  };

  const HfStoreOptions options_;
  const std::shared_ptr<HubClient> client_;
  const std::set<std::string> only_;  // constant after construction

  mutable std::mutex mu_;
  std::string commit_;  // guarded by mu_
  // Full recursive listings by directory ("" = root).
  std::map<std::string, std::shared_ptr<const std::vector<TreeEntry>>> listings_;  // mu_
  // Entries learnt one by one through paths-info (Stat), for reads outside any listing.
  std::map<std::string, TreeEntry, std::less<>> stats_;     // guarded by mu_
  std::map<std::string, Redirect, std::less<>> redirects_;  // guarded by mu_
  std::mutex write_mu_;                                     // serialises commits from this store
};

// An ObjectInfo for a tree entry (etag = LFS SHA-256 or git blob id; sha256 for LFS files).
ObjectInfo ObjectInfoFor(const TreeEntry& entry);

}  // namespace datacube::storage::hf
