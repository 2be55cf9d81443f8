// Git LFS files in a checked-out tree: finding them and proving their content.
//
// git-lfs downloads the objects (it speaks the batch API, handles auth, redirects and retries);
// we do not take its word for the result. Every LFS file in the checked-out commit is found from
// git's own objects (blobs that parse as LFS pointers and are marked filter=lfs), then the file
// in the work tree is hashed and compared with the pointer's SHA-256 oid and size. A mismatch is
// kDataLoss naming the path.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "datacube/base/result.h"
#include "datacube/git/git_runner.h"

namespace datacube::git {

struct LfsPointer {
  std::string oid;  // 64 lower-case hex digits (sha256)
  uint64_t size = 0;
};

// Parses a pointer file (git-lfs spec v1: "version https://git-lfs.github.com/spec/v1",
// "oid sha256:<hex>", "size <n>", each line ending in '\n', under 1024 bytes). nullopt for
// anything else, including ordinary small files.
std::optional<LfsPointer> ParseLfsPointer(std::string_view blob);

// Pointer files are smaller than this (spec).
inline constexpr uint64_t kMaxPointerSize = 1024;

struct LfsFile {
  std::string path;  // relative to the work tree, '/'-separated
  LfsPointer pointer;
};

// LFS files of `treeish` (usually HEAD) in the repository at `dir`, sorted by path.
Result<std::vector<LfsFile>> ListLfsFiles(const GitRunner& git, const std::string& dir,
                                          const std::string& treeish);

// Hashes `dir/file.path` and compares with the pointer. kDataLoss on a size or hash mismatch
// (the message names the path, expected and actual values), kNotFound when the file is missing.
Status VerifyLfsFile(const std::string& dir, const LfsFile& file);

// Undoes a bad download of `file`: removes its object from .git/lfs/objects when that object
// does not hash to the oid, and writes the pointer text back into the work tree so that
// `git lfs pull` fetches and checks it out again.
Status ResetLfsFile(const std::string& dir, const std::string& git_dir, const LfsFile& file);

// The pointer text for `p` (what git-lfs stores in git).
std::string FormatLfsPointer(const LfsPointer& p);

}  // namespace datacube::git
