#include "datacube/storage/s3/s3_options.h"

#include <gtest/gtest.h>

#include <functional>

#include "datacube/base/secret.h"
#include "testing/test_util/test_util.h"

namespace datacube::storage::s3 {
namespace {

class S3OptionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Nothing from the person running the tests: no profile files, no AWS_* variables.
    env_["HOME"] = dir_.path();
    env_["AWS_ACCESS_KEY_ID"] = "AKIDENV";
    env_["AWS_SECRET_ACCESS_KEY"] = "envSecretValue123";
    config_.getenv = [this](const std::string& n) -> std::optional<std::string> {
      auto it = env_.find(n);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
  }
  Result<S3StoreOptions> Resolve(const std::string& url) {
    auto loc = ParseLocation(url);
    EXPECT_TRUE(loc.ok());
    return S3StoreOptionsFromConfig(*loc, config_);
  }
  void WriteAwsFiles(const std::string& credentials, const std::string& config) {
    ::mkdir((dir_ / ".aws").c_str(), 0700);
    testing::WriteFile(dir_ / ".aws/credentials", credentials);
    testing::WriteFile(dir_ / ".aws/config", config);
  }

  testing::TempDir dir_;
  std::map<std::string, std::string> env_;
  StoreConfig config_;
};

TEST_F(S3OptionsTest, EnvironmentCredentialsAndDefaults) {
  auto o = Resolve("s3://bucket/prefix");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->bucket, "bucket");
  EXPECT_EQ(o->credentials.access_key_id, "AKIDENV");
  EXPECT_EQ(o->credentials.secret_access_key.reveal(), "envSecretValue123");
  EXPECT_EQ(o->credentials_source, "environment (AWS_ACCESS_KEY_ID)");
  EXPECT_EQ(o->endpoint.region, "us-east-1");
  EXPECT_TRUE(o->endpoint.aws_default);
  EXPECT_TRUE(o->check_bucket);
  // Every secret found is registered for redaction.
  EXPECT_EQ(Redact("x envSecretValue123 y"), "x *** y");
}

TEST_F(S3OptionsTest, OptionsBeatEnvironment) {
  config_.options = {{kOptAccessKeyId, "AKIDOPT"},
                     {kOptSecretAccessKey, "optSecretValue456"},
                     {kOptSessionToken, "optSessionToken789"},
                     {kOptEndpoint, "http://127.0.0.1:7480"},
                     {kOptRegion, "default"},
                     {kOptNoCheckBucket, "true"}};
  env_["AWS_ENDPOINT_URL"] = "http://10.0.0.1:1";
  auto o = Resolve("s3://bucket");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->credentials.access_key_id, "AKIDOPT");
  EXPECT_EQ(o->credentials.session_token.reveal(), "optSessionToken789");
  EXPECT_EQ(o->endpoint.Display(), "http://127.0.0.1:7480");
  EXPECT_EQ(o->endpoint.region, "default");
  EXPECT_FALSE(o->endpoint.virtual_hosted);
  EXPECT_FALSE(o->check_bucket);
  EXPECT_EQ(Redact("optSessionToken789"), "***");
}

TEST_F(S3OptionsTest, HalfOfTheKeyPairIsAnError) {
  config_.options = {{kOptAccessKeyId, "AKIDOPT"}};
  auto o = Resolve("s3://bucket");
  EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(o.status().message()).find(kOptSecretAccessKey), std::string::npos);
}

TEST_F(S3OptionsTest, EndpointPrecedence) {
  env_["AWS_ENDPOINT_URL"] = "http://127.0.0.2:1";
  EXPECT_EQ(Resolve("s3://bkt")->endpoint.Display(), "http://127.0.0.2:1");
  env_["AWS_ENDPOINT_URL_S3"] = "http://127.0.0.3:1";
  EXPECT_EQ(Resolve("s3://bkt")->endpoint.Display(), "http://127.0.0.3:1");
  config_.options[kOptEndpoint] = "http://127.0.0.4:1";
  EXPECT_EQ(Resolve("s3://bkt")->endpoint.Display(), "http://127.0.0.4:1");
}

