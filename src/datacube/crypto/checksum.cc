#include "datacube/crypto/checksum.h"

#include <openssl/evp.h>

#include <array>
#include <cstdlib>

namespace datacube::crypto {
namespace {

// Reflected (LSB-first) CRC tables for slicing by eight: table[0] is the classic byte table,
// table[k][b] the CRC of byte b followed by k zero bytes.
template <typename T>
struct CrcTables {
  std::array<std::array<T, 256>, 8> t{};
  explicit constexpr CrcTables(T reflected_poly) {
    for (unsigned b = 0; b < 256; ++b) {
      T crc = static_cast<T>(b);
      for (int i = 0; i < 8; ++i) crc = (crc & 1) ? (crc >> 1) ^ reflected_poly : crc >> 1;
      t[0][b] = crc;
    }
    for (unsigned b = 0; b < 256; ++b) {
      for (int k = 1; k < 8; ++k) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xff];
    }
  }
};

constexpr CrcTables<uint32_t> kCrc32Tables(0xEDB88320u);
constexpr CrcTables<uint32_t> kCrc32cTables(0x82F63B78u);
constexpr CrcTables<uint64_t> kCrc64NvmeTables(0x9A6C9329AC4BC9B5ull);

// Runs the reflected CRC over `data`; `crc` is the working register (already inverted).
template <typename T>
T CrcUpdate(const CrcTables<T>& tables, T crc, std::span<const uint8_t> data) {
  const auto& t = tables.t;
  const uint8_t* p = data.data();
  size_t n = data.size();
  while (n >= 8) {
    uint64_t word = 0;
    for (int i = 7; i >= 0; --i) word = (word << 8) | p[i];  // little-endian load
    word ^= static_cast<uint64_t>(crc);
    // A 32-bit register overlaps the first four bytes, a 64-bit one all eight; either way the
    // eight bytes' contributions come from the eight tables.
    crc = t[7][word & 0xff] ^ t[6][(word >> 8) & 0xff] ^ t[5][(word >> 16) & 0xff] ^
          t[4][(word >> 24) & 0xff] ^ t[3][(word >> 32) & 0xff] ^ t[2][(word >> 40) & 0xff] ^
          t[1][(word >> 48) & 0xff] ^ t[0][(word >> 56) & 0xff];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xff];
  return crc;
}

const EVP_MD* EvpFor(ChecksumAlgorithm a) {
  switch (a) {
    case ChecksumAlgorithm::kMd5:
      return EVP_md5();
    case ChecksumAlgorithm::kSha1:
      return EVP_sha1();
    case ChecksumAlgorithm::kSha256:
      return EVP_sha256();
    default:
      return nullptr;
  }
}

std::string BigEndian(uint64_t value, size_t bytes) {
  std::string out(bytes, '\0');
  for (size_t i = 0; i < bytes; ++i) {
    out[bytes - 1 - i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return out;
}

}  // namespace

uint32_t Crc32(uint32_t crc, std::span<const uint8_t> data) {
  return ~CrcUpdate<uint32_t>(kCrc32Tables, ~crc, data);
}

uint32_t Crc32c(uint32_t crc, std::span<const uint8_t> data) {
  return ~CrcUpdate<uint32_t>(kCrc32cTables, ~crc, data);
}

uint64_t Crc64Nvme(uint64_t crc, std::span<const uint8_t> data) {
  return ~CrcUpdate<uint64_t>(kCrc64NvmeTables, ~crc, data);
}

std::string_view ChecksumAlgorithmName(ChecksumAlgorithm a) {
  switch (a) {
    case ChecksumAlgorithm::kMd5:
      return "md5";
    case ChecksumAlgorithm::kSha1:
      return "sha1";
    case ChecksumAlgorithm::kSha256:
      return "sha256";
    case ChecksumAlgorithm::kCrc32:
      return "crc32";
    case ChecksumAlgorithm::kCrc32c:
      return "crc32c";
    case ChecksumAlgorithm::kCrc64Nvme:
      return "crc64nvme";
  }
  return "unknown";
}

std::optional<ChecksumAlgorithm> ChecksumAlgorithmFromName(std::string_view name) {
  for (auto a :
       {ChecksumAlgorithm::kMd5, ChecksumAlgorithm::kSha1, ChecksumAlgorithm::kSha256,
        ChecksumAlgorithm::kCrc32, ChecksumAlgorithm::kCrc32c, ChecksumAlgorithm::kCrc64Nvme}) {
    if (ChecksumAlgorithmName(a) == name) return a;
  }
  return std::nullopt;
}

size_t ChecksumSize(ChecksumAlgorithm a) {
  switch (a) {
    case ChecksumAlgorithm::kMd5:
      return 16;
    case ChecksumAlgorithm::kSha1:
      return 20;
    case ChecksumAlgorithm::kSha256:
      return 32;
    case ChecksumAlgorithm::kCrc32:
    case ChecksumAlgorithm::kCrc32c:
      return 4;
    case ChecksumAlgorithm::kCrc64Nvme:
      return 8;
  }
  return 0;
}

struct Checksum::Digest {
  EVP_MD_CTX* ctx = nullptr;
  const EVP_MD* md = nullptr;
  explicit Digest(const EVP_MD* m) : ctx(EVP_MD_CTX_new()), md(m) {
    if (ctx == nullptr || EVP_DigestInit_ex(ctx, md, nullptr) != 1) std::abort();
  }
  ~Digest() { EVP_MD_CTX_free(ctx); }
};

Checksum::Checksum(ChecksumAlgorithm algorithm) : algorithm_(algorithm) {
  if (const EVP_MD* md = EvpFor(algorithm)) digest_ = std::make_unique<Digest>(md);
}
Checksum::~Checksum() = default;
Checksum::Checksum(Checksum&&) noexcept = default;
Checksum& Checksum::operator=(Checksum&&) noexcept = default;

void Checksum::Update(std::span<const uint8_t> data) {
  if (data.empty()) return;
  switch (algorithm_) {
    case ChecksumAlgorithm::kCrc32:
      crc_ = Crc32(static_cast<uint32_t>(crc_), data);
      return;
    case ChecksumAlgorithm::kCrc32c:
      crc_ = Crc32c(static_cast<uint32_t>(crc_), data);
      return;
    case ChecksumAlgorithm::kCrc64Nvme:
      crc_ = Crc64Nvme(crc_, data);
      return;
    default:
      EVP_DigestUpdate(digest_->ctx, data.data(), data.size());
  }
}

std::string Checksum::Finish() {
  if (digest_) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(digest_->ctx, out, &len);
    EVP_DigestInit_ex(digest_->ctx, digest_->md, nullptr);
    return std::string(reinterpret_cast<char*>(out), len);
  }
  std::string out = BigEndian(crc_, ChecksumSize(algorithm_));
  crc_ = 0;
  return out;
}

std::string ChecksumOf(ChecksumAlgorithm algorithm, std::string_view data) {
  Checksum c(algorithm);
  c.Update(data);
  return c.Finish();
}

}  // namespace datacube::crypto
