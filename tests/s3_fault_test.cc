// Faults between datacube and a real S3 server: the fault proxy (testing/fault_proxy) sits in
// front of Ceph RGW as a reverse proxy and answers 503 SlowDown, cuts a response mid-body or
// flips a byte, as each test asks. Outcomes are checked on the server (with the AWS CLI) and in
// the proxy's request log.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <set>

#include "datacube/crypto/sha256.h"
#include "testing/fault_proxy/fault_proxy_process.h"
#include "tests/s3_test_fixture.h"

namespace datacube::testing {
namespace {

constexpr uint64_t kMiB = 1 << 20;

class S3FaultTest : public S3TestFixture {
 protected:
  // Starts the proxy in front of the S3 server with `faults` (fault_proxy flags).
  void StartProxy(const std::vector<std::string>& faults) {
    std::vector<std::string> args = {"--upstream", clients().server().endpoint};
    args.insert(args.end(), faults.begin(), faults.end());
    proxy_.emplace(FAULT_PROXY_BIN, args);
    ASSERT_TRUE(proxy_->ok()) << proxy_->error();
  }

  // datacube talking to the S3 server through the proxy.
  CommandResult ViaProxy(const std::vector<std::string>& args,
                         std::map<std::string, std::string> env = {}) {
    env["AWS_ENDPOINT_URL_S3"] = proxy_->url();
    return clients().Datacube(args, env);
  }

  std::vector<nlohmann::json> Log() const {
    std::vector<nlohmann::json> out;
    for (const auto& line : proxy_->LogLines()) out.push_back(nlohmann::json::parse(line));
    return out;
  }
  int Count(const std::string& fault) const {
    int n = 0;
    for (const auto& e : Log()) n += e.value("fault", "") == fault;
    return n;
  }
  // Part numbers of the successful UploadPart requests in the log.
  std::set<std::string> PartsUploaded() const {
    std::set<std::string> parts;
    for (const auto& e : Log()) {
      std::string target = e.value("target", "");
      size_t at = target.find("partNumber=");
      if (e.value("method", "") != "PUT" || e.value("status", 0) != 200 ||
          at == std::string::npos) {
        continue;
      }
      at += std::string("partNumber=").size();
      parts.insert(target.substr(at, target.find('&', at) - at));
    }
    return parts;
  }
  std::string LogText() const {
    std::string s;
    for (const auto& line : proxy_->LogLines()) s += line + "\n";
    return s;
  }

