// gtest fixture for tests against the real S3 server of the run (Ceph RGW): one shared bucket,
// a key prefix of its own per test (removed afterwards), the clients of s3_clients.h, and a
// check after every test that no datacube output contained the secret key.
//
// Without the DATACUBE_TEST_S3_* variables the tests skip, or fail when
// DATACUBE_REQUIRE_SERVERS=1 (make test).
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "testing/s3_clients/s3_clients.h"

namespace datacube::testing {

// A wrong secret the tests use; it must not leak either.
inline constexpr char kWrongSecret[] = "wrongSecretForDatacubeTests000000000000z9";

class S3TestFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing;
    auto server = S3ServerFromEnv(&missing);
    if (!server) {
      if (ServersRequired()) {
        FAIL() << "no S3 test server: " << missing
               << " unset (testing/servers/rgw.sh start DIR writes them to DIR/rgw.env)";
      }
      GTEST_SKIP() << "no S3 test server (" << missing << " unset)";
    }
    ::mkdir((tmp_ / ".clients").c_str(), 0700);
    clients_.emplace(*server, tmp_ / ".clients");
    bucket_ = "dc-tests";
    std::string err = clients_->MakeBucket(bucket_);
    ASSERT_TRUE(err.empty()) << err;
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    prefix_ = std::string(info->name()) + "-" + UniqueBucketName("p").substr(5) + "/";
  }

  void TearDown() override {
    if (!clients_) return;
    auto leaks = clients_->SecretLeaks({clients_->server().secret_key, kWrongSecret});
    EXPECT_TRUE(leaks.empty()) << "a secret appeared in datacube's output or argv:\n"
                               << leaks.front();
    // Free the server's space (the large tests write GiBs).
    clients_->Aws(
        {"s3", "rm", "--recursive", "--only-show-errors", "s3://" + bucket_ + "/" + prefix_});
  }

  S3Clients& clients() { return *clients_; }
  // s3://bucket/<test prefix><rel>
  std::string Url(const std::string& rel) const { return "s3://" + bucket_ + "/" + prefix_ + rel; }

  // `aws s3api head-object` as JSON; {} when it fails.
  nlohmann::json HeadObject(const std::string& key, const std::string& bucket = "") {
    auto r = clients_->Aws({"s3api", "head-object", "--output", "json", "--bucket",
                            bucket.empty() ? bucket_ : bucket, "--key", key});
    if (r.exit_code != 0) return nlohmann::json::object();
    return nlohmann::json::parse(r.out, nullptr, false);
  }

  // `datacube presign ARGS`: the URL it printed, or "" (with a test failure) when it failed.
  std::string Presign(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"presign"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = clients_->Datacube(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string url;
    size_t start = 0;
    while (start < r.out.size()) {  // the last line that is a URL
      size_t end = r.out.find('\n', start);
      if (end == std::string::npos) end = r.out.size();
      std::string line = r.out.substr(start, end - start);
      if (line.rfind("http://", 0) == 0 || line.rfind("https://", 0) == 0) url = line;
      start = end + 1;
    }
    EXPECT_FALSE(url.empty()) << "no URL in: " << r.out;
    return url;
  }

  TempDir tmp_;
  std::optional<S3Clients> clients_;
  std::string bucket_;
  std::string prefix_;
};

}  // namespace datacube::testing
