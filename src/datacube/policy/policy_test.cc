#include "datacube/policy/policy.h"

#include <gtest/gtest.h>

#include <fstream>

namespace datacube::policy {
namespace {

Destination S3In(std::string region) { return {"s3", std::move(region), "s3.local", "s3://b/k"}; }

constexpr const char* kSmall = R"(version: 1
classes:
  logs:
    sensitivity: internal
    retention: 12h
    approved_regions: [eu-west-1]
    allowed_providers: [s3]
    allowed_endpoints: ["*.example.com"]
)";

TEST(PolicyParse, ReadsEveryField) {
  auto p = ParsePolicy(kSmall, "p.yaml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const ClassRule* rule = p->Find("logs");
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->sensitivity, "internal");
  EXPECT_EQ(rule->retention, std::chrono::seconds(12 * 3600));
  EXPECT_EQ(rule->approved_regions, std::vector<std::string>{"eu-west-1"});
  EXPECT_EQ(rule->allowed_endpoints, std::vector<std::string>{"*.example.com"});
  EXPECT_EQ(p->Find("other"), nullptr);
}

void ExpectError(const std::string& text, const std::string& want) {
  auto p = ParsePolicy(text, "bad.yaml");
  ASSERT_FALSE(p.ok()) << text;
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find(want), std::string_view::npos) << p.status().ToString();
}

TEST(PolicyParse, BadFieldsAreNamed) {
  const std::string head = "version: 1\nclasses:\n  c:\n    sensitivity: internal\n";
  const std::string where = "    approved_regions: ['*']\n    allowed_providers: [s3]\n";
  ExpectError(head + where + "    retention: 30 days\n", "bad.yaml: classes.c.retention: want");
  ExpectError(head + where + "    retention: 30y\n", "bad.yaml: classes.c.retention: ");
  ExpectError(head + where + "    colour: red\n", "bad.yaml: classes.c.colour: unknown field");
  ExpectError(head + where + "    may_hold_pii: maybe\n",
              "bad.yaml: classes.c.may_hold_pii: must be true or false");
  ExpectError(head + "    approved_regions: ['*']\n    allowed_providers: [s3, ftp]\n",
              "bad.yaml: classes.c.allowed_providers[1]: unknown provider \"ftp\"");
  ExpectError(head + "    allowed_providers: [s3]\n", "classes.c.approved_regions: is required");
  ExpectError(head + "    approved_regions: ['*']\n", "classes.c.allowed_providers: is required");
  ExpectError(head + where + "    approved_regions: eu\n",
              "classes.c.approved_regions: must be a list");
  ExpectError("version: 1\nclasses:\n  c:\n    sensitivity: secretive\n" + where,
              "classes.c.sensitivity: unknown sensitivity");
  ExpectError(head + where + "    age_from: birth\n", "classes.c.age_from: want object-time");
  ExpectError("version: 2\nclasses: {}\n", "bad.yaml: version: must be 1");
  ExpectError("version: 1\nclases: {}\n", "bad.yaml: clases: unknown field");
  ExpectError("version: 1\nclasses: [a]\n", "bad.yaml: classes: must be a map");
  ExpectError("version: 1\nclasses: {a: [\n", "bad.yaml: line ");
}

TEST(PolicyParse, LoadFileNamesThePath) {
  auto missing = LoadPolicyFile("/nonexistent/policy.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/policy.yaml"), std::string_view::npos);
  std::string path = ::testing::TempDir() + "/policy_test.yaml";
  std::ofstream(path) << kSmall;
  auto p = LoadPolicyFile(path);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->origin, path);
}

