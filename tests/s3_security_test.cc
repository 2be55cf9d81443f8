// Bad credentials, hostile object keys and secret redaction against a real S3 server (Ceph RGW,
// which really verifies SigV4): wrong keys end at once with a clear message and exit 1, keys
// like "../../etc/passwd" write nothing outside the sink, and no output ever holds a secret.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>

#include "tests/s3_test_fixture.h"

namespace datacube::testing {
namespace {

using S3SecurityTest = S3TestFixture;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

TEST_F(S3SecurityTest, WrongSecretFailsAtOnceWithAClearMessage) {
  WriteFile(tmp_ / "f.txt", "data");
  ASSERT_EQ(clients().Datacube({"-q", "cp", tmp_ / "f.txt", Url("present.txt")}).exit_code, 0);
  const std::map<std::string, std::string> wrong = {{"AWS_SECRET_ACCESS_KEY", kWrongSecret}};

  struct Case {
    std::string what;
    std::vector<std::string> args;
  };
  const std::vector<Case> cases = {
      {"ls", {"ls", Url("")}},
      {"download", {"cp", Url("present.txt"), tmp_ / "out.txt"}},
      {"upload", {"cp", tmp_ / "f.txt", Url("never.txt")}},
      {"stat", {"stat", Url("present.txt")}},
  };
  for (const auto& c : cases) {
    auto start = Clock::now();
    auto r = clients().Datacube(c.args, wrong);
    double took = Seconds(start);
    EXPECT_EQ(r.exit_code, 1) << c.what << ": " << r.err;
    // Not retried with backoff: a signature error cannot heal.
    EXPECT_LT(took, 5.0) << c.what << " took " << took << " s: retried a permanent error?";
    EXPECT_TRUE(Contains(r.err, "SignatureDoesNotMatch")) << c.what << ": " << r.err;
    EXPECT_TRUE(Contains(r.err, bucket_)) << c.what << ": no bucket name in: " << r.err;
    EXPECT_TRUE(Contains(r.err, clients().server().host_port()))
        << c.what << ": no endpoint in: " << r.err;
  }
  EXPECT_FALSE(Exists(tmp_ / "out.txt"));
  EXPECT_TRUE(HeadObject(prefix_ + "never.txt").empty()) << "upload with a wrong secret landed";

  // An unknown access key is a different, equally clear error.
  auto start = Clock::now();
  auto r = clients().Datacube({"ls", Url("")}, {{"AWS_ACCESS_KEY_ID", "NOSUCHACCESSKEY00000"}});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_LT(Seconds(start), 5.0);
  EXPECT_TRUE(Contains(r.err, "InvalidAccessKeyId")) << r.err;
}

TEST_F(S3SecurityTest, TraversalKeysWriteNothingOutsideTheSink) {
  // A bucket of its own so the hostile keys sit at its root, exactly as written.
  const std::string bucket = UniqueBucketName("trav");
  ASSERT_EQ(clients().MakeBucket(bucket), "");
  WriteFile(tmp_ / "evil.txt", "root:x:0:0:owned:/root:/bin/sh\n");
  WriteFile(tmp_ / "fine.txt", "fine\n");
  const std::vector<std::string> hostile = {"../../etc/passwd", "a/../../../escape.txt",
                                            "/leading-slash.txt", "b/../../c.txt"};
  for (const auto& key : hostile) {
    auto put = clients().Aws(
        {"s3api", "put-object", "--bucket", bucket, "--key", key, "--body", tmp_ / "evil.txt"});
    ASSERT_EQ(put.exit_code, 0) << key << ": " << put.err;
  }
  ASSERT_EQ(clients()
                .Aws({"s3api", "put-object", "--bucket", bucket, "--key", "ok/fine.txt", "--body",
                      tmp_ / "fine.txt"})
                .exit_code,
            0);
  // The keys are stored verbatim on the server.
  auto list = clients().Aws({"s3api", "list-objects-v2", "--bucket", bucket, "--output", "json"});
  ASSERT_TRUE(Contains(list.out, "\"../../etc/passwd\"")) << list.out;

  const std::string passwd_before = Sha256OfFile("/etc/passwd");
  std::string outer = tmp_ / "outer";
  ::mkdir(outer.c_str(), 0755);
  ::mkdir((outer + "/sink").c_str(), 0755);
  auto r = clients().Datacube({"cp", "s3://" + bucket, outer + "/sink"});
  EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.exit_code << r.err;
  EXPECT_TRUE(Contains(r.err + r.out, "../../etc/passwd")) << "unsafe key not reported: " << r.err;
  EXPECT_EQ(ReadFile(outer + "/sink/ok/fine.txt"), "fine\n") << r.err;
  // --strict turns the skip into a failure, still writing nothing outside.
  std::string outer2 = tmp_ / "outer2";
  ::mkdir(outer2.c_str(), 0755);
  ::mkdir((outer2 + "/sink").c_str(), 0755);
  auto strict = clients().Datacube({"cp", "--strict", "s3://" + bucket, outer2 + "/sink"});
  EXPECT_NE(strict.exit_code, 0) << strict.err;
  EXPECT_TRUE(Contains(strict.err, "../../etc/passwd")) << strict.err;

  // Nothing but the safe file anywhere under the test's directory (the sinks' parents and
  // grandparents included), nothing at the root, /etc/passwd untouched.
  std::vector<std::string> files;
  for (const auto& f : ListFilesRecursive(tmp_.path())) {
    if (f.rfind(".clients/", 0) == 0 || f == "evil.txt" || f == "fine.txt") continue;
    if (f == "outer2/sink/ok/fine.txt") continue;  // --strict may copy it before failing
    files.push_back(f);
  }
  EXPECT_EQ(files, std::vector<std::string>{"outer/sink/ok/fine.txt"});
  EXPECT_FALSE(Exists("/leading-slash.txt"));
  EXPECT_EQ(Sha256OfFile("/etc/passwd"), passwd_before);

  clients().Aws({"s3", "rb", "--force", "s3://" + bucket});
}

TEST_F(S3SecurityTest, DebugAndJsonLogsNeverShowTheSecret) {
  WriteFile(tmp_ / "f.txt", "x");
  // Every code path that logs requests: upload, list, download, errors, at the highest verbosity.
  for (const auto& fmt : {"text", "json"}) {
    auto up = clients().Datacube({"-vvv", "--log-format", fmt, "cp", tmp_ / "f.txt", Url("v.txt")});
    EXPECT_EQ(up.exit_code, 0) << up.err;
    auto ls = clients().Datacube({"-vvv", "--log-format", fmt, "ls", Url("")});
    EXPECT_EQ(ls.exit_code, 0) << ls.err;
    auto bad = clients().Datacube({"-vvv", "--log-format", fmt, "ls", Url("")},
                                  {{"AWS_SECRET_ACCESS_KEY", kWrongSecret}});
    EXPECT_EQ(bad.exit_code, 1);
    auto ps = clients().Datacube({"-vvv", "--log-format", fmt, "presign", Url("v.txt")});
    EXPECT_EQ(ps.exit_code, 0) << ps.err;
  }
  // The secret also reaches datacube through a credentials file and a profile.
  WriteFile(tmp_ / "creds", "[other]\naws_access_key_id = " + clients().server().access_key +
                                "\naws_secret_access_key = " + clients().server().secret_key +
                                "\n");
  auto prof =
      clients().Datacube({"-vvv", "ls", Url("")}, {{"AWS_SHARED_CREDENTIALS_FILE", tmp_ / "creds"},
                                                   {"AWS_PROFILE", "other"},
                                                   {"AWS_ACCESS_KEY_ID", kUnsetVariable},
                                                   {"AWS_SECRET_ACCESS_KEY", kUnsetVariable}});
  EXPECT_EQ(prof.exit_code, 0) << prof.err;
  EXPECT_TRUE(Contains(prof.out, "v.txt")) << prof.out;
  // TearDown greps every output above for both secrets.
}

TEST_F(S3SecurityTest, AwsCaBundleInTheEnvironmentIsHarmless) {
  // Some machines export AWS_CA_BUNDLE; for a plain-http endpoint it must change nothing.
  WriteFile(tmp_ / "f.txt", "ca bundle\n");
  auto up = clients().Datacube({"-q", "cp", tmp_ / "f.txt", Url("ca.txt")},
                               {{"AWS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt"}});
  EXPECT_EQ(up.exit_code, 0) << up.err;
  auto down = clients().Datacube({"cat", Url("ca.txt")},
                                 {{"AWS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt"}});
  EXPECT_EQ(down.exit_code, 0) << down.err;
  EXPECT_EQ(down.out, "ca bundle\n");
}

}  // namespace
}  // namespace datacube::testing
