// LocalStore: a directory on a local file system (and a PVC as mounted inside a pod) as an
// ObjectStore. Keys map to paths below the root; a key that would resolve outside the root
// ("..", an absolute key, a symlink pointing out) is refused with kInvalidArgument and nothing is
// written.
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
#include <unordered_set>
#include <string>
#include <vector>

#include "datacube/io/file.h"
#include "datacube/storage/object_store.h"

namespace datacube::storage {

struct LocalStoreOptions {
  // Directory that keys are relative to.
  std::string root;
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
  Result<std::unique_ptr<MultipartUpload>> StartMultipart(
      std::string_view key, const MultipartOptions& options) override;
  Status Delete(std::string_view key) override;
  Result<ObjectInfo> CopyWithin(std::string_view src_key, std::string_view dst_key) override;
  Status Flush() override;
  ~LocalStore() override;

  const std::string& root() const { return root_; }

  // Resolves `key` to a path for reading; refuses escapes (realpath check). Used where openat2
  // is unavailable.
  Result<std::string> PathForRead(std::string_view key) const;
  // Opens `key` with open(2) `flags`, refusing any resolution outside the root.
  Result<io::File> OpenForRead(std::string_view key, int flags) const;
  // Resolves `key` to a path for writing, creating parent directories inside the root.
  Result<std::string> PathForWrite(std::string_view key) const;
  // Stats an existing path as an object with `key`.
  Result<ObjectInfo> StatPath(const std::string& path, std::string key) const;
  const LocalStoreOptions& options() const { return options_; }

 private:
  LocalStore(LocalStoreOptions options, std::string root_real, io::File root_fd);

  bool Inside(const std::string& real_path) const;
  // Removes hidden temporary files in `dir` that a killed earlier run left behind: unchanged
  // since before this store was opened and without a resume journal. Once per directory.
  void SweepStaleTemps(const std::string& dir) const;

  // A written, synced-later temporary file waiting to be renamed to its final path.
  struct PendingPublish {
    std::string temp_path;
    std::string final_path;
    uint64_t size;
  };
  // Queues a deferred Put; publishes the batch when it is full.
  Status EnqueuePublish(PendingPublish pending);

  const LocalStoreOptions options_;
  const std::string root_;  // realpath of options_.root, constant after construction
  const io::File root_fd_;  // O_PATH descriptor of root_, the anchor of every openat2

  mutable std::mutex dirs_mu_;
  // Directories already checked to lie inside the root (or created by us), so a tree of many
  // small files does not lstat every parent again for every file. Guarded by dirs_mu_.
  mutable std::unordered_set<std::string> verified_dirs_;

  const int64_t opened_at_ns_;  // CLOCK_REALTIME when the store was opened
  mutable std::mutex sweep_mu_;  // held while a directory is swept, so our own writes wait
  mutable std::unordered_set<std::string> swept_dirs_;  // guarded by sweep_mu_

  std::mutex publish_mu_;                  // guards the two members below
  std::vector<PendingPublish> pending_;    // written, not yet durable or visible
  uint64_t pending_bytes_ = 0;
  std::mutex flush_mu_;                    // one batch is published at a time
};

// Records `sha256` for the file at `path` (an open descriptor `fd`) in its xattr cache entry.
// Best effort: file systems without user xattrs are ignored.
void CacheSha256(int fd, const std::string& sha256, uint64_t size, int64_t mtime_ns);

}  // namespace datacube::storage
