#include "datacube/storage/s3/validate.h"

#include <gtest/gtest.h>

namespace datacube::storage::s3 {
namespace {

TEST(ValidateBucketNameTest, Aws) {
  for (const char* ok : {"abc", "my-bucket.data", "a1b2c3", "bucket-2024"}) {
    EXPECT_TRUE(ValidateBucketName(ok, BucketRules::kAws).ok()) << ok;
  }
  for (const char* bad : {"ab", "Upper", "under_score", "-dash", "dash-", "a..b", "192.168.1.1",
                          "xn--abc", "sthree-x", "name-s3alias", "x--ol-s3"}) {
    auto s = ValidateBucketName(bad, BucketRules::kAws);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(std::string(s.message()).find(bad), std::string::npos);
  }
  EXPECT_FALSE(ValidateBucketName(std::string(64, 'a'), BucketRules::kAws).ok());
}

TEST(ValidateBucketNameTest, CoreWeaveRules) {
  EXPECT_TRUE(ValidateBucketName("models-prod", BucketRules::kCoreWeave).ok());
  auto dotted = ValidateBucketName("my.bucket", BucketRules::kCoreWeave);
  EXPECT_NE(std::string(dotted.message()).find("no dots"), std::string::npos);
  EXPECT_FALSE(ValidateBucketName("my_bucket", BucketRules::kCoreWeave).ok());
  for (const char* reserved : {"cw-models", "vip-x", "log-stitcher-ch-1", "int"}) {
    auto s = ValidateBucketName(reserved, BucketRules::kCoreWeave);
    EXPECT_NE(std::string(s.message()).find("reserved"), std::string::npos) << reserved;
  }
}

TEST(ValidateBucketNameTest, GcsAllowsUnderscoresAndLongDottedNames) {
  EXPECT_TRUE(ValidateBucketName("my_bucket", BucketRules::kGcs).ok());
  std::string dotted = std::string(60, 'a') + "." + std::string(60, 'b');
  EXPECT_TRUE(ValidateBucketName(dotted, BucketRules::kGcs).ok());
  EXPECT_FALSE(ValidateBucketName("goog-bucket", BucketRules::kGcs).ok());
}

TEST(ValidateBucketNameTest, CustomServersOnlyRefuseWhatBreaksUrls) {
  EXPECT_TRUE(ValidateBucketName("Legacy_Bucket", BucketRules::kCustom).ok());
  EXPECT_FALSE(ValidateBucketName("a/b", BucketRules::kCustom).ok());
  EXPECT_FALSE(ValidateBucketName("a b", BucketRules::kCustom).ok());
  EXPECT_FALSE(ValidateBucketName("", BucketRules::kCustom).ok());
}

TEST(ValidateObjectKeyTest, LengthLimit) {
  EXPECT_TRUE(ValidateObjectKey(std::string(1024, 'k')).ok());
  EXPECT_FALSE(ValidateObjectKey(std::string(1025, 'k')).ok());
  EXPECT_FALSE(ValidateObjectKey("").ok());
}

}  // namespace
}  // namespace datacube::storage::s3
