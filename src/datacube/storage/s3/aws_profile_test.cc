#include "datacube/storage/s3/aws_profile.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "testing/test_util/test_util.h"

namespace datacube::storage::s3 {
namespace {

TEST(ParseAwsIniTest, CredentialsFileSectionsAreProfileNames) {
  auto ini = ParseAwsIni(
      "# comment\n[default]\naws_access_key_id = AKIDDEFAULT\n"
      "aws_secret_access_key=secretdefault\n\n[work]\n AWS_ACCESS_KEY_ID = AKIDWORK \n"
      "; another comment\naws_session_token = tok\n",
      false);
  ASSERT_TRUE(ini.ok()) << ini.status().ToString();
  EXPECT_EQ((*ini)["default"]["aws_access_key_id"], "AKIDDEFAULT");
  EXPECT_EQ((*ini)["default"]["aws_secret_access_key"], "secretdefault");
  EXPECT_EQ((*ini)["work"]["aws_access_key_id"], "AKIDWORK");
  EXPECT_EQ((*ini)["work"]["aws_session_token"], "tok");
}

TEST(ParseAwsIniTest, ConfigFileProfilesAndNestedS3Section) {
  auto ini = ParseAwsIni(
      "[default]\nregion = us-west-2\n[profile cw]\nregion = US-EAST-04A\n"
      "endpoint_url = https://cwobject.com\ns3 =\n  addressing_style = virtual\n"
      "  endpoint_url = http://cwlota.com\nouput = json\n[sso-session corp]\nregion = x\n"
      "[cw]\nregion = ignored-without-profile-prefix\n",
      true);
  ASSERT_TRUE(ini.ok()) << ini.status().ToString();
  EXPECT_EQ((*ini)["default"]["region"], "us-west-2");
  EXPECT_EQ((*ini)["cw"]["region"], "US-EAST-04A");
  EXPECT_EQ((*ini)["cw"]["s3.addressing_style"], "virtual");
  EXPECT_EQ((*ini)["cw"]["s3.endpoint_url"], "http://cwlota.com");
  EXPECT_EQ((*ini)["cw"]["endpoint_url"], "https://cwobject.com");
  EXPECT_EQ((*ini)["cw"]["ouput"], "json");  // the sub-section ended at the unindented line
  EXPECT_EQ(ini->count("sso-session corp"), 0u);
}

TEST(ParseAwsIniTest, MalformedLineNamesTheLine) {
  auto ini = ParseAwsIni("[default]\nregion = a\nthis is not a setting\n", true);
  ASSERT_FALSE(ini.ok());
  EXPECT_NE(std::string(ini.status().message()).find("line 3"), std::string::npos);
}

class LoadAwsProfileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::WriteFile(dir_ / "credentials",
                       "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = sf\n"
                       "[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = sd\n");
    testing::WriteFile(dir_ / "config",
                       "[profile dev]\nregion = eu-west-1\naws_access_key_id = FROMCONFIG\n"
                       "[default]\nregion = us-east-2\n");
    env_["AWS_SHARED_CREDENTIALS_FILE"] = dir_ / "credentials";
    env_["AWS_CONFIG_FILE"] = dir_ / "config";
  }
  EnvLookup Env() {
    return [this](const std::string& n) -> std::optional<std::string> {
      auto it = env_.find(n);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
  }
  testing::TempDir dir_;
  std::map<std::string, std::string> env_;
};

TEST_F(LoadAwsProfileTest, DefaultProfileMergesBothFiles) {
  auto p = LoadAwsProfile("", Env());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->name, "default");
  EXPECT_EQ(p->Get("aws_access_key_id"), "AKIDFILE");
  EXPECT_EQ(p->Get("region"), "us-east-2");
}

TEST_F(LoadAwsProfileTest, NamedProfileFromEnvAndCredentialsFileWins) {
  env_["AWS_PROFILE"] = "dev";
  auto p = LoadAwsProfile("", Env());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->Get("aws_access_key_id"), "AKIDDEV");  // credentials file over config file
  EXPECT_EQ(p->Get("region"), "eu-west-1");
}

TEST_F(LoadAwsProfileTest, MissingNamedProfileIsAnErrorNamingTheFiles) {
  auto p = LoadAwsProfile("nope", Env());
  ASSERT_EQ(p.status().code(), StatusCode::kNotFound);
  EXPECT_NE(std::string(p.status().message()).find(dir_ / "credentials"), std::string::npos);
}

TEST_F(LoadAwsProfileTest, MissingFilesAreFineForTheDefaultProfile) {
  env_["AWS_SHARED_CREDENTIALS_FILE"] = dir_ / "absent1";
  env_["AWS_CONFIG_FILE"] = dir_ / "absent2";
  auto p = LoadAwsProfile("", Env());
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->found);
}

TEST_F(LoadAwsProfileTest, HomeDirectoryDefault) {
  env_.erase("AWS_SHARED_CREDENTIALS_FILE");
  env_.erase("AWS_CONFIG_FILE");
  ::mkdir((dir_ / ".aws").c_str(), 0700);
  testing::WriteFile(dir_ / ".aws/credentials", "[default]\naws_access_key_id = FROMHOME\n");
  env_["HOME"] = dir_.path();
  auto p = LoadAwsProfile("", Env());
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->Get("aws_access_key_id"), "FROMHOME");
}

}  // namespace
}  // namespace datacube::storage::s3
