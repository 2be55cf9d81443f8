// Planner: compares a source listing with a destination listing and decides, per file, whether
// to copy it, skip it, or (for sync --delete) delete it. Pure: no I/O, so every rule is tested
// directly.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "datacube/storage/object_store.h"

namespace datacube::engine {

enum class CompareMode {
  // Skip when sizes match and either both SHA-256 are known and equal, or (when a hash is
  // missing) the modification times agree within a second; rclone's default, plus hashes.
  kSizeAndTime,
  // Skip only when sizes match and both SHA-256 are known and equal (--checksum). The engine
  // hashes files whose store does not know their hash before planning.
  kChecksum,
  // Skip whenever sizes match (--size-only).
  kSizeOnly,
};

// kConflict: the file cannot be written because the destination is a file system and the path
// would have to be a file and a directory at once ("a" and "a/b" both in an S3 source). It is
// reported as a failure of that file, before anything is copied.
enum class PlanAction { kCopy, kSkip, kDelete, kConflict };

struct PlanItem {
  PlanAction action = PlanAction::kCopy;
  // Path relative to the source and destination roots.
  std::string rel;
  storage::ObjectInfo src;                 // unset for kDelete
  std::optional<storage::ObjectInfo> dst;  // the existing destination object, if any
  std::string reason;                      // "new", "size differs", "same SHA-256", ...
};

struct PlanOptions {
  CompareMode compare = CompareMode::kSizeAndTime;
  // Delete destination files that are not in the source (sync --delete).
  bool delete_extra = false;
  // The destination is a file system (a local path or PVC), where "a" cannot be a file while
  // "a/b" exists: such paths become kConflict instead of copies that fail half-way.
  bool tree_destination = false;
};

// Decides one pair. `dst` unset means the destination lacks the file.
PlanItem Decide(const std::string& rel, const storage::ObjectInfo& src,
                const std::optional<storage::ObjectInfo>& dst, CompareMode mode);

// Source paths that are also a directory of another source path ("a" when "a/b" exists), or of
// a destination path; and source paths below a destination file ("a/b" when the destination
// holds the file "a"). Each maps to why it conflicts.
std::map<std::string, std::string> FindPathConflicts(
    const std::map<std::string, storage::ObjectInfo>& src,
    const std::map<std::string, storage::ObjectInfo>& dst);

// `src` and `dst` map relative paths to objects. Output: copies, skips and conflicts in source
// order, then deletes in destination order.
std::vector<PlanItem> Plan(const std::map<std::string, storage::ObjectInfo>& src,
                           const std::map<std::string, storage::ObjectInfo>& dst,
                           const PlanOptions& options);

}  // namespace datacube::engine
