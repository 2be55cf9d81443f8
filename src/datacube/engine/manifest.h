// Manifests: the list of files in a tree with their size and SHA-256, as JSON lines
// ({"path":"a/b.bin","size":123,"sha256":"<64 hex>"}), sorted by path.
//
// `datacube manifest DIR` writes one; `datacube verify DIR --manifest m.jsonl` checks a tree
// against one; cp/sync --manifest-out write the manifest of what they moved.
#pragma once

#include <string>
#include <vector>

#include "datacube/engine/progress.h"
#include "datacube/storage/object_store.h"

namespace datacube::engine {

struct ManifestEntry {
  std::string path;
  uint64_t size = 0;
  std::string sha256;
  friend bool operator==(const ManifestEntry&, const ManifestEntry&) = default;
};

// About 100 bytes a line: room for more than two million files.
inline constexpr size_t kMaxManifestBytes = size_t{256} << 20;

// One JSON line per entry, sorted by path, each ending in '\n'.
std::string FormatManifest(std::vector<ManifestEntry> entries);
// Parses JSON lines; errors name the file and line number. Blank lines are ignored.
Result<std::vector<ManifestEntry>> ParseManifest(std::string_view text, std::string_view name);
// Reads a manifest of at most kMaxManifestBytes (checked while reading); only a regular file is
// read, so /dev/zero or a FIFO is refused at once.
Result<std::vector<ManifestEntry>> ReadManifestFile(const std::string& path);
// Writes atomically (temporary file + rename). An existing `path` that is not a regular file (a
// device node, a FIFO, a symbolic link, a directory) is refused, never replaced.
Status WriteManifestFile(const std::string& path, std::vector<ManifestEntry> entries);
// SHA-256 of FormatManifest(entries): one digest that names the whole tree's content.
std::string ManifestDigest(std::vector<ManifestEntry> entries);

// Hashes every object below `prefix` with `jobs` workers.
Result<std::vector<ManifestEntry>> BuildManifest(storage::ObjectStore& store,
                                                 const std::string& prefix, size_t jobs,
                                                 ProgressSink* progress);

struct VerifyReport {
  std::vector<std::string> missing;    // in the manifest, not in the tree
  std::vector<std::string> extra;      // in the tree, not in the manifest
  std::vector<std::string> corrupted;  // size or SHA-256 differ ("path: why")
  uint64_t verified = 0;
  bool ok() const { return missing.empty() && extra.empty() && corrupted.empty(); }
};

Result<VerifyReport> VerifyManifest(storage::ObjectStore& store, const std::string& prefix,
                                    const std::vector<ManifestEntry>& manifest, size_t jobs,
                                    ProgressSink* progress);

}  // namespace datacube::engine
