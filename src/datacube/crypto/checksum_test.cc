#include "datacube/crypto/checksum.h"

#include <gtest/gtest.h>

#include "datacube/crypto/sha256.h"

namespace datacube::crypto {
namespace {

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// The standard check values (the CRC of "123456789") of each CRC's catalogue entry.
TEST(ChecksumTest, CrcCheckValues) {
  EXPECT_EQ(Crc32(0, Bytes("123456789")), 0xCBF43926u);
  EXPECT_EQ(Crc32c(0, Bytes("123456789")), 0xE3069283u);
  EXPECT_EQ(Crc64Nvme(0, Bytes("123456789")), 0xAE8B14860A799888ull);
  EXPECT_EQ(Crc32c(0, Bytes("")), 0u);
}

TEST(ChecksumTest, DigestsAreRawBigEndianBytes) {
  EXPECT_EQ(HexEncode(ChecksumOf(ChecksumAlgorithm::kCrc32c, "123456789")), "e3069283");
  EXPECT_EQ(HexEncode(ChecksumOf(ChecksumAlgorithm::kCrc64Nvme, "123456789")), "ae8b14860a799888");
  EXPECT_EQ(HexEncode(ChecksumOf(ChecksumAlgorithm::kMd5, "hello")),
            "5d41402abc4b2a76b9719d911017c592");
  EXPECT_EQ(HexEncode(ChecksumOf(ChecksumAlgorithm::kSha1, "abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(HexEncode(ChecksumOf(ChecksumAlgorithm::kSha256, "abc")), Sha256Hex("abc"));
}

// Slicing by eight must agree with the byte-at-a-time loop at every length and split point.
TEST(ChecksumTest, StreamingEqualsOneShotAtEverySplit) {
  std::string data(1000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 131 + 7);
  for (auto a : {ChecksumAlgorithm::kCrc32, ChecksumAlgorithm::kCrc32c,
                 ChecksumAlgorithm::kCrc64Nvme, ChecksumAlgorithm::kMd5}) {
    const std::string whole = ChecksumOf(a, data);
    EXPECT_EQ(whole.size(), ChecksumSize(a));
    for (size_t split : {0, 1, 7, 8, 9, 63, 500, 999, 1000}) {
      Checksum c(a);
      c.Update(std::string_view(data).substr(0, split));
      c.Update(std::string_view(data).substr(split));
      EXPECT_EQ(c.Finish(), whole) << ChecksumAlgorithmName(a) << " split " << split;
    }
    // Byte by byte exercises the tail loop only.
    Checksum c(a);
    for (char ch : data) c.Update(std::string_view(&ch, 1));
    EXPECT_EQ(c.Finish(), whole) << ChecksumAlgorithmName(a);
  }
}

TEST(ChecksumTest, NamesRoundTrip) {
  for (auto a :
       {ChecksumAlgorithm::kMd5, ChecksumAlgorithm::kSha1, ChecksumAlgorithm::kSha256,
        ChecksumAlgorithm::kCrc32, ChecksumAlgorithm::kCrc32c, ChecksumAlgorithm::kCrc64Nvme}) {
    EXPECT_EQ(ChecksumAlgorithmFromName(ChecksumAlgorithmName(a)), a);
  }
  EXPECT_FALSE(ChecksumAlgorithmFromName("CRC32").has_value());
  EXPECT_FALSE(ChecksumAlgorithmFromName("").has_value());
}

}  // namespace
}  // namespace datacube::crypto
