// The datacube binary against a hostile S3 server (cpp-httplib on loopback, in this process):
// listings that never end or lie about sizes and keys, objects whose bytes do not match the
// digests they offer, and credentials that would inject headers. Each case checks the clear
// error, the exit code, and that nothing was written (or sent) where it must not be.
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "datacube/crypto/checksum.h"
#include "datacube/crypto/hmac.h"
#include "datacube/crypto/sha256.h"
#include "testing/test_util/test_util.h"

namespace datacube::testing {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

// One object the server holds: the bytes it sends (possibly corrupted) and its headers.
struct FakeObject {
  std::string body;
  Headers headers;
};

std::string B64(const std::string& raw) { return crypto::Base64Encode(raw); }
std::string Md5Hex(const std::string& data) { return crypto::HexEncode(crypto::Md5(data)); }
std::string Flip(std::string s, size_t at = 0) {
  s[at] ^= 0x01;
  return s;
}

class HostileS3Test : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Get("/b", [this](const httplib::Request& req, httplib::Response& res) {
      Record(req);
      std::lock_guard<std::mutex> lock(mu_);
      const std::string token =
          req.has_param("continuation-token") ? req.get_param_value("continuation-token") : "";
      if (endless_) {
        res.set_content(Listing({}, "T" + std::to_string(requests_.size())), "application/xml");
        return;
      }
      auto it = listing_.find(token);
      if (it == listing_.end()) it = listing_.find("*");
      res.set_content(it == listing_.end() ? EmptyListing() : it->second, "application/xml");
    });
    auto object = [this](const httplib::Request& req, httplib::Response& res) {
      Record(req);
      std::lock_guard<std::mutex> lock(mu_);
      const std::string key = req.path.substr(3);  // "/b/"
      auto it = objects_.find(key);
      if (it == objects_.end()) {
        res.status = 404;
        res.set_content("<Error><Code>NoSuchKey</Code></Error>", "application/xml");
        return;
      }
      const FakeObject& o = it->second;
      for (const auto& [k, v] : o.headers) res.set_header(k, v);
      if (req.has_param("partNumber")) {
        // Parts of composite objects: size of part N from the part-size header we keep.
        const uint64_t part = std::stoull(part_size_[key]);
        const uint64_t n = std::stoull(req.get_param_value("partNumber"));
        const uint64_t start = (n - 1) * part;
        const uint64_t len = std::min<uint64_t>(part, o.body.size() - start);
        res.status = 206;
        res.set_header("Content-Range", "bytes " + std::to_string(start) + "-" +
                                            std::to_string(start + len - 1) + "/" +
                                            std::to_string(o.body.size()));
        res.set_content(o.body.substr(start, len), "application/octet-stream");
        return;
      }
      // httplib answers a Range header itself (206 with Content-Range).
      std::string body = o.body;
      res.set_content(body, "application/octet-stream");
    };
    server_.Get(R"(/b/.+)", object);
    // HEAD is answered by httplib from the GET handler without a body.
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ::mkdir((dir_ / "home").c_str(), 0700);
    ::mkdir((dir_ / "out").c_str(), 0755);
  }
  void TearDown() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  void Record(const httplib::Request& req) {
    std::lock_guard<std::mutex> lock(mu_);
    std::string line = req.method + " " + req.path;
    for (const auto& [k, v] : req.params) line += " " + k + "=" + v;
    requests_.push_back(line);
    for (const auto& [k, v] : req.headers) {
      if (k == "X-Injected" || k == "x-injected") injected_ = true;
    }
  }

  static std::string EmptyListing() {
    return "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>";
  }
  // A listing page with (key, size) entries.
  static std::string Listing(const std::vector<std::pair<std::string, std::string>>& entries,
                             const std::string& next = "") {
    std::string x = "<ListBucketResult><IsTruncated>" +
                    std::string(next.empty() ? "false" : "true") + "</IsTruncated>";
    if (!next.empty()) x += "<NextContinuationToken>" + next + "</NextContinuationToken>";
    for (const auto& [k, size] : entries) {
      x += "<Contents><Key>" + k + "</Key><Size>" + size + "</Size>" +
           "<LastModified>2024-01-01T00:00:00.000Z</LastModified></Contents>";
    }
    return x + "</ListBucketResult>";
  }
  void SetListing(const std::string& token, std::string xml) {
    std::lock_guard<std::mutex> lock(mu_);
    listing_[token] = std::move(xml);
  }
  void AddObject(const std::string& key, FakeObject o) {
    std::lock_guard<std::mutex> lock(mu_);
    o.headers.push_back({"Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT"});
    objects_[key] = std::move(o);
  }
  // An object listed under p/ (one page) and served with `headers` and `served` as its bytes.
  void Serve(const std::string& name, const std::string& served, Headers headers) {
    AddObject("p/" + name, {served, std::move(headers)});
    std::lock_guard<std::mutex> lock(mu_);
    std::erase_if(listed_, [&](const auto& e) { return e.first == "p/" + name; });
    listed_.push_back({"p/" + name, std::to_string(served.size())});
    std::sort(listed_.begin(), listed_.end());
    listing_[""] = Listing(listed_);
  }

  CommandResult Datacube(std::vector<std::string> args,
                         std::map<std::string, std::string> env = {}) {
    std::map<std::string, std::string> e = {
        {"AWS_ACCESS_KEY_ID", "AKIDHOSTILE"},
        {"AWS_SECRET_ACCESS_KEY", "hostileTestSecret0"},
        {"AWS_ENDPOINT_URL_S3", "http://127.0.0.1:" + std::to_string(port_)},
        {"AWS_REGION", "us-east-1"},
        {"HOME", dir_ / "home"},
        {"AWS_CA_BUNDLE", ""},
        {"HTTP_PROXY", ""},
        {"HTTPS_PROXY", ""},
        {"http_proxy", ""},
        {"https_proxy", ""},
    };
    for (auto& [k, v] : env) e[k] = v;
    args.insert(args.begin(), DatacubeBin());
    CommandOptions o;
    o.env = e;
    o.timeout = std::chrono::seconds(60);
    return RunCommand(args, o);
  }
  std::vector<std::string> OutFiles() { return ListFilesRecursive(dir_ / "out"); }
  std::vector<std::string> Requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  bool Requested(const std::string& needle) {
    for (const auto& r : Requests()) {
      if (r.find(needle) != std::string::npos) return true;
    }
    return false;
  }

  TempDir dir_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::map<std::string, std::string> listing_;  // continuation token ("" first, "*" any) -> XML
  std::map<std::string, FakeObject> objects_;
  std::map<std::string, std::string> part_size_;
  std::vector<std::pair<std::string, std::string>> listed_;
  std::vector<std::string> requests_;
  bool injected_ = false;
  bool endless_ = false;
};

