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
  ObjectInfo info = ObjectInfoFromHeaders("k", r);
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
  ObjectInfo info = ObjectInfoFromHeaders("k", r);
  EXPECT_EQ(info.size, 100u);
  EXPECT_EQ(info.sha256, sha);
  EXPECT_EQ(info.mtime_ns, 10000000000);
  // A composite multipart checksum is not a hash of the content.
  r.headers.back().second += "-3";
  EXPECT_EQ(ObjectInfoFromHeaders("k", r).sha256, "");
}

}  // namespace
}  // namespace datacube::storage::s3
