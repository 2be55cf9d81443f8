// Interoperability of datacube's S3 backend with the reference clients against a real S3 server
// (Ceph RGW, testing/servers/rgw.sh): what datacube uploads, the AWS CLI and rclone read back
// byte for byte, and what they upload datacube downloads and verifies; presigned URLs from
// `datacube presign` work with plain curl. Every test also checks that no datacube output
// contains the secret key.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "datacube/crypto/sha256.h"
#include "tests/s3_test_fixture.h"

namespace datacube::testing {
namespace {

constexpr uint64_t kMiB = 1 << 20;

using S3InteropTest = S3TestFixture;

// Sizes around the single-request / multipart boundaries (default part size 8 MiB, S3's
// minimum part 5 MiB), and one object of several parts.
const std::vector<std::pair<std::string, uint64_t>> kSizes = {
    {"one-byte.bin", 1},
    {"page-minus-one.bin", 4095},
    {"five-mib.bin", 5 * kMiB},
    {"eight-mib.bin", 8 * kMiB},
    {"eight-mib-plus-one.bin", 8 * kMiB + 1},
    {"sub/dir/thirty-three-mib.bin", 33 * kMiB + 7},
};

TEST_F(S3InteropTest, DatacubeUploadsReadBackIdenticallyByAwsCliAndRclone) {
  ::mkdir((tmp_ / "src").c_str(), 0755);
  ::mkdir((tmp_ / "src/sub").c_str(), 0755);
  ::mkdir((tmp_ / "src/sub/dir").c_str(), 0755);
  std::map<std::string, std::string> sha;
  uint64_t seed = 1;
  for (const auto& [name, size] : kSizes)
    sha[name] = WriteRandomFile(tmp_ / ("src/" + name), size, seed++);

  auto up = clients().Datacube({"-q", "cp", tmp_ / "src", Url("up/")});
  ASSERT_EQ(up.exit_code, 0) << up.err;

  // The AWS CLI and rclone each download the whole prefix.
  auto aws = clients().Aws({"s3", "cp", "--recursive", "--only-show-errors",
                            "s3://" + bucket_ + "/" + prefix_ + "up/", tmp_ / "by-aws"});
  ASSERT_EQ(aws.exit_code, 0) << aws.err;
  auto rc = clients().Rclone({"copy", "rgw:" + bucket_ + "/" + prefix_ + "up", tmp_ / "by-rclone"});
  ASSERT_EQ(rc.exit_code, 0) << rc.err;
  std::vector<std::string> names;
  for (const auto& [name, size] : kSizes) names.push_back(name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(ListFilesRecursive(tmp_ / "by-aws"), names);
  EXPECT_EQ(ListFilesRecursive(tmp_ / "by-rclone"), names);
  for (const auto& [name, size] : kSizes) {
    EXPECT_EQ(Sha256OfFile(tmp_ / ("by-aws/" + name)), sha[name]) << name;
    EXPECT_EQ(Sha256OfFile(tmp_ / ("by-rclone/" + name)), sha[name]) << name;
    // Every object carries its whole-file SHA-256 for any later reader.
    auto head = HeadObject(prefix_ + "up/" + name);
    EXPECT_EQ(head.value("Metadata", nlohmann::json::object()).value("sha256", ""), sha[name])
        << name << ": " << head.dump();
    EXPECT_EQ(head.value("ContentLength", -1), static_cast<int64_t>(size)) << name;
  }
  // The large file really went up as a multipart upload (ETag "<md5>-<parts>").
  auto big = HeadObject(prefix_ + "up/sub/dir/thirty-three-mib.bin");
  EXPECT_TRUE(Contains(big.value("ETag", ""), "-")) << big.dump();
  auto small = HeadObject(prefix_ + "up/one-byte.bin");
  EXPECT_FALSE(Contains(small.value("ETag", ""), "-")) << small.dump();

  // A smaller part size gives more parts, and the result is still identical.
  auto parts =
      clients().Datacube({"-q", "cp", "--part-size", "5Mi",
                          tmp_ / "src/sub/dir/thirty-three-mib.bin", Url("parts/big.bin")});
  ASSERT_EQ(parts.exit_code, 0) << parts.err;
  auto etag = HeadObject(prefix_ + "parts/big.bin").value("ETag", "");
  EXPECT_TRUE(Contains(etag, "-7")) << "33 MiB in 5 MiB parts should be 7 parts: " << etag;
  auto back =
      clients().Aws({"s3", "cp", "--only-show-errors", Url("parts/big.bin"), tmp_ / "p.bin"});
  ASSERT_EQ(back.exit_code, 0) << back.err;
  EXPECT_EQ(Sha256OfFile(tmp_ / "p.bin"), sha["sub/dir/thirty-three-mib.bin"]);
}

TEST_F(S3InteropTest, OneGibObjectRoundTripsBothWays) {
  constexpr uint64_t kGiB = 1ull << 30;
  const std::string want = WriteRandomFile(tmp_ / "big.bin", kGiB + 3, 42);

  // datacube up, the AWS CLI and rclone down.
  auto up = clients().Datacube({"-q", "cp", tmp_ / "big.bin", Url("gib/by-datacube.bin")});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  // Memory stays fixed whatever the size: the largest child so far is this upload (or the AWS
  // CLI's create-bucket, far smaller).
  struct rusage usage {};
  ::getrusage(RUSAGE_CHILDREN, &usage);
  EXPECT_LT(usage.ru_maxrss, 512 * 1024) << "peak RSS in KiB of a 1 GiB upload";
  EXPECT_EQ(HeadObject(prefix_ + "gib/by-datacube.bin")
                .value("Metadata", nlohmann::json::object())
                .value("sha256", ""),
            want);
  auto aws = clients().Aws(
      {"s3", "cp", "--only-show-errors", Url("gib/by-datacube.bin"), tmp_ / "aws.bin"});
  ASSERT_EQ(aws.exit_code, 0) << aws.err;
  EXPECT_EQ(Sha256OfFile(tmp_ / "aws.bin"), want);
  ::unlink((tmp_ / "aws.bin").c_str());
  auto rc = clients().Rclone(
      {"copyto", "rgw:" + bucket_ + "/" + prefix_ + "gib/by-datacube.bin", tmp_ / "rclone.bin"});
  ASSERT_EQ(rc.exit_code, 0) << rc.err;
  EXPECT_EQ(Sha256OfFile(tmp_ / "rclone.bin"), want);
  ::unlink((tmp_ / "rclone.bin").c_str());

  // rclone up (its own multipart), datacube down and verified; the SHA-256 it reports matches.
  auto rup = clients().Rclone(
      {"copyto", tmp_ / "big.bin", "rgw:" + bucket_ + "/" + prefix_ + "gib/by-rclone.bin"});
  ASSERT_EQ(rup.exit_code, 0) << rup.err;
  auto down = clients().Datacube(
      {"-q", "cp", Url("gib/by-rclone.bin"), tmp_ / "dc.bin", "--manifest-out", tmp_ / "m.jsonl"});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_EQ(Sha256OfFile(tmp_ / "dc.bin"), want);
  EXPECT_TRUE(Contains(ReadFile(tmp_ / "m.jsonl"), want)) << ReadFile(tmp_ / "m.jsonl");
}

TEST_F(S3InteropTest, AwsCliAndRcloneUploadsDownloadAndVerifyInDatacube) {
  ::mkdir((tmp_ / "src").c_str(), 0755);
  std::map<std::string, std::string> sha = {
      {"a.bin", WriteRandomFile(tmp_ / "src/a.bin", 1, 7)},
      {"b.bin", WriteRandomFile(tmp_ / "src/b.bin", 3 * kMiB + 5, 8)},
      {"c.bin", WriteRandomFile(tmp_ / "src/c.bin", 21 * kMiB + 1, 9)},  // multipart for both
  };
  WriteFile(tmp_ / "src/empty.txt", "");
  sha["empty.txt"] = Sha256OfFile(tmp_ / "src/empty.txt");

  auto aws =
      clients().Aws({"s3", "cp", "--recursive", "--only-show-errors", tmp_ / "src", Url("aws/")});
  ASSERT_EQ(aws.exit_code, 0) << aws.err;
  auto rc = clients().Rclone({"copy", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M",
                              tmp_ / "src", "rgw:" + bucket_ + "/" + prefix_ + "rclone"});
  ASSERT_EQ(rc.exit_code, 0) << rc.err;
  EXPECT_TRUE(Contains(HeadObject(prefix_ + "aws/c.bin").value("ETag", ""), "-"));
  EXPECT_TRUE(Contains(HeadObject(prefix_ + "rclone/c.bin").value("ETag", ""), "-"));

  for (const std::string tool : {"aws", "rclone"}) {
    auto r = clients().Datacube({"-q", "cp", Url(tool + "/"), tmp_ / ("dc-" + tool),
                                 "--manifest-out", tmp_ / (tool + ".jsonl")});
    ASSERT_EQ(r.exit_code, 0) << tool << ": " << r.err;
    std::string manifest = ReadFile(tmp_ / (tool + ".jsonl"));
    for (const auto& [name, digest] : sha) {
      EXPECT_EQ(Sha256OfFile(tmp_ / ("dc-" + tool + "/" + name)), digest) << tool << " " << name;
      EXPECT_TRUE(Contains(manifest, digest)) << tool << " " << name << "\n" << manifest;
    }
  }
}

TEST_F(S3InteropTest, WrongSha256MetadataFailsTheDownloadAndLeavesNoFile) {
  const std::string good = WriteRandomFile(tmp_ / "f.bin", 2 * kMiB + 1, 3);
  const std::string wrong = crypto::Sha256Hex("something else");
  ASSERT_EQ(clients()
                .Aws({"s3", "cp", "--only-show-errors", "--metadata", "sha256=" + good,
                      tmp_ / "f.bin", Url("meta/good.bin")})
                .exit_code,
            0);
  ASSERT_EQ(clients()
                .Aws({"s3", "cp", "--only-show-errors", "--metadata", "sha256=" + wrong,
                      tmp_ / "f.bin", Url("meta/bad.bin")})
                .exit_code,
            0);

  auto ok = clients().Datacube({"-q", "cp", Url("meta/good.bin"), tmp_ / "good.bin"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(Sha256OfFile(tmp_ / "good.bin"), good);

  auto bad = clients().Datacube({"cp", "--retries", "1", Url("meta/bad.bin"), tmp_ / "bad.bin"});
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;
  EXPECT_TRUE(Contains(bad.err, "SHA-256") || Contains(bad.err, "sha256") ||
              Contains(bad.err, "checksum"))
      << bad.err;
  EXPECT_TRUE(Contains(bad.err, "bad.bin")) << bad.err;
  EXPECT_FALSE(Exists(tmp_ / "bad.bin")) << "a corrupt download reached its final path";
}

TEST_F(S3InteropTest, LsStatCatRmAgreeWithTheAwsCli) {
  WriteFile(tmp_ / "hello.txt", "hello from the aws cli\n");
  ASSERT_EQ(clients()
                .Aws({"s3", "cp", "--only-show-errors", tmp_ / "hello.txt", Url("objs/hello.txt")})
                .exit_code,
            0);
  ASSERT_EQ(
      clients()
          .Aws({"s3", "cp", "--only-show-errors", tmp_ / "hello.txt", Url("objs/deeper/x.txt")})
          .exit_code,
      0);

  auto ls = clients().Datacube({"ls", Url("objs/")});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_TRUE(Contains(ls.out, "hello.txt")) << ls.out;
  // --endpoint wins over AWS_ENDPOINT_URL_S3 (here pointing at a closed port).
  auto flag = clients().Datacube({"ls", "--endpoint", clients().server().endpoint, Url("objs/")},
                                 {{"AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9"}});
  ASSERT_EQ(flag.exit_code, 0) << flag.err;
  EXPECT_TRUE(Contains(flag.out, "hello.txt")) << flag.out;
  auto stat = clients().Datacube({"stat", Url("objs/hello.txt")});
  ASSERT_EQ(stat.exit_code, 0) << stat.err;
  EXPECT_TRUE(Contains(stat.out, "23")) << "size of hello.txt: " << stat.out;
  auto cat = clients().Datacube({"cat", Url("objs/hello.txt")});
  ASSERT_EQ(cat.exit_code, 0) << cat.err;
  EXPECT_EQ(cat.out, "hello from the aws cli\n");

  auto missing = clients().Datacube({"stat", Url("objs/no-such-object")});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(Contains(missing.err, "no-such-object")) << missing.err;

  auto rm = clients().Datacube({"rm", Url("objs/hello.txt")});
  ASSERT_EQ(rm.exit_code, 0) << rm.err;
  auto head = clients().Aws(
      {"s3api", "head-object", "--bucket", bucket_, "--key", prefix_ + "objs/hello.txt"});
  EXPECT_NE(head.exit_code, 0) << "object still there after datacube rm";
  EXPECT_EQ(HeadObject(prefix_ + "objs/deeper/x.txt").value("ContentLength", -1), 23);
}

TEST_F(S3InteropTest, PresignedGetAndPutWorkWithCurl) {
  const std::string sha = WriteRandomFile(tmp_ / "obj.bin", 3 * kMiB + 11, 5);
  ASSERT_EQ(clients().Datacube({"-q", "cp", tmp_ / "obj.bin", Url("ps/obj.bin")}).exit_code, 0);

  auto get_url = Presign({Url("ps/obj.bin"), "--expires", "1h"});
  ASSERT_FALSE(get_url.empty());
  auto get = clients().Curl({"--fail", "-o", tmp_ / "got.bin", get_url});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(Sha256OfFile(tmp_ / "got.bin"), sha);

  // PUT: expiry given in seconds; the object appears with exactly the uploaded bytes.
  auto put_url = Presign({Url("ps/put.bin"), "--expires", "3600", "--method", "PUT"});
  ASSERT_FALSE(put_url.empty());
  auto put = clients().Curl({"--fail", "-T", tmp_ / "obj.bin", put_url});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  auto back =
      clients().Aws({"s3", "cp", "--only-show-errors", Url("ps/put.bin"), tmp_ / "put.bin"});
  ASSERT_EQ(back.exit_code, 0) << back.err;
  EXPECT_EQ(Sha256OfFile(tmp_ / "put.bin"), sha);
  // The GET URL does not grant PUT.
  WriteFile(tmp_ / "other.txt", "not allowed");
  auto wrong_method =
      clients().Curl({"-o", "/dev/null", "-w", "%{http_code}", "-T", tmp_ / "other.txt", get_url});
  EXPECT_EQ(wrong_method.out, "403");
}

TEST_F(S3InteropTest, TamperedOrExpiredPresignedUrlsAreRefused) {
  WriteFile(tmp_ / "secret-data.txt", "only for the signed key\n");
  ASSERT_EQ(clients().Datacube({"-q", "cp", tmp_ / "secret-data.txt", Url("t/a.txt")}).exit_code,
            0);
  ASSERT_EQ(clients().Datacube({"-q", "cp", tmp_ / "secret-data.txt", Url("t/b.txt")}).exit_code,
            0);
  auto url = Presign({Url("t/a.txt"), "--expires", "10m"});
  ASSERT_FALSE(url.empty());
  auto status = [&](const std::string& u, std::string* body) {
    auto r = clients().Curl({"-o", tmp_ / "body", "-w", "%{http_code}", u});
    *body = ReadFile(tmp_ / "body");
    return r.out;
  };
  std::string body;
  ASSERT_EQ(status(url, &body), "200");

  // One hex digit of the signature changed.
  size_t sig = url.find("X-Amz-Signature=");
  ASSERT_NE(sig, std::string::npos) << url;
  std::string tampered = url;
  size_t last = sig + std::string("X-Amz-Signature=").size();
  tampered[last] = tampered[last] == '0' ? '1' : '0';
  EXPECT_EQ(status(tampered, &body), "403");
  EXPECT_TRUE(Contains(body, "SignatureDoesNotMatch")) << body;

  // The same signature for another key.
  std::string other_key = url;
  size_t at = other_key.find("t/a.txt");
  ASSERT_NE(at, std::string::npos) << url;
  other_key.replace(at, 7, "t/b.txt");
  EXPECT_EQ(status(other_key, &body), "403");

  // A longer expiry than signed.
  std::string longer = url;
  size_t exp = longer.find("X-Amz-Expires=600");
  ASSERT_NE(exp, std::string::npos) << url;
  longer.replace(exp, 17, "X-Amz-Expires=601");
  EXPECT_EQ(status(longer, &body), "403");

  // Expired.
  auto short_url = Presign({Url("t/a.txt"), "--expires", "1"});
  ASSERT_FALSE(short_url.empty());
  ::sleep(3);
  EXPECT_EQ(status(short_url, &body), "403") << body;
}

TEST_F(S3InteropTest, DatacubeRefusesATamperedPresignedUrlAsASource) {
  WriteFile(tmp_ / "data.txt", "signed\n");
  ASSERT_EQ(clients().Datacube({"-q", "cp", tmp_ / "data.txt", Url("t/a.txt")}).exit_code, 0);
  auto url = Presign({Url("t/a.txt"), "--expires", "10m"});
  ASSERT_FALSE(url.empty());
  size_t sig = url.find("X-Amz-Signature=");
  ASSERT_NE(sig, std::string::npos) << url;
  std::string tampered = url;
  size_t last = sig + std::string("X-Amz-Signature=").size();
  tampered[last] = tampered[last] == '0' ? '1' : '0';
  // The URL as a plain http(s) source: the good one downloads, the tampered one exits 1.
  auto dc = clients().Datacube({"cp", tampered, tmp_ / "out.txt"});
  EXPECT_EQ(dc.exit_code, 1) << dc.err;
  EXPECT_TRUE(Contains(dc.err, "403") || Contains(dc.err, "SignatureDoesNotMatch")) << dc.err;
  EXPECT_FALSE(Exists(tmp_ / "out.txt"));
  auto good = clients().Datacube({"-q", "cp", url, tmp_ / "good.txt"});
  EXPECT_EQ(good.exit_code, 0) << good.err;
  EXPECT_EQ(ReadFile(tmp_ / "good.txt"), "signed\n");
}

TEST_F(S3InteropTest, CopiesBetweenBucketsOfOneEndpointServerSide) {
  ::mkdir((tmp_ / "src").c_str(), 0755);
  const std::string big_sha = WriteRandomFile(tmp_ / "src/model.bin", 9 << 20, 21);  // multipart
  WriteFile(tmp_ / "src/config.json", "{}");
  ASSERT_EQ(clients().Datacube({"-q", "cp", tmp_ / "src", Url("a/")}).exit_code, 0);
  ASSERT_TRUE(clients().MakeBucket("dc-tests-copy").empty());
  const std::string dst = "s3://dc-tests-copy/" + prefix_;
  auto r = clients().Datacube({"-v", "--progress", "none", "cp", Url("a/"), dst});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Both files went by CopyObject, not through this machine.
  size_t copies = 0;
  for (size_t p = 0; (p = r.err.find("server-side copy:", p)) != std::string::npos; ++p) ++copies;
  EXPECT_EQ(copies, 2u) << r.err;
  // The copy keeps the SHA-256 metadata, and the bytes are the source's.
  auto head = HeadObject(prefix_ + "model.bin", "dc-tests-copy");
  EXPECT_EQ(head["Metadata"]["sha256"], big_sha) << head.dump();
  auto back = clients().Datacube({"-q", "cp", dst + "model.bin", tmp_ / "back.bin"});
  ASSERT_EQ(back.exit_code, 0) << back.err;
  EXPECT_EQ(Sha256OfFile(tmp_ / "back.bin"), big_sha);
  clients().Aws({"s3", "rm", "--recursive", "--only-show-errors", dst});
}

}  // namespace
}  // namespace datacube::testing