std::string Both(const CommandResult& r) { return r.out + r.err; }

// ---- Listings ----

TEST_F(HostileS3Test, RepeatedContinuationTokenFailsInsteadOfLooping) {
  SetListing("", Listing({{"p/a", "1"}}, "AGAIN"));
  SetListing("AGAIN", Listing({}, "AGAIN"));
  AddObject("p/a", {"x", {}});
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"cp", "s3://b/p/", dir_ / "out"},
        std::vector<std::string>{"ls", "-R", "s3://b/p/"}}) {
    auto start = std::chrono::steady_clock::now();
    auto r = Datacube(args);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
    EXPECT_EQ(r.exit_code, 1) << args[0] << ": " << Both(r);
    EXPECT_NE(r.err.find("malformed listing from s3://b/p/"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("same token again"), std::string::npos) << r.err;
  }
  EXPECT_TRUE(OutFiles().empty());
  EXPECT_FALSE(Requested("GET /b/p/a"));
}

TEST_F(HostileS3Test, AListingThatNeverEndsFails) {
  // Every answer is an empty page pointing at a new token.
  endless_ = true;
  auto r = Datacube({"cp", "s3://b/p/", dir_ / "out"});
  EXPECT_EQ(r.exit_code, 1) << Both(r);
  EXPECT_NE(r.err.find("never end"), std::string::npos) << r.err;
  EXPECT_TRUE(OutFiles().empty());
}

