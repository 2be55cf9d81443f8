// LocalStore: a directory on a local file system (and a PVC as mounted inside a pod) as an
// ObjectStore. Keys map to paths below the root; a key that would resolve outside the root
// ("..", an absolute key, a symlink pointing out) is refused with kInvalidArgument and nothing is
// written, read, listed or deleted there. Every operation resolves its path beneath an open
// descriptor of the root (io/beneath.h), and creates, renames and unlinks relative to the
// descriptor of the directory it resolved, so a symbolic link planted in the tree — before or
// during a run — cannot redirect it.
//
// Listings report symbolic links that do not lead to a regular file beneath the root, special
// files and pseudo-files with an untrustworthy size in ListPage::skipped instead of dropping them.
//
// Writes follow io/atomic_file_writer.cc: a finished file appears at its final path whole or not
// at all. Multipart uploads write parts at their offsets into one hidden temporary file and keep
// a journal beside it, so an interrupted copy resumes from its completed parts (see
// local_multipart.cc).
//
// The SHA-256 of every file this store writes is cached in the extended attribute
// "user.datacube.sha256" together with the size and mtime it belongs to; Stat and List report it
// while the file is unchanged. File systems without user xattrs simply report no hash.
//
// Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "datacube/io/file.h"
#include "datacube/storage/object_store.h"

namespace datacube::storage {

struct LocalStoreOptions {
  // Directory that keys are relative to.
  std::string root;
  // When set, `root` is a relative path inside this directory and is resolved beneath it like a
  // key: no "..", no absolute path, no NUL, no symbolic link leading out of `jail` (nor, with
  // create_root, a directory created outside it). pvc:// stores are jailed in the PVC root, so a
  // subpath from an untrusted spec cannot leave the volumes.
  std::string jail;
  // Create the root (and parents) when it does not exist; otherwise a missing root is kNotFound.
  bool create_root = false;
  // How much part data may be written between resume checkpoints (fdatasync + journal append).
  // Larger is faster; smaller loses less work to a crash.
  uint64_t checkpoint_bytes = 64ull << 20;
  // Prefix for UrlFor(), e.g. "pvc://models" instead of the mount path.
  std::string display_prefix;
  // Group commit of deferred Puts (WriteOptions::defer_visibility): publish when this many files
  // or bytes are pending. One syncfs per batch replaces one fsync per file.
  size_t group_commit_files = 512;
  uint64_t group_commit_bytes = 128ull << 20;
};

class LocalStore final : public ObjectStore {
 public:
  static Result<std::shared_ptr<LocalStore>> Open(LocalStoreOptions options);

  Capabilities capabilities() const override;
  std::string UrlFor(std::string_view key) const override;
  Result<ObjectInfo> Stat(std::string_view key) override;
  Result<ListPage> List(const ListRequest& request) override;
  Status Read(std::string_view key, ByteRange range, io::ByteSink& sink,
              const ReadOptions& options) override;
  Result<ObjectInfo> Put(std::string_view key, io::ByteSource& data,
                         const WriteOptions& options) override;
  Result<std::unique_ptr<MultipartUpload>> StartMultipart(std::string_view key,
                                                          const MultipartOptions& options) override;
  Status Delete(std::string_view key) override;
  Result<ObjectInfo> CopyWithin(std::string_view src_key, std::string_view dst_key) override;
  Status Flush() override;
  // Hidden temporary files and journals below `prefix` unchanged since before this store was
  // opened (a concurrent writer's fresh ones stay). Links are not followed.
  Result<uint64_t> RemoveStaleTemporaries(std::string_view prefix) override;
  ~LocalStore() override;

  // The real path of the root (for messages and tools that take paths).
  const std::string& root() const { return root_; }

  // Opens `key` with open(2) `flags`, refusing any resolution outside the root.
  Result<io::File> OpenForRead(std::string_view key, int flags) const;
  // The directory that will hold `key`, resolved beneath the root with missing directories
  // created there, and the file name inside it.
  struct ParentDir {
    std::shared_ptr<const io::File> dir;
    std::string name;
  };
  Result<ParentDir> OpenParentForWrite(std::string_view key) const;
  // Stats the entry `name` of `dir` (never following a link) as the object `key`.
  Result<ObjectInfo> StatAt(const io::File& dir, const std::string& name, std::string key) const;
  const LocalStoreOptions& options() const { return options_; }
  // CLOCK_REALTIME when the store was opened: temporary files unchanged since before then belong
  // to no write of this store.
  int64_t opened_at_ns() const { return opened_at_ns_; }
  // File system timestamps come from a coarse clock that lags CLOCK_REALTIME by up to a tick:
  // only files older than opened_at_ns() by this margin are surely not a live writer's.
  static constexpr int64_t kStaleMarginNs = 100'000'000;

 private:
  LocalStore(LocalStoreOptions options, std::string root_real, io::File root_fd);

  // Removes hidden temporary files in `dir` (the directory of `dir_key`) that a killed earlier
  // run left behind: unchanged since before this store was opened and without a resume journal.
  // Once per directory.
  void SweepStaleTemps(const io::File& dir, const std::string& dir_key) const;

  // A written, synced-later temporary file waiting to be renamed to its final name.
  struct PendingPublish {
    std::shared_ptr<const io::File> dir;
    std::string temp_name;
    std::string final_name;
    uint64_t size;
  };
  // Queues a deferred Put; publishes the batch when it is full.
  Status EnqueuePublish(PendingPublish pending);

  const LocalStoreOptions options_;
  const std::string root_;  // realpath of options_.root, constant after construction
  const io::File root_fd_;  // O_PATH descriptor of root_ (path: root_), the anchor of every open

  const int64_t opened_at_ns_;   // CLOCK_REALTIME when the store was opened
  mutable std::mutex sweep_mu_;  // held while a directory is swept, so our own writes wait
  mutable std::unordered_set<std::string> swept_dirs_;  // guarded by sweep_mu_

  std::mutex publish_mu_;                // guards the two members below
  std::vector<PendingPublish> pending_;  // written, not yet durable or visible
  uint64_t pending_bytes_ = 0;
  std::mutex flush_mu_;  // one batch is published at a time
};

// Records `sha256` for the file at `path` (an open descriptor `fd`) in its xattr cache entry.
// Best effort: file systems without user xattrs are ignored.
void CacheSha256(int fd, const std::string& sha256, uint64_t size, int64_t mtime_ns);

}  // namespace datacube::storage