TEST_F(S3OptionsTest, RegionPrecedence) {
  env_["AWS_DEFAULT_REGION"] = "eu-west-1";
  EXPECT_EQ(Resolve("s3://bkt")->endpoint.region, "eu-west-1");
  env_["AWS_REGION"] = "eu-west-2";
  EXPECT_EQ(Resolve("s3://bkt")->endpoint.region, "eu-west-2");
  config_.options[kOptRegion] = "eu-west-3";
  EXPECT_EQ(Resolve("s3://bkt")->endpoint.region, "eu-west-3");
}

TEST_F(S3OptionsTest, ProfileSuppliesCredentialsRegionEndpointAndAddressing) {
  env_.erase("AWS_ACCESS_KEY_ID");
  env_.erase("AWS_SECRET_ACCESS_KEY");
  WriteAwsFiles("[cw]\naws_access_key_id = CWKEY\naws_secret_access_key = cwSecretValue\n",
                "[profile cw]\nregion = US-EAST-04A\nendpoint_url = http://127.0.0.1:9\n"
                "s3 =\n  addressing_style = virtual\n");
  config_.options[kOptProfile] = "cw";
  auto o = Resolve("s3://models");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->credentials.access_key_id, "CWKEY");
  EXPECT_EQ(o->credentials_source, "AWS profile \"cw\"");
  EXPECT_EQ(o->endpoint.region, "US-EAST-04A");
  EXPECT_EQ(o->endpoint.Display(), "http://127.0.0.1:9");
  EXPECT_TRUE(o->endpoint.virtual_hosted);
}

TEST_F(S3OptionsTest, NoCredentialsSaysWhereItLooked) {
  env_.erase("AWS_ACCESS_KEY_ID");
  env_.erase("AWS_SECRET_ACCESS_KEY");
  auto o = Resolve("s3://bucket");
  ASSERT_EQ(o.status().code(), StatusCode::kUnauthenticated);
  std::string msg(o.status().message());
  EXPECT_NE(msg.find("AWS_ACCESS_KEY_ID"), std::string::npos);
  EXPECT_NE(msg.find("--no-sign-request"), std::string::npos);
  EXPECT_NE(msg.find(dir_ / ".aws/credentials"), std::string::npos);
}

TEST_F(S3OptionsTest, NoSignRequestIsAnonymous) {
  env_.erase("AWS_ACCESS_KEY_ID");
  config_.options[kOptNoSignRequest] = "true";
  auto o = Resolve("s3://bucket");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_TRUE(o->credentials.anonymous());
}

TEST_F(S3OptionsTest, CoreWeaveEndpointChoice) {
  env_["AWS_REGION"] = "US-EAST-04A";
  env_["AWS_ENDPOINT_URL"] = "http://127.0.0.1:7480";  // an S3 endpoint never redirects cw://
  EXPECT_EQ(Resolve("cw://models")->endpoint.Display(), "https://cwobject.com");
  env_["DATACUBE_CW_ENDPOINT"] = "lota";
  EXPECT_EQ(Resolve("cw://models")->endpoint.Display(), "http://cwlota.com");
  config_.options[kOptCwEndpoint] = "public";
  EXPECT_EQ(Resolve("cw://models")->endpoint.Display(), "https://cwobject.com");
}

TEST_F(S3OptionsTest, GcsIgnoresAwsRegionAndEndpoint) {
  env_["AWS_REGION"] = "eu-west-1";
  env_["AWS_ENDPOINT_URL"] = "http://127.0.0.1:7480";
  auto o = Resolve("gs://my_bucket");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->endpoint.Display(), "https://storage.googleapis.com");
  EXPECT_EQ(o->endpoint.region, "auto");
}

TEST_F(S3OptionsTest, CaBundleFromAwsCaBundle) {
  testing::WriteFile(dir_ / "ca.pem", "-----BEGIN CERTIFICATE-----\n");
  env_["AWS_CA_BUNDLE"] = dir_ / "ca.pem";
  auto o = Resolve("s3://bucket");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->transport.ca_file, dir_ / "ca.pem");

  env_["AWS_CA_BUNDLE"] = dir_ / "missing.pem";
  auto bad = Resolve("s3://bucket");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(bad.status().message()).find("AWS_CA_BUNDLE"), std::string::npos);

  config_.options[kOptCaBundle] = dir_ / "ca.pem";  // the option wins over the variable
  EXPECT_TRUE(Resolve("s3://bucket").ok());
}