TEST_F(HostileS3Test, MalformedSizesAreRefusedNotReadAsZero) {
  for (const std::string size : {"-5", "abc", "", "18446744073709551616"}) {
    SetListing("", Listing({{"p/a.bin", size}}));
    AddObject("p/a.bin", {"", {}});
    auto r = Datacube({"cp", "s3://b/p/", dir_ / "out"});
    EXPECT_EQ(r.exit_code, 1) << size << ": " << Both(r);
    EXPECT_NE(r.err.find("malformed listing from s3://b/p/"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("<Size>"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("ChecksumMismatch"), std::string::npos) << r.err;
    EXPECT_TRUE(OutFiles().empty()) << size;
  }
  EXPECT_FALSE(Requested("GET /b/p/a.bin"));
}

TEST_F(HostileS3Test, KeysOutsideThePrefixAreRefusedNotRemapped) {
  SetListing("", Listing({{"p/ok", "2"}, {"q/zzevil", "4"}}));
  AddObject("p/ok", {"ok", {}});
  AddObject("q/zzevil", {"evil", {}});
  auto r = Datacube({"cp", "s3://b/p/", dir_ / "out"});
  EXPECT_EQ(r.exit_code, 1) << Both(r);
  EXPECT_NE(r.err.find("\"q/zzevil\" is outside the requested prefix \"p/\""), std::string::npos)
      << r.err;
  EXPECT_TRUE(OutFiles().empty());
  EXPECT_FALSE(Requested("/b/q/zzevil"));
  EXPECT_FALSE(Requested("/b/p/zzevil"));
}

// ---- Digests the source offers ----

TEST_F(HostileS3Test, FlippedByteFailsAgainstEveryKindOfOfferedDigest) {
  const std::string data = "the real content of the object\n";
  const std::string crc32c = crypto::ChecksumOf(crypto::ChecksumAlgorithm::kCrc32c, data);
  const std::string crc64 = crypto::ChecksumOf(crypto::ChecksumAlgorithm::kCrc64Nvme, data);
  struct Case {
    std::string name;
    Headers headers;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"etag", {{"ETag", "\"" + Md5Hex(data) + "\""}}, "ETag says MD5"},
      {"crc32c",
       {{"ETag", "\"" + Md5Hex("other") + "-2\""},
        {"x-amz-checksum-crc32c", B64(crc32c)},
        {"x-amz-checksum-type", "FULL_OBJECT"}},
       "x-amz-checksum-crc32c says CRC32C"},
      {"crc64nvme",
       {{"ETag", "\"" + Md5Hex("other") + "-2\""}, {"x-amz-checksum-crc64nvme", B64(crc64)}},
       "x-amz-checksum-crc64nvme says CRC64NVME"},
      {"md5chksum",
       {{"ETag", "\"" + Md5Hex("other") + "-3\""},
        {"x-amz-meta-md5chksum", B64(crypto::Md5(data))}},
       "x-amz-meta-md5chksum says MD5"},
  };
  for (const auto& c : cases) {
    objects_.clear();
    listed_.clear();
    requests_.clear();
    Serve(c.name, Flip(data, 5), c.headers);
    auto r = Datacube({"cp", "--retries", "2", "s3://b/p/" + c.name, dir_ / "out/"});
    EXPECT_EQ(r.exit_code, 1) << c.name << ": " << Both(r);
    EXPECT_NE(r.err.find("checksum mismatch for s3://b/p/" + c.name), std::string::npos)
        << c.name << ": " << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << c.name << ": " << r.err;
    EXPECT_TRUE(OutFiles().empty()) << c.name;
    // The same headers with the right bytes verify, and nothing is counted unverified.
    Serve(c.name, data, c.headers);
    auto ok = Datacube({"cp", "s3://b/p/" + c.name, dir_ / "out/"});
    EXPECT_EQ(ok.exit_code, 0) << c.name << ": " << Both(ok);
    EXPECT_EQ(ReadFile(dir_ / ("out/" + c.name)), data) << c.name;
    EXPECT_EQ(Both(ok).find("unverified"), std::string::npos) << c.name << ": " << Both(ok);
    ::unlink((dir_ / ("out/" + c.name)).c_str());
  }
}

TEST_F(HostileS3Test, SseKmsEtagIsNoMd5AndCountsAsUnverified) {
  const std::string data = "encrypted at rest";
  Serve("kms", data,
        {{"ETag", "\"" + Md5Hex("not the content") + "\""},
         {"x-amz-server-side-encryption", "aws:kms"}});
  auto r = Datacube({"cp", "s3://b/p/", dir_ / "out"});
  EXPECT_EQ(r.exit_code, 0) << Both(r);
  EXPECT_EQ(ReadFile(dir_ / "out/kms"), data);
  EXPECT_NE(Both(r).find("1 unverified (the source offered no checksum)"), std::string::npos)
      << Both(r);
}

TEST_F(HostileS3Test, CompositeChecksumOfPartsIsVerified) {
  // Three parts of 4, 4 and 2 bytes; the checksum is CRC32C over the parts' CRC32Cs.
  const std::string data = "0123456789";
  std::string parts;
  for (size_t at = 0; at < data.size(); at += 4) {
    parts += crypto::ChecksumOf(crypto::ChecksumAlgorithm::kCrc32c, data.substr(at, 4));
  }
  const std::string composite =
      B64(crypto::ChecksumOf(crypto::ChecksumAlgorithm::kCrc32c, parts)) + "-3";
  const Headers headers = {{"ETag", "\"" + Md5Hex("x") + "-3\""},
                           {"x-amz-checksum-crc32c", composite},
                           {"x-amz-checksum-type", "COMPOSITE"},
                           {"x-amz-mp-parts-count", "3"}};
  part_size_["p/c"] = "4";
  Serve("c", Flip(data, 9), headers);
  auto bad = Datacube({"cp", "--retries", "1", "s3://b/p/c", dir_ / "out/"});
  EXPECT_EQ(bad.exit_code, 1) << Both(bad);
  EXPECT_NE(bad.err.find("CRC32C of 3 parts"), std::string::npos) << bad.err;
  EXPECT_TRUE(OutFiles().empty());
  Serve("c", data, headers);
  auto good = Datacube({"cp", "s3://b/p/c", dir_ / "out/"});
  EXPECT_EQ(good.exit_code, 0) << Both(good);
  EXPECT_EQ(ReadFile(dir_ / "out/c"), data);
  EXPECT_EQ(Both(good).find("unverified"), std::string::npos) << Both(good);
}

TEST_F(HostileS3Test, LargeFilesInPartsAreCheckedBeforeTheyBecomeVisible) {
  // 200 KiB in 64 KiB parts: the engine's ranged reads, checked in order against a CRC32C.
  std::string data(200 << 10, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + i / 251);
  const Headers headers = {
      {"ETag", "\"" + Md5Hex("x") + "-4\""},
      {"x-amz-checksum-crc32c", B64(crypto::ChecksumOf(crypto::ChecksumAlgorithm::kCrc32c, data))}};
  Serve("big.bin", Flip(data, 150'000), headers);
  auto bad = Datacube({"cp", "--retries", "2", "--part-size", "64K", "s3://b/p/", dir_ / "out"});
  EXPECT_EQ(bad.exit_code, 1) << Both(bad);
  EXPECT_NE(bad.err.find("x-amz-checksum-crc32c says CRC32C"), std::string::npos) << bad.err;
  EXPECT_TRUE(OutFiles().empty()) << "a partial or final file is visible";
  Serve("big.bin", data, headers);
  auto good = Datacube({"cp", "--part-size", "64K", "s3://b/p/", dir_ / "out"});
  EXPECT_EQ(good.exit_code, 0) << Both(good);
  EXPECT_EQ(Sha256OfFile(dir_ / "out/big.bin"), crypto::Sha256Hex(data));
}

TEST_F(HostileS3Test, NothingOfferedIsCountedAndRequireChecksumFailsIt) {
  const std::string data = "no digest at all";
  Serve("plain", data, {{"ETag", "\"" + Md5Hex("x") + "-2\""}});
  Serve("empty", "", {{"ETag", "\"" + Md5Hex("y") + "-2\""}});
  auto counted = Datacube({"cp", "s3://b/p/", dir_ / "out"});
  EXPECT_EQ(counted.exit_code, 0) << Both(counted);
  // The empty object needs no checksum; the other one is unverified.
  EXPECT_NE(Both(counted).find("1 unverified (the source offered no checksum)"), std::string::npos)
      << Both(counted);
  ::unlink((dir_ / "out/plain").c_str());
  ::unlink((dir_ / "out/empty").c_str());
  ASSERT_TRUE(OutFiles().empty());

  auto refused = Datacube({"cp", "--require-checksum", "s3://b/p/plain", dir_ / "out/"});
  EXPECT_EQ(refused.exit_code, 1) << Both(refused);
  EXPECT_NE(refused.err.find("s3://b/p/plain offers no checksum"), std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("--require-checksum"), std::string::npos) << refused.err;
  EXPECT_TRUE(OutFiles().empty());
  auto synced = Datacube({"sync", "--require-checksum", "s3://b/p/", dir_ / "out"});
  EXPECT_EQ(synced.exit_code, 1) << Both(synced);
  EXPECT_EQ(OutFiles(), std::vector<std::string>{"empty"});
}

TEST_F(HostileS3Test, RequireChecksumOptionOfADataCubeFailsUnverifiedObjects) {
  Serve("plain", "no digest at all", {{"ETag", "\"" + Md5Hex("x") + "-2\""}});
  ::mkdir((dir_ / "pvc").c_str(), 0755);
  ::mkdir((dir_ / "secrets").c_str(), 0755);
  ::mkdir((dir_ / "secrets/s3").c_str(), 0755);
  WriteFile(dir_ / "secrets/s3/secret", "hostileTestSecret0");
  auto cube = [&](const std::string& require) {
    std::string path = dir_ / ("cube-" + require + ".yaml");
    WriteFile(path,
              "apiVersion: tensorstack.dev/v1beta1\nkind: DataCube\nmetadata:\n  name: verify\n"
              "spec:\n  source:\n    type: s3\n    options:\n"
              "    - {name: s3-endpoint, value: \"http://127.0.0.1:" +
                  std::to_string(port_) +
                  "\"}\n"
                  "    - {name: s3-access-key-id, value: AKIDHOSTILE}\n"
                  "    - {name: s3-secret-access-key, valueFrom: {secretKeyRef: {name: s3, key: "
                  "secret}}}\n"
                  "    - {name: s3-uri, value: \"s3://b/p/\"}\n"
                  "    - {name: require-checksum, value: \"" +
                  require +
                  "\"}\n"
                  "  sink:\n    type: pvc\n    pvc:\n      name: vol\n      subPath: data\n"
                  "      template:\n        spec:\n          accessModes: [ReadWriteOnce]\n"
                  "          resources: {requests: {storage: 1Gi}}\n");
    return path;
  };
  auto run = [&](const std::string& file) {
    return Datacube({"run", "-f", file, "--pvc-root", dir_ / "pvc", "--secrets-dir",
                     dir_ / "secrets", "--status-file", dir_ / "status.yaml", "--progress",
                     "none"});
  };
  auto invalid = Datacube({"validate-cube", "-f", cube("maybe")});
  EXPECT_EQ(invalid.exit_code, 2) << Both(invalid);
  EXPECT_NE(invalid.err.find("require-checksum"), std::string::npos) << invalid.err;

  auto refused = run(cube("true"));
  EXPECT_EQ(refused.exit_code, 1) << Both(refused);
  EXPECT_NE(refused.err.find("s3://b/p/plain offers no checksum"), std::string::npos)
      << refused.err;
  EXPECT_NE(ReadFile(dir_ / "status.yaml").find("Failed"), std::string::npos);
  for (const auto& f : ListFilesRecursive(dir_ / "pvc")) {
    EXPECT_EQ(f.find("plain"), std::string::npos) << "landed: " << f;
  }
  auto copied = run(cube("false"));
  EXPECT_EQ(copied.exit_code, 0) << Both(copied);
  EXPECT_EQ(ReadFile(dir_ / "pvc/vol/data/plain"), "no digest at all");
  EXPECT_NE(Both(copied).find("1 unverified"), std::string::npos) << Both(copied);
}

// ---- Credentials ----

TEST_F(HostileS3Test, CredentialsWithLineBreaksAreRefusedBeforeAnyRequest) {
  SetListing("", Listing({{"p/a", "1"}}));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"AWS_ACCESS_KEY_ID", "AKID\r\nX-Injected: yes"},
      {"AWS_SECRET_ACCESS_KEY", "secretValue\nX-Injected: yes"},
      {"AWS_SESSION_TOKEN", "token\r\nX-Injected: yes"},
  };
  for (const auto& [name, value] : cases) {
    auto r = Datacube({"ls", "s3://b/p/"}, {{name, value}});
    EXPECT_EQ(r.exit_code, 2) << name << ": " << Both(r);
    EXPECT_NE(r.err.find(name), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("control character"), std::string::npos) << r.err;
    EXPECT_EQ(Both(r).find("secretValue"), std::string::npos) << Both(r);
    EXPECT_EQ(Both(r).find("X-Injected"), std::string::npos) << Both(r);
  }
  EXPECT_TRUE(Requests().empty());
  EXPECT_FALSE(injected_);
}

}  // namespace
}  // namespace datacube::testing
