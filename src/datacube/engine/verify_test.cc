#include "datacube/engine/verify.h"

#include <gtest/gtest.h>

#include "datacube/crypto/sha256.h"

namespace datacube::engine {
namespace {

using crypto::ChecksumAlgorithm;
using crypto::ChecksumOf;

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(VerifyTest, ASha256ProvesTheBytesAlone) {
  storage::ObjectInfo src;
  src.digests = {{"md5", ChecksumOf(ChecksumAlgorithm::kMd5, "x"), "ETag", 0, 0}};
  VerifyPlan plan = PlanVerification(src);
  EXPECT_TRUE(plan.sha256.empty());
  ASSERT_EQ(plan.others.size(), 1u);
  // A SHA-256 offered with the read wins over everything else.
  std::vector<storage::OfferedDigest> read = {
      {"md5", ChecksumOf(ChecksumAlgorithm::kMd5, "x"), "ETag", 0, 0},
      {"sha256", ChecksumOf(ChecksumAlgorithm::kSha256, "x"), "x-amz-meta-sha256", 0, 0}};
  plan = PlanVerification(src, read);
  EXPECT_EQ(plan.sha256, crypto::Sha256Hex("x"));
  EXPECT_EQ(plan.sha256_origin, "x-amz-meta-sha256");
  EXPECT_TRUE(plan.others.empty());
  // Composite digests whose parts are unknown, and unknown algorithms, are not chosen.
  src.digests = {{"crc32c", std::string(4, 'a'), "x-amz-checksum-crc32c", 0, 3},
                 {"whirlpool", std::string(64, 'a'), "x", 0, 0}};
  EXPECT_TRUE(PlanVerification(src).empty());
}

TEST(VerifyTest, WholeDigestsMatchOrNameTheirOrigin) {
  const std::string data = "hello world";
  DigestVerifier ok(
      {{"crc32c", ChecksumOf(ChecksumAlgorithm::kCrc32c, data), "x-amz-checksum-crc32c", 0, 0},
       {"md5", ChecksumOf(ChecksumAlgorithm::kMd5, data), "ETag", 0, 0}});
  ok.Update(Bytes("hello "));
  ok.Update(Bytes("world"));
  EXPECT_TRUE(ok.Finish("s3://b/k").ok());

  DigestVerifier bad({{"md5", ChecksumOf(ChecksumAlgorithm::kMd5, data), "ETag", 0, 0}});
  bad.Update(Bytes("hello worle"));
  Status s = bad.Finish("s3://b/k");
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(std::string(s.message())
                .find("checksum mismatch for s3://b/k: ETag says MD5 " +
                      crypto::HexEncode(ChecksumOf(ChecksumAlgorithm::kMd5, data))),
            std::string::npos)
      << s.ToString();
}

TEST(VerifyTest, CompositeDigestsAreOverThePartsDigests) {
  const std::string data = "0123456789";  // parts of 4: "0123" "4567" "89"
  std::string parts = ChecksumOf(ChecksumAlgorithm::kSha1, "0123") +
                      ChecksumOf(ChecksumAlgorithm::kSha1, "4567") +
                      ChecksumOf(ChecksumAlgorithm::kSha1, "89");
  storage::OfferedDigest d{"sha1", ChecksumOf(ChecksumAlgorithm::kSha1, parts),
                           "x-amz-checksum-sha1", 4, 3};
  // Fed in pieces that do not line up with the parts.
  DigestVerifier ok({d});
  ok.Update(Bytes("012"));
  ok.Update(Bytes("3456789"));
  EXPECT_TRUE(ok.Finish("u").ok());
  DigestVerifier short_parts({{d.algorithm, d.value, d.origin, 5, 3}});
  short_parts.Update(Bytes(data));
  EXPECT_EQ(short_parts.Finish("u").code(), StatusCode::kDataLoss);
  DigestVerifier flipped({d});
  flipped.Update(Bytes("0123456788"));
  Status s = flipped.Finish("u");
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(std::string(s.message()).find("SHA1 of 3 parts"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace datacube::engine