  std::optional<FaultProxyProcess> proxy_;
};

TEST_F(S3FaultTest, SlowDownBurstOnUploadPartsIsRetriedAndTheCopySucceeds) {
  const std::string sha = WriteRandomFile(tmp_ / "big.bin", 20 * kMiB + 3, 11);
  StartProxy({"--match", "partNumber=", "--fail-first", "3"});
  auto r = ViaProxy({"-q", "cp", tmp_ / "big.bin", Url("slow/big.bin")});
  ASSERT_EQ(r.exit_code, 0) << r.err << "\n" << LogText();
  EXPECT_EQ(Count("fail"), 3) << LogText();
  auto down =
      clients().Aws({"s3", "cp", "--only-show-errors", Url("slow/big.bin"), tmp_ / "back.bin"});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_EQ(Sha256OfFile(tmp_ / "back.bin"), sha);
}

TEST_F(S3FaultTest, SlowDownBurstOnDownloadIsRetriedAndTheCopySucceeds) {
  const std::string sha = WriteRandomFile(tmp_ / "f.bin", 3 * kMiB, 12);
  ASSERT_EQ(clients().Datacube({"-q", "cp", tmp_ / "f.bin", Url("slow/f.bin")}).exit_code, 0);
  StartProxy({"--match", "GET ", "--fail-first", "4"});
  auto r = ViaProxy({"-q", "cp", Url("slow/f.bin"), tmp_ / "out.bin"});
  ASSERT_EQ(r.exit_code, 0) << r.err << "\n" << LogText();
  EXPECT_EQ(Count("fail"), 4) << LogText();
  EXPECT_EQ(Sha256OfFile(tmp_ / "out.bin"), sha);
}

TEST_F(S3FaultTest, ConnectionCutMidBodyIsRetriedFromThatPart) {
  constexpr uint64_t kSize = 48 * kMiB + 5;  // several ranged parts
  const std::string sha = WriteRandomFile(tmp_ / "f.bin", kSize, 13);
  ASSERT_EQ(clients().Datacube({"-q", "cp", tmp_ / "f.bin", Url("cut/f.bin")}).exit_code, 0);
  constexpr uint64_t kCutAfter = 1 << 20;
  StartProxy({"--match", "GET ", "--cut-first", "1", "--cut-after", std::to_string(kCutAfter)});
  auto r = ViaProxy({"-q", "cp", Url("cut/f.bin"), tmp_ / "out.bin"});
  ASSERT_EQ(r.exit_code, 0) << r.err << "\n" << LogText();
  EXPECT_EQ(Sha256OfFile(tmp_ / "out.bin"), sha);
  EXPECT_EQ(Count("cut"), 1) << LogText();
  // Only the cut part was fetched again: the bodies add up to the object plus what was sent
  // before the cut (plus at most one more part-sized slack for a partial resume strategy),
  // never to the object twice.
  uint64_t body_bytes = 0;
  int gets = 0;
  for (const auto& e : Log()) {
    if (e.value("method", "") != "GET" ||
        e.value("target", "").find("cut/f.bin") == std::string::npos)
      continue;
    body_bytes += e.value("response_bytes", uint64_t{0});
    ++gets;
  }
  EXPECT_GE(body_bytes, kSize) << LogText();
  EXPECT_LE(body_bytes, kSize + 16 * kMiB) << "refetched more than one part\n" << LogText();
  EXPECT_GE(gets, 3) << "expected parallel ranged GETs for a 48 MiB object\n" << LogText();
}

TEST_F(S3FaultTest, CorruptedBodyIsACheckSumMismatchThenRefetched) {
  const std::string sha = WriteRandomFile(tmp_ / "f.bin", 5 * kMiB + 17, 14);
  ASSERT_EQ(clients().Datacube({"-q", "cp", tmp_ / "f.bin", Url("bad/f.bin")}).exit_code, 0);

  // Once: detected, fetched again, the file at the final path is right.
  StartProxy({"--match", "GET ", "--corrupt-first", "1", "--corrupt-offset", "4242"});
  auto once = ViaProxy({"cp", Url("bad/f.bin"), tmp_ / "once.bin"});
  ASSERT_EQ(once.exit_code, 0) << once.err << "\n" << LogText();
  EXPECT_EQ(Count("corrupt"), 1) << LogText();
  EXPECT_EQ(Sha256OfFile(tmp_ / "once.bin"), sha);

  // Always: the copy fails with a checksum error and leaves no file behind.
  StartProxy({"--match", "GET ", "--corrupt-first", "1000", "--corrupt-offset", "4242"});
  auto always = ViaProxy({"cp", "--retries", "2", Url("bad/f.bin"), tmp_ / "always.bin"});
  EXPECT_EQ(always.exit_code, 1) << always.err;
  EXPECT_TRUE(Contains(always.err, "SHA-256") || Contains(always.err, "checksum")) << always.err;
  EXPECT_TRUE(Contains(always.err, "f.bin")) << always.err;
  EXPECT_FALSE(Exists(tmp_ / "always.bin")) << "a corrupt download reached its final path";
  EXPECT_GE(Count("corrupt"), 2) << "the mismatch was not retried\n" << LogText();
}

TEST_F(S3FaultTest, WrongCredentialsEndAtOnceWithoutRetries) {
  WriteFile(tmp_ / "f.txt", "x");
  ASSERT_EQ(clients().Datacube({"-q", "cp", tmp_ / "f.txt", Url("cred/f.txt")}).exit_code, 0);
  StartProxy({});
  auto start = std::chrono::steady_clock::now();
  auto r = ViaProxy({"cp", Url("cred/f.txt"), tmp_ / "out.txt"},
                    {{"AWS_SECRET_ACCESS_KEY", kWrongSecret}});
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_LT(took, 5.0);
  EXPECT_TRUE(Contains(r.err, "SignatureDoesNotMatch")) << r.err;
  // No request is repeated after a 403 (a HEAD may be followed by one GET that fetches the
  // error code HEAD responses cannot carry).
  std::set<std::string> refused;
  for (const auto& e : Log()) {
    if (e.value("status", 0) != 403) continue;
    std::string request = e.value("method", "") + " " + e.value("target", "");
    EXPECT_TRUE(refused.insert(request).second) << "retried after 403: " << request << "\n"
                                                << LogText();
  }
  EXPECT_GE(refused.size(), 1u) << LogText();
  EXPECT_LE(Log().size(), 3u) << LogText();
  EXPECT_FALSE(Exists(tmp_ / "out.txt"));
}

std::string MultipartUploads(S3Clients& clients, const std::string& bucket,
                             const std::string& prefix) {
  auto r = clients.Aws({"s3api", "list-multipart-uploads", "--bucket", bucket, "--prefix", prefix,
                        "--output", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

TEST_F(S3FaultTest, UploadStoppedByTransientErrorsResumesOnTheNextRun) {
  // 20 MiB in 8 MiB parts: part 2 keeps failing with 500, parts 1 and 3 land.
  const std::string sha = WriteRandomFile(tmp_ / "big.bin", 20 * kMiB, 15);
  StartProxy({"--match", "partNumber=2&", "--fail-first", "100000", "--fail-status", "500",
              "--fail-code", "InternalError"});
  auto r = ViaProxy({"cp", "--retries", "2", tmp_ / "big.bin", Url("resume/big.bin")});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(Contains(r.err, "InternalError") || Contains(r.err, "500")) << r.err;
  EXPECT_TRUE(HeadObject(prefix_ + "resume/big.bin").empty()) << "a failed upload is visible";
  // Kept on the server for the next run (transient trouble), not completed.
  EXPECT_TRUE(Contains(MultipartUploads(clients(), bucket_, prefix_ + "resume/"), "UploadId"));
  std::set<std::string> landed = PartsUploaded();
  EXPECT_FALSE(landed.empty()) << "no part landed before the failure\n" << LogText();
  EXPECT_FALSE(landed.count("2")) << LogText();

  // The next run sends only the parts that did not land, and completes the upload.
  StartProxy({});
  auto again = ViaProxy({"cp", tmp_ / "big.bin", Url("resume/big.bin")});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  std::set<std::string> resent = PartsUploaded();
  EXPECT_TRUE(resent.count("2")) << LogText();
  for (const auto& part : landed) {
    EXPECT_FALSE(resent.count(part)) << "part " << part << " was sent twice\n" << LogText();
  }
  EXPECT_EQ(landed.size() + resent.size(), 3u) << LogText();
  auto back = clients().Aws({"s3", "cp", "--only-show-errors", Url("resume/big.bin"), tmp_ / "b"});
  ASSERT_EQ(back.exit_code, 0) << back.err;
  EXPECT_EQ(Sha256OfFile(tmp_ / "b"), sha);
  EXPECT_FALSE(Contains(MultipartUploads(clients(), bucket_, prefix_ + "resume/"), "UploadId"));
}

TEST_F(S3FaultTest, UploadRefusedByTheServerIsAborted) {
  WriteRandomFile(tmp_ / "big.bin", 20 * kMiB, 16);
  StartProxy({"--match", "partNumber=2&", "--fail-first", "100000", "--fail-status", "403",
              "--fail-code", "AccessDenied"});
  auto r = ViaProxy({"cp", tmp_ / "big.bin", Url("abort/big.bin")});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(Contains(r.err, "AccessDenied")) << r.err;
  EXPECT_EQ(Count("fail"), 1) << "AccessDenied must not be retried\n" << LogText();
  EXPECT_TRUE(HeadObject(prefix_ + "abort/big.bin").empty()) << "a failed upload is visible";
  EXPECT_FALSE(Contains(MultipartUploads(clients(), bucket_, prefix_ + "abort/"), "UploadId"))
      << "multipart upload left behind";
}

// Objects written by other tools carry no x-amz-meta-sha256: the digests RGW offers instead
// (a single-part ETag's MD5, rclone's md5chksum on its multipart uploads) catch a flipped byte,
// and the same objects copied cleanly count as verified.
TEST_F(S3FaultTest, FlippedByteInForeignObjectsIsCaughtByTheDigestsTheyOffer) {
  WriteRandomFile(tmp_ / "small.bin", 300 * 1024, 21);
  const std::string big_sha = WriteRandomFile(tmp_ / "big.bin", 6 * kMiB + 5, 22);
  ASSERT_EQ(clients()
                .Aws({"s3", "cp", "--only-show-errors", tmp_ / "small.bin", Url("foreign/aws.bin")})
                .exit_code,
            0);
  // rclone in 5 MiB chunks: a multipart ETag, with the MD5 in x-amz-meta-md5chksum.
  auto rc =
      clients().Rclone({"copyto", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M",
                        tmp_ / "big.bin", "rgw:" + bucket_ + "/" + prefix_ + "foreign/rclone.bin"});
  ASSERT_EQ(rc.exit_code, 0) << rc.err;
  auto head = HeadObject(prefix_ + "foreign/rclone.bin");
  ASSERT_NE(head.value("ETag", "").find("-"), std::string::npos) << head.dump();
  ASSERT_TRUE(head["Metadata"].contains("md5chksum")) << head.dump();
  ASSERT_FALSE(HeadObject(prefix_ + "foreign/aws.bin")["Metadata"].contains("sha256"));

  for (const std::string name : {"aws.bin", "rclone.bin"}) {
    // Every GET of the object body gets a flipped byte (at 100: inside the first range).
    StartProxy({"--match", "GET /" + bucket_ + "/" + prefix_ + "foreign/" + name, "--corrupt-first",
                "1000", "--corrupt-offset", "100"});
    const std::string out = tmp_ / ("out-" + name);
    ::mkdir(out.c_str(), 0755);
    auto bad = ViaProxy({"cp", "--retries", "2", Url("foreign/" + name), out + "/"});
    EXPECT_EQ(bad.exit_code, 1) << name << ": " << bad.err;
    EXPECT_NE(bad.err.find("checksum mismatch"), std::string::npos) << name << ": " << bad.err;
    EXPECT_NE(bad.err.find(name == "aws.bin" ? "ETag says MD5" : "x-amz-meta-md5chksum says MD5"),
              std::string::npos)
        << bad.err;
    EXPECT_GT(Count("corrupt"), 0) << LogText();
    EXPECT_TRUE(ListFilesRecursive(out).empty()) << name << ": something landed";
    // Without the fault the same copy verifies.
    auto good = clients().Datacube({"cp", Url("foreign/" + name), out + "/"});
    EXPECT_EQ(good.exit_code, 0) << name << ": " << good.err;
    EXPECT_EQ(good.err.find("unverified"), std::string::npos) << good.err;
  }
  EXPECT_EQ(Sha256OfFile(tmp_ / "out-rclone.bin/rclone.bin"), big_sha);
}

// A multipart upload that records no checksum at all (the AWS CLI's) is copied, counted as
// unverified, and refused with --require-checksum.
TEST_F(S3FaultTest, ObjectsWithoutAnyDigestAreCountedAndRefusedOnRequest) {
  WriteRandomFile(tmp_ / "mp.bin", 9 * kMiB, 23);
  auto up =
      clients().Aws({"s3", "cp", "--only-show-errors", tmp_ / "mp.bin", Url("nodigest/mp.bin")});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  auto head = HeadObject(prefix_ + "nodigest/mp.bin");
  ASSERT_NE(head.value("ETag", "").find("-"), std::string::npos) << head.dump();
  const std::string out = tmp_ / "out";
  ::mkdir(out.c_str(), 0755);
  auto refused = clients().Datacube({"cp", "--require-checksum", Url("nodigest/"), out});
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_NE(refused.err.find("offers no checksum"), std::string::npos) << refused.err;
  EXPECT_TRUE(ListFilesRecursive(out).empty());
  auto counted = clients().Datacube({"cp", Url("nodigest/"), out});
  EXPECT_EQ(counted.exit_code, 0) << counted.err;
  EXPECT_NE(counted.err.find("1 unverified"), std::string::npos) << counted.err;
}

}  // namespace
}  // namespace datacube::testing
