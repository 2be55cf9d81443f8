// The egress policy and the audit log against the real S3 server of the run (Ceph RGW), with the
// fault proxy in front of it as a request log: a refused transfer must not send the destination
// a single request, and an allowed one must arrive.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "testing/fault_proxy/fault_proxy_process.h"
#include "tests/s3_test_fixture.h"

namespace datacube::testing {
namespace {

class GovernanceS3Test : public S3TestFixture {
 protected:
  void SetUp() override {
    S3TestFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    proxy_.emplace(FAULT_PROXY_BIN,
                   std::vector<std::string>{"--upstream", clients().server().endpoint});
    ASSERT_TRUE(proxy_->ok()) << proxy_->error();
    // training-data may only go to a region this server is not in; model-weights to its own.
    const std::string region = clients().server().region;
    WriteFile(policy_,
              "version: 1\nclasses:\n"
              "  training-data:\n    sensitivity: confidential\n    may_hold_pii: true\n"
              "    encryption_required: false\n    approved_regions: [\"eu-north-9\"]\n"
              "    allowed_providers: [\"s3\"]\n"
              "  model-weights:\n    sensitivity: internal\n"
              "    approved_regions: [\"" +
                  region +
                  "\"]\n"
                  "    allowed_providers: [\"s3\"]\n");
    ::mkdir((tmp_ / "data").c_str(), 0755);
    WriteFile(tmp_ / "data/shard-0.parquet", std::string(100000, 'p'));
  }

  CommandResult CopyAs(const std::string& data_class) {
    return clients().Datacube({"-q", "cp", tmp_ / "data", Url("out/"), "--class", data_class,
                               "--policy", policy_, "--audit-log", audit_, "--actor", "ci-bot"},
                              {{"AWS_ENDPOINT_URL_S3", proxy_->url()}});
  }

  std::string policy_ = tmp_ / "policy.yaml";
  std::string audit_ = tmp_ / "audit.log";
  std::optional<FaultProxyProcess> proxy_;
};

std::vector<nlohmann::json> Records(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::string text = ReadFile(path);
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    out.push_back(nlohmann::json::parse(text.substr(start, nl - start)));
  }
  return out;
}

TEST_F(GovernanceS3Test, TrainingDataOutsideItsRegionsIsRefusedBeforeAnyRequest) {
  auto denied = CopyAs("training-data");
  EXPECT_EQ(denied.exit_code, 1) << denied.err;
  for (const std::string& word : std::vector<std::string>{
           "egress denied", "training-data", "approved_regions", clients().server().region}) {
    EXPECT_NE(denied.err.find(word), std::string::npos) << word << " in: " << denied.err;
  }
  EXPECT_TRUE(proxy_->LogLines().empty()) << "the destination saw a request";
  EXPECT_TRUE(HeadObject(prefix_ + "out/shard-0.parquet").empty());

  auto allowed = CopyAs("model-weights");
  ASSERT_EQ(allowed.exit_code, 0) << allowed.err;
  EXPECT_FALSE(proxy_->LogLines().empty());
  EXPECT_FALSE(HeadObject(prefix_ + "out/shard-0.parquet").empty());

  auto records = Records(audit_);
  ASSERT_EQ(records.size(), 2u) << ReadFile(audit_);
  EXPECT_EQ(records[0]["action"], "refusal");
  EXPECT_EQ(records[0]["result"], "denied");
  EXPECT_EQ(records[0]["class"], "training-data");
  EXPECT_EQ(records[0]["actor"], "ci-bot");
  EXPECT_EQ(records[1]["action"], "transfer");
  EXPECT_EQ(records[1]["result"], "ok");
  EXPECT_EQ(records[1]["bytes"], 100000);
  EXPECT_EQ(records[1]["files"], 1);
  EXPECT_EQ(records[1]["manifest_digest"].get<std::string>().rfind("sha256:", 0), 0u);
  auto verify = clients().Datacube({"audit", "verify", audit_});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
}

TEST_F(GovernanceS3Test, PolicyCheckExplainsWithoutARequest) {
  auto r = clients().Datacube({"policy", "check", tmp_ / "data", Url("out/"), "--class",
                               "training-data", "--policy", policy_, "--json"},
                              {{"AWS_ENDPOINT_URL_S3", proxy_->url()}});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  auto decision = nlohmann::json::parse(r.out);
  EXPECT_EQ(decision["allowed"], false);
  EXPECT_EQ(decision["rule"], "approved_regions");
  EXPECT_EQ(decision["region"], clients().server().region);
  EXPECT_TRUE(proxy_->LogLines().empty());
}

TEST_F(GovernanceS3Test, SyncDeletionsAreAudited) {
  ASSERT_EQ(CopyAs("model-weights").exit_code, 0);
  WriteFile(tmp_ / "data/shard-1.parquet", "new");
  ::unlink((tmp_ / "data/shard-0.parquet").c_str());
  auto r = clients().Datacube({"-q", "sync", "--delete", tmp_ / "data", Url("out/"), "--audit-log",
                               audit_, "--class", "model-weights", "--policy", policy_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto records = Records(audit_);
  ASSERT_EQ(records.size(), 3u) << ReadFile(audit_);
  EXPECT_EQ(records[2]["action"], "delete");
  EXPECT_NE(records[2]["destination"].get<std::string>().find("out/shard-0.parquet"),
            std::string::npos);
  EXPECT_TRUE(HeadObject(prefix_ + "out/shard-0.parquet").empty());
}

}  // namespace
}  // namespace datacube::testing
