#include "datacube/storage/s3/s3_metadata.h"

#include <gtest/gtest.h>

#include "datacube/crypto/sha256.h"

namespace datacube::storage::s3 {
namespace {

TEST(ChecksumFormsTest, HexAndBase64RoundTrip) {
  const std::string hex = crypto::Sha256Hex("hello world");
  const std::string b64 = Sha256HexToBase64(hex);
  EXPECT_EQ(b64, "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=");
  EXPECT_EQ(Sha256Base64ToHex(b64), hex);
  EXPECT_EQ(Sha256HexToBase64("not hex"), "");
  EXPECT_EQ(Sha256Base64ToHex("AAAA"), "");
}

TEST(MtimeTest, RcloneFormat) {
  EXPECT_EQ(FormatMtime(1700000000123456789), "1700000000.123456789");
  EXPECT_EQ(ParseMtime("1700000000.123456789"), 1700000000123456789);
  EXPECT_EQ(ParseMtime("1700000000.5"), 1700000000500000000);
  EXPECT_EQ(ParseMtime("1700000000"), 1700000000000000000);
  EXPECT_FALSE(ParseMtime("soon").has_value());
  EXPECT_EQ(ParseHttpDate("Thu, 01 Jan 1970 00:00:10 GMT"), 10000000000);
}

TEST(ObjectInfoFromHeadersTest, MetadataWins) {
  http::HttpResponse r;
  r.status = 200;
  const std::string sha = crypto::Sha256Hex("x");
  r.headers = {{"content-length", "12"},
               {"etag", "\"abc\""},
               {"last-modified", "Thu, 01 Jan 1970 00:00:10 GMT"},
               {"x-amz-meta-sha256", sha},
               {"x-amz-meta-mtime", "5.25"},
               {"x-amz-meta-owner", "team"}};
  ObjectInfo info = *ObjectInfoFromHeaders("k", r);
  EXPECT_EQ(info.key, "k");
  EXPECT_EQ(info.size, 12u);
  EXPECT_EQ(info.etag, "abc");
  EXPECT_EQ(info.sha256, sha);
  EXPECT_EQ(info.mtime_ns, 5250000000);
  EXPECT_EQ(info.metadata["owner"], "team");
}

TEST(ObjectInfoFromHeadersTest, FullObjectChecksumAndRangeTotal) {
  http::HttpResponse r;
  r.status = 206;
  const std::string sha = crypto::Sha256Hex("y");
  r.headers = {{"content-length", "10"},
               {"content-range", "bytes 0-9/100"},
               {"last-modified", "Thu, 01 Jan 1970 00:00:10 GMT"},
               {"x-amz-checksum-sha256", Sha256HexToBase64(sha)}};
  ObjectInfo info = *ObjectInfoFromHeaders("k", r);
  EXPECT_EQ(info.size, 100u);
  EXPECT_EQ(info.sha256, sha);
  EXPECT_EQ(info.mtime_ns, 10000000000);
  // A composite multipart checksum is not a hash of the content.
  r.headers.back().second += "-3";
  auto composite = ObjectInfoFromHeaders("k", r);
  ASSERT_TRUE(composite.ok()) << composite.status().ToString();
  EXPECT_EQ(composite->sha256, "");
  ASSERT_EQ(composite->digests.size(), 1u);
  EXPECT_EQ(composite->digests[0].algorithm, "sha256");
  EXPECT_EQ(composite->digests[0].part_count, 3u);
}

std::string Raw(std::string_view hex) {
  std::string raw;
  crypto::HexDecode(hex, &raw);
  return raw;
}

const OfferedDigest* Find(const ObjectInfo& info, const std::string& origin) {
  for (const auto& d : info.digests) {
    if (d.origin == origin) return &d;
  }
  return nullptr;
}

TEST(ObjectInfoFromHeadersTest, SinglePartEtagIsAnMd5UnlessEncryptedWithKmsOrSseC) {
  http::HttpResponse r;
  r.status = 200;
  r.headers = {{"content-length", "5"}, {"etag", "\"5d41402abc4b2a76b9719d911017c592\""}};
  ObjectInfo info = *ObjectInfoFromHeaders("k", r);
  ASSERT_NE(Find(info, "ETag"), nullptr);
  EXPECT_EQ(Find(info, "ETag")->algorithm, "md5");
  EXPECT_EQ(Find(info, "ETag")->value, Raw("5d41402abc4b2a76b9719d911017c592"));
  // SSE-S3 keeps the MD5; SSE-KMS and SSE-C do not.
  r.headers.push_back({"x-amz-server-side-encryption", "AES256"});
  EXPECT_NE(Find(*ObjectInfoFromHeaders("k", r), "ETag"), nullptr);
  r.headers.back().second = "aws:kms";
  EXPECT_EQ(Find(*ObjectInfoFromHeaders("k", r), "ETag"), nullptr);
  r.headers.back() = {"x-amz-server-side-encryption-customer-algorithm", "AES256"};
  EXPECT_EQ(Find(*ObjectInfoFromHeaders("k", r), "ETag"), nullptr);
  // A multipart ETag is an MD5 of part MD5s, not of the content.
  r.headers = {{"content-length", "5"}, {"etag", "\"5d41402abc4b2a76b9719d911017c592-2\""}};
  EXPECT_TRUE(ObjectInfoFromHeaders("k", r)->digests.empty());
}

TEST(ObjectInfoFromHeadersTest, FlexibleChecksumsAndRcloneMd5AreOffered) {
  http::HttpResponse r;
  r.status = 200;
  r.headers = {
      {"content-length", "9"},
      {"x-amz-checksum-crc32c", crypto::Base64Encode(Raw("e3069283"))},
      {"x-amz-checksum-crc64nvme", crypto::Base64Encode(Raw("ae8b14860a799888"))},
      {"x-amz-checksum-type", "FULL_OBJECT"},
      {"x-amz-meta-md5chksum", crypto::Base64Encode(Raw("25f9e794323b453885f5181f1b624d0b"))}};
  ObjectInfo info = *ObjectInfoFromHeaders("k", r);
  ASSERT_NE(Find(info, "x-amz-checksum-crc32c"), nullptr);
  EXPECT_EQ(Find(info, "x-amz-checksum-crc32c")->value, Raw("e3069283"));
  EXPECT_EQ(Find(info, "x-amz-checksum-crc32c")->part_count, 0u);
  ASSERT_NE(Find(info, "x-amz-checksum-crc64nvme"), nullptr);
  ASSERT_NE(Find(info, "x-amz-meta-md5chksum"), nullptr);
  EXPECT_EQ(Find(info, "x-amz-meta-md5chksum")->algorithm, "md5");
  // COMPOSITE with the part count from the value.
  r.headers = {{"content-length", "9"},
               {"x-amz-checksum-crc32", crypto::Base64Encode(Raw("01020304")) + "-4"},
               {"x-amz-checksum-type", "COMPOSITE"}};
  info = *ObjectInfoFromHeaders("k", r);
  ASSERT_EQ(info.digests.size(), 1u);
  EXPECT_EQ(info.digests[0].algorithm, "crc32");
  EXPECT_EQ(info.digests[0].part_count, 4u);
}

TEST(ObjectInfoFromHeadersTest, MalformedSizesAndChecksumsAreRefused) {
  for (const std::string len : {"-5", "abc", "", "18446744073709551617", "9223372036854775808"}) {
    http::HttpResponse r;
    r.status = 200;
    r.headers = {{"content-length", len}};
    auto info = ObjectInfoFromHeaders("k", r);
    EXPECT_EQ(info.status().code(), StatusCode::kInternal) << len;
    EXPECT_NE(std::string(info.status().message()).find("Content-Length"), std::string::npos);
  }
  http::HttpResponse r;
  r.status = 200;
  r.headers = {{"content-length", "1"}, {"x-amz-checksum-crc32c", "not base64!"}};
  EXPECT_EQ(ObjectInfoFromHeaders("k", r).status().code(), StatusCode::kInternal);
  r.headers = {{"content-length", "1"}, {"x-amz-checksum-crc32c", "AAAA"}};  // 3 bytes
  EXPECT_EQ(ObjectInfoFromHeaders("k", r).status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace datacube::storage::s3
