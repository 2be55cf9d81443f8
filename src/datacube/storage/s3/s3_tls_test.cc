// AWS_CA_BUNDLE is honoured as curl's CA file: an HTTPS endpoint with a private CA works with
// the bundle and is refused, with advice, without it. A self-signed certificate for 127.0.0.1
// is made with the openssl command for each run; the server is cpp-httplib on loopback.
#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>

#include "datacube/storage/s3/s3_store.h"
#include "testing/test_util/test_util.h"

namespace datacube::storage::s3 {
namespace {

class S3TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r =
        testing::RunCommand({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                             dir_ / "key.pem", "-out", dir_ / "cert.pem", "-days", "1", "-subj",
                             "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    server_ = std::make_unique<httplib::SSLServer>((dir_ / "cert.pem").c_str(),
                                                   (dir_ / "key.pem").c_str());
    server_->Get("/bucket/k", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("abc", "application/octet-stream");
    });
    port_ = server_->bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
  }

  Result<ObjectInfo> StatWithEnv(std::map<std::string, std::string> env) {
    env["AWS_ACCESS_KEY_ID"] = "AKIDTLS";
    env["AWS_SECRET_ACCESS_KEY"] = "tlsTestSecret";
    env["HOME"] = dir_.path();
    StoreConfig c;
    c.options[kOptEndpoint] = "https://127.0.0.1:" + std::to_string(port_);
    c.getenv = [env](const std::string& n) -> std::optional<std::string> {
      auto it = env.find(n);
      if (it == env.end()) return std::nullopt;
      return it->second;
    };
    DC_ASSIGN_OR_RETURN(StoreRef ref,
                        OpenS3Location(*ParseLocation("s3://bucket/k"), c, OpenMode::kRead));
    return ref.store->Stat(ref.key);
  }

  testing::TempDir dir_;
  std::unique_ptr<httplib::SSLServer> server_;
  std::thread thread_;
  int port_ = 0;
};

TEST_F(S3TlsTest, AwsCaBundleIsTheTrustedCaFile) {
  auto ok = StatWithEnv({{"AWS_CA_BUNDLE", dir_ / "cert.pem"}});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->size, 3u);
}

TEST_F(S3TlsTest, WithoutTheBundleTheCertificateIsRefusedWithAdvice) {
  auto refused = StatWithEnv({});
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition)
      << refused.status().ToString();
  EXPECT_NE(std::string(refused.status().message()).find("AWS_CA_BUNDLE"), std::string::npos);
  EXPECT_FALSE(IsRetryable(refused.status()));
}

TEST_F(S3TlsTest, TheSystemBundleInAwsCaBundleDoesNotTrustAPrivateCa) {
  const char* system_bundle = "/etc/ssl/certs/ca-certificates.crt";
  if (!testing::Exists(system_bundle)) GTEST_SKIP() << "no system CA bundle";
  auto refused = StatWithEnv({{"AWS_CA_BUNDLE", system_bundle}});
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace datacube::storage::s3