TEST(PolicyDefault, EncodesTheTable) {
  const Policy& p = DefaultPolicy();
  for (const char* name :
       {"model-weights", "training-data", "checkpoint", "inference-cache", "secret"}) {
    EXPECT_NE(p.Find(name), nullptr) << name;
  }
  EXPECT_TRUE(p.Find("training-data")->may_hold_pii);
  EXPECT_TRUE(p.Find("training-data")->encryption_required);
  EXPECT_EQ(p.Find("checkpoint")->retention, std::chrono::seconds(30 * 86400));
  EXPECT_EQ(p.Find("inference-cache")->retention, std::chrono::seconds(7 * 86400));
  EXPECT_EQ(p.Find("secret")->sensitivity, "restricted");
  EXPECT_FALSE(p.Find("model-weights")->retention.has_value());
}

TEST(PolicyDefault, FormatParsesBackToTheSameTable) {
  std::string text = FormatPolicy(DefaultPolicy());
  auto p = ParsePolicy(text, "shown");
  ASSERT_TRUE(p.ok()) << p.status().ToString() << "\n" << text;
  std::string again = FormatPolicy(*p);
  EXPECT_EQ(again.substr(again.find('\n')), text.substr(text.find('\n')));
}

TEST(CheckEgress, TrainingDataOutsideApprovedRegionsIsDenied) {
  Decision d = CheckEgress(DefaultPolicy(), "training-data", S3In("ap-south-1"));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.rule, "approved_regions");
  EXPECT_NE(d.reason.find("egress denied: class training-data may not go to region ap-south-1"),
            std::string::npos)
      << d.reason;
}

TEST(CheckEgress, ModelWeightsGoAnywhere) {
  EXPECT_TRUE(CheckEgress(DefaultPolicy(), "model-weights", S3In("ap-south-1")).allowed);
  Destination hf{"huggingface", "none", "huggingface.co", "hf://org/model"};
  EXPECT_TRUE(CheckEgress(DefaultPolicy(), "model-weights", hf).allowed);
  Decision d = CheckEgress(DefaultPolicy(), "training-data", hf);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.rule, "allowed_providers");
}

TEST(CheckEgress, EncryptionRequiredRefusesPlainUpload) {
  Decision d = CheckEgress(DefaultPolicy(), "training-data", S3In("us-east-1"));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.rule, "encryption_required");
  Destination encrypted = S3In("us-east-1");
  encrypted.encrypted = true;
  EXPECT_TRUE(CheckEgress(DefaultPolicy(), "training-data", encrypted).allowed);
  Destination local{"local", "local", "", "/data/x"};
  EXPECT_TRUE(CheckEgress(DefaultPolicy(), "training-data", local).allowed);
}

TEST(CheckEgress, SecretNeverLeaves) {
  Destination encrypted = S3In("us-east-1");
  encrypted.encrypted = true;
  Decision d = CheckEgress(DefaultPolicy(), "secret", encrypted);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.rule, "allowed_providers");
  EXPECT_TRUE(CheckEgress(DefaultPolicy(), "secret", {"local", "local", "", "/x"}).allowed);
}

TEST(CheckEgress, UnknownAndEmptyClass) {
  Decision unknown = CheckEgress(DefaultPolicy(), "weights", S3In("us-east-1"));
  EXPECT_FALSE(unknown.allowed);
  EXPECT_EQ(unknown.rule, "unknown-class");
  EXPECT_NE(unknown.reason.find("class weights is not defined"), std::string::npos);
  Decision none = CheckEgress(DefaultPolicy(), "", S3In("us-east-1"));
  EXPECT_TRUE(none.allowed);
  EXPECT_EQ(none.rule, "unclassified");
  EXPECT_NE(none.reason.find("no egress rule applies"), std::string::npos);
}

TEST(CheckEgress, EndpointGlobs) {
  auto p = ParsePolicy(kSmall, "p.yaml");
  ASSERT_TRUE(p.ok());
  Destination ok{"s3", "EU-WEST-1", "s3.example.com", "s3://b"};
  EXPECT_TRUE(CheckEgress(*p, "logs", ok).allowed);
  Destination other{"s3", "eu-west-1", "s3.other.org", "s3://b"};
  Decision d = CheckEgress(*p, "logs", other);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.rule, "allowed_endpoints");
}

}  // namespace
}  // namespace datacube::policy
