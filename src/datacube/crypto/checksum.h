// The digests object stores offer for their content, computed over a stream: MD5, SHA-1 and
// SHA-256 through OpenSSL, CRC32 (zlib's polynomial), CRC32C (Castagnoli) and CRC64NVME as
// small table-driven implementations (slicing by eight, about 1 GB/s per core).
//
// Digests are raw bytes; CRCs big-endian, as S3 sends them base64-encoded in x-amz-checksum-*.
//
// Thread-safety: one Checksum object per thread; the class is movable, not copyable.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace datacube::crypto {

enum class ChecksumAlgorithm { kMd5, kSha1, kSha256, kCrc32, kCrc32c, kCrc64Nvme };

// "md5", "sha1", "sha256", "crc32", "crc32c", "crc64nvme".
std::string_view ChecksumAlgorithmName(ChecksumAlgorithm algorithm);
// The inverse of ChecksumAlgorithmName (lower case only); nullopt for anything else.
std::optional<ChecksumAlgorithm> ChecksumAlgorithmFromName(std::string_view name);
// Digest length in bytes (16, 20, 32, 4, 4, 8).
size_t ChecksumSize(ChecksumAlgorithm algorithm);

class Checksum {
 public:
  explicit Checksum(ChecksumAlgorithm algorithm);
  ~Checksum();
  Checksum(Checksum&&) noexcept;
  Checksum& operator=(Checksum&&) noexcept;

  ChecksumAlgorithm algorithm() const { return algorithm_; }
  void Update(std::span<const uint8_t> data);
  void Update(std::string_view data) {
    Update(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
  }
  // The raw digest; the object starts over for reuse.
  std::string Finish();

 private:
  struct Digest;
  ChecksumAlgorithm algorithm_;
  std::unique_ptr<Digest> digest_;  // MD5/SHA through OpenSSL
  uint64_t crc_ = 0;                // CRCs, in their reflected working form
};

// One-shot helper: the raw digest of `data`.
std::string ChecksumOf(ChecksumAlgorithm algorithm, std::string_view data);

// The CRCs themselves, continuing from `crc` (0 for a fresh start; pass the previous result to
// continue over the next bytes).
uint32_t Crc32(uint32_t crc, std::span<const uint8_t> data);
uint32_t Crc32c(uint32_t crc, std::span<const uint8_t> data);
uint64_t Crc64Nvme(uint64_t crc, std::span<const uint8_t> data);

}  // namespace datacube::crypto
