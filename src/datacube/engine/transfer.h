// The transfer engine: copies or mirrors objects from one opened store to another, verified and
// resumable. It knows no registry: the caller (transfer/) opens both stores and says whether the
// source is one object or a tree.
//
//   auto ends = transfer::ResolveEndpoints(src_location, dst_location, config, config);
//   auto report = engine::RunTransfer(*ends, options, &progress);
//
// Memory is fixed: `jobs` workers share a pool of buffers of one part size each, whatever the
// size or number of files. Every file is SHA-256 hashed while it moves and checked against the
// source's own checksum when the source has one; a mismatch fails that file, which is retried.
// Writes are atomic at the destination, and an interrupted large file resumes from its completed
// parts on the next run.
#pragma once

#include <chrono>
#include <cstdint>
#include <stop_token>
#include <string>
#include <vector>

#include "datacube/base/glob.h"
#include "datacube/engine/planner.h"
#include "datacube/engine/progress.h"
#include "datacube/retry/retry.h"
#include "datacube/storage/store_config.h"

namespace datacube::engine {

// Default part (and buffer) size. 8 MiB is what the AWS CLI uses; large enough for full-speed
// hashing and S3 parts (minimum 5 MiB), small enough that jobs x buffers stays under 200 MiB.
inline constexpr uint64_t kDefaultPartSize = 8ull << 20;

struct TransferOptions {
  size_t jobs = 0;  // 0: DefaultJobs()
  uint64_t part_size = kDefaultPartSize;
  CompareMode compare = CompareMode::kSizeAndTime;
  bool dry_run = false;
  // sync --delete: remove destination files missing from the source, only after every copy
  // succeeded.
  bool delete_extra = false;
  // Object keys that cannot map safely onto a local path are skipped with a warning; with
  // strict_keys the whole run fails instead.
  bool strict_keys = false;
  // Resume interrupted multipart writes (local journals, S3 ListParts).
  bool resume = true;
  PathFilter filter;
  RetryPolicy retry;
  // Aggregate rate limit in bytes per second; 0 = unlimited.
  uint64_t bwlimit = 0;
  // Fail every file from a network source that offers no checksum to verify it against
  // (otherwise such files are copied and counted as unverified).
  bool require_checksum = false;
  std::stop_token stop;
};

// Where a transfer reads from and writes to, after resolving "is the source one file or a tree".
struct TransferEndpoints {
  storage::StoreRef src;
  storage::StoreRef dst;
  // Source is one object: src.key is its key and dst.key the destination key.
  bool single = false;
  storage::ObjectInfo single_info;
  // Tree: key prefixes (empty, or ending with '/').
  std::string src_prefix;
  std::string dst_prefix;
};

struct FileResult {
  std::string path;
  FileAction action = FileAction::kCopied;
  uint64_t size = 0;
  std::string sha256;
  Status status;
  // Copied from a network source that offered no checksum to check the bytes against.
  bool unverified = false;
};

struct TransferReport {
  uint64_t files_copied = 0;
  uint64_t files_skipped = 0;
  uint64_t files_deleted = 0;
  uint64_t files_failed = 0;
  uint64_t keys_refused = 0;      // unsafe keys skipped
  uint64_t files_unverified = 0;  // copied, but the source offered no checksum
  // Source entries that are not files to copy: symbolic links that do not lead to a regular file
  // beneath the source root, and FIFOs, sockets and devices. Each is also logged by name.
  uint64_t symlinks_left_out = 0;
  uint64_t special_files_left_out = 0;
  uint64_t bytes_copied = 0;
  std::chrono::milliseconds elapsed{0};
  // One entry per file considered, sorted by path.
  std::vector<FileResult> files;
  // OK, or the first error (the run failed when any file failed).
  Status status;

  // "copied 3 files (1.2 GiB), skipped 1, deleted 0, failed 0 in 2.1s (585 MiB/s)".
  std::string Summary() const;
};

Result<TransferReport> RunTransfer(const TransferEndpoints& endpoints,
                                   const TransferOptions& options, ProgressSink* progress);

// Hashes one object by reading it through `buffer` (for --checksum and manifests).
Result<std::string> HashObject(storage::ObjectStore& store, const std::string& key,
                               std::span<uint8_t> buffer);

}  // namespace datacube::engine