TEST_F(S3OptionsTest, ProxiesComeFromTheConfigEnvironment) {
  env_["HTTPS_PROXY"] = "http://127.0.0.1:3128";
  EXPECT_EQ(Resolve("s3://bucket")->transport.https_proxy, "http://127.0.0.1:3128");
}

TEST_F(S3OptionsTest, BadValuesNameTheOption) {
  config_.options[kOptAddressing] = "sideways";
  EXPECT_NE(std::string(Resolve("s3://bkt").status().message()).find(kOptAddressing),
            std::string::npos);
  config_.options.erase(kOptAddressing);
  config_.options[kOptNoCheckBucket] = "maybe";
  EXPECT_NE(std::string(Resolve("s3://bkt").status().message()).find(kOptNoCheckBucket),
            std::string::npos);
  config_.options.erase(kOptNoCheckBucket);
  config_.options[kOptUploadChecksum] = "crc32";
  EXPECT_NE(std::string(Resolve("s3://bkt").status().message()).find(kOptUploadChecksum),
            std::string::npos);
}

// A CR or LF in a credential would become a header of its own at the server: refused at load,
// from every source, naming where it came from and never showing the value.
TEST_F(S3OptionsTest, CredentialsWithControlCharactersAreRefusedNamingTheirSource) {
  const std::string evil = "AKID\r\nX-Injected: yes";
  const std::string evil_secret = "secretPart\nX-Injected: yes";
  struct Case {
    std::string what;
    std::function<void()> set;
    std::string named;
  };
  std::vector<Case> cases = {
      {"option id",
       [&] {
         config_.options = {{kOptAccessKeyId, evil}, {kOptSecretAccessKey, "s"}};
       },
       "option s3-access-key-id"},
      {"option secret",
       [&] {
         config_.options = {{kOptAccessKeyId, "AKID"}, {kOptSecretAccessKey, evil_secret}};
       },
       "option s3-secret-access-key"},
      {"option token",
       [&] {
         config_.options = {{kOptAccessKeyId, "AKID"},
                            {kOptSecretAccessKey, "s"},
                            {kOptSessionToken, evil_secret}};
       },
       "option s3-session-token"},
      {"env id", [&] { env_["AWS_ACCESS_KEY_ID"] = evil; }, "AWS_ACCESS_KEY_ID"},
      {"env secret", [&] { env_["AWS_SECRET_ACCESS_KEY"] = evil_secret; }, "AWS_SECRET_ACCESS_KEY"},
      {"env token", [&] { env_["AWS_SESSION_TOKEN"] = "tok\x01"; }, "AWS_SESSION_TOKEN"},
      {"profile secret",
       [&] {
         env_.erase("AWS_ACCESS_KEY_ID");
         env_.erase("AWS_SECRET_ACCESS_KEY");
         WriteAwsFiles("[default]\naws_access_key_id = AKID\naws_secret_access_key = ab\x1b[2Jcd\n",
                       "");
       },
       "aws_secret_access_key of AWS profile \"default\""},
      {"endpoint",
       [&] {
         config_.options = {{kOptEndpoint, "http://127.0.0.1:1\r\nHost: evil"}};
       },
       "option s3-endpoint"},
      {"endpoint env", [&] { env_["AWS_ENDPOINT_URL"] = "http://h\n"; }, "AWS_ENDPOINT_URL"},
      {"region", [&] { env_["AWS_REGION"] = "us-east-1\r\nX: y"; }, "AWS_REGION"},
  };
  for (const auto& c : cases) {
    SetUp();
    config_.options.clear();
    c.set();
    auto o = Resolve("s3://bucket/p");
    EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument) << c.what;
    const std::string msg(o.status().message());
    EXPECT_NE(msg.find(c.named), std::string::npos) << c.what << ": " << msg;
    EXPECT_NE(msg.find("control character"), std::string::npos) << c.what << ": " << msg;
    EXPECT_EQ(msg.find("X-Injected"), std::string::npos) << c.what << ": value shown: " << msg;
    EXPECT_EQ(msg.find("secretPart"), std::string::npos) << c.what << ": value shown: " << msg;
    env_.clear();
  }
}

}  // namespace
}  // namespace datacube::storage::s3
