// Git object ids and Git LFS pointers, the two ways the Hub names file content:
//   - a regular file is identified by its git blob id, SHA-1 of "blob <size>\0" + content;
//   - an LFS file by the SHA-256 of its content (the LFS oid), while git stores a small pointer
//     file whose own blob id is what the tree API reports as `oid`.
// Used to verify downloaded small files, to skip unchanged uploads (the preupload answer carries
// the remote oid), and by the test fixture to build a faithful repository model.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace datacube::storage::hf {

// Streaming git blob id: construct with the total size, feed the content, then FinishHex().
// One object per thread.
class GitBlobHasher {
 public:
  explicit GitBlobHasher(uint64_t size);
  ~GitBlobHasher();
  GitBlobHasher(GitBlobHasher&&) noexcept;
  GitBlobHasher& operator=(GitBlobHasher&&) noexcept;

  void Update(std::span<const uint8_t> data);
  void Update(std::string_view data) {
    Update({reinterpret_cast<const uint8_t*>(data.data()), data.size()});
  }
  // 40 lower-case hex characters.
  std::string FinishHex();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Git blob id of `content` in one call.
std::string GitBlobId(std::string_view content);

// Plain SHA-1 (hex) of `data`: git also names trees and commits this way.
std::string Sha1Hex(std::string_view data);

// The Git LFS pointer text for an object (docs/protocols/git-lfs.md, Pointer files): "version
// https://git-lfs.github.com/spec/v1", "oid sha256:<hex>" and "size <bytes>", each line ending in
// '\n'.
std::string LfsPointer(std::string_view sha256_hex, uint64_t size);

// True when `s` is exactly 40 lower-case hex characters (a full commit or blob id).
bool IsGitOid(std::string_view s);

// True when `s` is exactly 64 lower-case hex characters (an LFS oid: the content's SHA-256).
bool IsLfsOid(std::string_view s);

}  // namespace datacube::storage::hf
