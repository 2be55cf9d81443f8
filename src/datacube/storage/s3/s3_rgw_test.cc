// The S3 store against a real S3 server: Ceph RGW started by testing/servers/rgw.sh, which
// really checks SigV4 (header and presigned), checksums and ranges. Reads the server from
//   DATACUBE_TEST_S3_ENDPOINT, DATACUBE_TEST_S3_ACCESS_KEY, DATACUBE_TEST_S3_SECRET_KEY,
//   DATACUBE_TEST_S3_REGION
// Without them the tests skip, or fail when DATACUBE_REQUIRE_SERVERS=1 (make test).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <random>
#include <thread>

#include "datacube/crypto/sha256.h"
#include "datacube/storage/s3/s3_client.h"
#include "datacube/storage/s3/s3_errors.h"
#include "datacube/storage/s3/s3_request_builder.h"
#include "datacube/storage/s3/s3_store.h"
#include "datacube/storage/testing/conformance.h"
#include "testing/test_util/test_util.h"

namespace datacube::storage::s3 {
namespace {

struct Server {
  std::string endpoint, access_key, secret_key, region;
};

std::optional<Server> ServerFromEnv(std::string* missing) {
  Server s;
  for (auto [name, field] : {std::pair{"DATACUBE_TEST_S3_ENDPOINT", &s.endpoint},
                             std::pair{"DATACUBE_TEST_S3_ACCESS_KEY", &s.access_key},
                             std::pair{"DATACUBE_TEST_S3_SECRET_KEY", &s.secret_key},
                             std::pair{"DATACUBE_TEST_S3_REGION", &s.region}}) {
    auto v = testing::Env(name);
    if (!v) {
      *missing = name;
      return std::nullopt;
    }
    *field = *v;
  }
  return s;
}

// A bucket name no other test (or run) uses.
std::string FreshBucket(const std::string& tag) {
  static std::atomic<int> counter{0};
  static const uint32_t run = std::random_device{}();
  return "dc-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(run % 100000) + "-" +
         std::to_string(counter++);
}

StoreConfig ConfigFor(const Server& s, const std::string& secret) {
  StoreConfig c;
  c.options = {{kOptEndpoint, s.endpoint},
               {kOptAccessKeyId, s.access_key},
               {kOptSecretAccessKey, secret},
               {kOptRegion, s.region}};
  // Nothing from the environment of whoever runs the tests.
  c.getenv = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  return c;
}

std::shared_ptr<ObjectStore> Open(const Server& s, const std::string& bucket,
                                  const std::string& secret) {
  auto ref = OpenS3Location(*ParseLocation("s3://" + bucket + "/"), ConfigFor(s, secret),
                            OpenMode::kWriteTree);
  EXPECT_TRUE(ref.ok()) << ref.status().ToString();
  return ref.ok() ? ref->store : nullptr;
}

Status PutString(ObjectStore& store, const std::string& key, const std::string& data) {
  io::SpanSource src(data);
  WriteOptions o;
  o.size = data.size();
  return store.Put(key, src, o).status();
}

// An HTTP client with no S3 knowledge, as curl would be.
Result<http::HttpResponse> PlainRequest(const std::string& method, const std::string& url,
                                        const std::string& body = "") {
  auto transport = http::MakeCurlTransport({});
  http::HttpRequest r;
  r.method = method;
  r.url = url;
  io::SpanSource src(body);
  if (method == "PUT") r.content_length = body.size();
  return transport->Send(r, method == "PUT" ? &src : nullptr, nullptr);
}

// Without a server every test of this binary is skipped (or, under make test, failed) by this
// environment; test names never depend on the environment, so CTest's cached list stays valid.
class RgwEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    std::string missing;
    if (ServerFromEnv(&missing)) return;
    if (testing::ServersRequired()) {
      FAIL() << missing
             << " is not set: start the server with testing/servers/rgw.sh start DIR "
                "and export the variables of DIR/rgw.env";
    }
    GTEST_SKIP() << "no RGW (" << missing << " unset)";
  }
};

Server RequireServer() {
  std::string missing;
  auto s = ServerFromEnv(&missing);
  return s ? *s : Server{};
}

const bool registered = [] {
  ::testing::AddGlobalTestEnvironment(new RgwEnvironment);
  ConformanceParams p;
  p.name = "S3Rgw";
  p.part_size = kMinPartSize;
  p.large_object_size = 12 << 20;
  p.make_store = [] {
    Server s = RequireServer();
    return Open(s, FreshBucket("conf"), s.secret_key);
  };
  RegisterObjectStoreConformanceTests(p);
  return true;
}();

class S3RgwTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = RequireServer();
    bucket_ = FreshBucket("t");
    store_ = Open(server_, bucket_, server_.secret_key);
    ASSERT_TRUE(PutString(*store_, "present.txt", "hello rgw").ok());
  }
  Server server_;
  std::string bucket_;
  std::shared_ptr<ObjectStore> store_;
};

TEST_F(S3RgwTest, WrongSecretIsRefusedAtOnceWithAClearMessage) {
  const std::string wrong = "wrongSecretForTheS3RgwTest00000000000000";
  auto bad = Open(server_, bucket_, wrong);
  for (int i = 0; i < 2; ++i) {
    Status s = i == 0 ? bad->List({}).status() : bad->Stat("present.txt").status();
    EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << s.ToString();
    EXPECT_FALSE(IsRetryable(s));
    std::string msg(s.message());
    EXPECT_NE(msg.find("SignatureDoesNotMatch"), std::string::npos) << msg;
    EXPECT_NE(msg.find("secret access key"), std::string::npos) << msg;
    EXPECT_NE(msg.find(server_.endpoint), std::string::npos) << msg;
    EXPECT_NE(msg.find("s3://" + bucket_), std::string::npos) << msg;
    EXPECT_EQ(msg.find(wrong), std::string::npos);
    EXPECT_EQ(msg.find(server_.secret_key), std::string::npos);
  }
  io::SpanSource src(std::string_view("x"));
  EXPECT_EQ(bad->Put("new.txt", src, {}).status().code(), StatusCode::kUnauthenticated);
}

TEST_F(S3RgwTest, UnknownAccessKeyIsRefused) {
  Server other = server_;
  other.access_key = "NOSUCHACCESSKEY00000";
  Status s = Open(other, bucket_, server_.secret_key)->List({}).status();
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << s.ToString();
  EXPECT_NE(std::string(s.message()).find("InvalidAccessKeyId"), std::string::npos);
}

TEST_F(S3RgwTest, PresignedGetAndPutWorkWithPlainHttpAndTamperingIsRefused) {
  auto get = store_->Presign("present.txt", "GET", 600);
  ASSERT_TRUE(get.ok()) << get.status().ToString();
  auto r = PlainRequest("GET", *get);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello rgw");

  auto put = store_->Presign("uploaded.txt", "PUT", 600);
  ASSERT_TRUE(put.ok());
  auto pr = PlainRequest("PUT", *put, "via presigned PUT");
  ASSERT_TRUE(pr.ok());
  EXPECT_EQ(pr->status, 200) << pr->body;
  io::StringSink sink;
  ASSERT_TRUE(store_->Read("uploaded.txt", ByteRange::All(), sink).ok());
  EXPECT_EQ(sink.str(), "via presigned PUT");

  // Another key with the same signature, and a changed expiry, are both refused.
  std::string other_key = *get;
  other_key.replace(other_key.find("present.txt"), 11, "uploaded.txt");
  std::string longer = *get;
  longer.replace(longer.find("X-Amz-Expires=600"), 17, "X-Amz-Expires=900");
  for (const std::string& tampered : {other_key, longer}) {
    auto t = PlainRequest("GET", tampered);
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->status, 403) << t->body;
    S3ErrorContext ctx;
    ctx.action = "reading";
    ctx.url = "s3://" + bucket_ + "/uploaded.txt";
    ctx.endpoint = server_.endpoint;
    Status s = S3ResponseToStatus(*t, ctx);
    EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << s.ToString();
    EXPECT_NE(std::string(s.message()).find("SignatureDoesNotMatch"), std::string::npos);
  }
}

TEST_F(S3RgwTest, ExpiredPresignedUrlIsRefused) {
  auto get = store_->Presign("present.txt", "GET", 1);
  ASSERT_TRUE(get.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  auto r = PlainRequest("GET", *get);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 403) << r->body;
}

TEST_F(S3RgwTest, ServerVerifiesTheSignedPayloadSha256) {
  // A body that does not match its signed hash: what a corruption on the way looks like.
  S3StoreOptions o = *S3StoreOptionsFromConfig(*ParseLocation("s3://" + bucket_),
                                               ConfigFor(server_, server_.secret_key));
  S3Client client(o);
  const std::string body = "the bytes that arrive";
  S3Client::Call c;
  c.request.method = "PUT";
  c.request.bucket = bucket_;
  c.request.key = "corrupt.bin";
  c.request.payload_sha256 = crypto::Sha256Hex("the bytes that were sent");
  c.request.content_length = body.size();
  c.body = io::AsBytes(body);
  c.retry = false;
  c.action = "writing";
  auto r = client.Send(c);
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << r.status().ToString();
  EXPECT_EQ(store_->Stat("corrupt.bin").status().code(), StatusCode::kNotFound);
}

TEST_F(S3RgwTest, ShaAndMtimeSurviveInMetadata) {
  const std::string data(3 << 20, 'z');
  io::SpanSource src(data);
  WriteOptions o;
  o.size = data.size();
  o.mtime_ns = 1700000000123456789;
  ASSERT_TRUE(store_->Put("meta.bin", src, o).ok());
  auto info = store_->Stat("meta.bin");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->sha256, crypto::Sha256Hex(data));
  EXPECT_EQ(info->mtime_ns, 1700000000123456789);
}

TEST_F(S3RgwTest, AWholeReadHandsBackTheSha256ItCheckedAndAPartialReadDoesNot) {
  const std::string data(200 << 10, 'q');
  ASSERT_TRUE(PutString(*store_, "hashed.bin", data).ok());
  std::string whole;
  ReadOptions o;
  o.whole_sha256 = &whole;
  io::StringSink sink;
  ASSERT_TRUE(store_->Read("hashed.bin", {0, data.size()}, sink, o).ok());
  EXPECT_EQ(whole, crypto::Sha256Hex(data));

  std::string partial = "untouched";
  o.whole_sha256 = &partial;
  io::StringSink head;
  ASSERT_TRUE(store_->Read("hashed.bin", {0, 1000}, head, o).ok());
  EXPECT_EQ(head.str().size(), 1000u);
  EXPECT_EQ(partial, "untouched");
}

TEST_F(S3RgwTest, KeysWithDotSegmentsAreAddressedExactly) {
  // Valid S3 keys that an HTTP client would "normalise" into other keys.
  for (const std::string key : {"dots/../x", "dots/./y", "../z"}) {
    ASSERT_TRUE(PutString(*store_, key, "value of " + key).ok()) << key;
    io::StringSink sink;
    ASSERT_TRUE(store_->Read(key, ByteRange::All(), sink).ok()) << key;
    EXPECT_EQ(sink.str(), "value of " + key);
  }
  EXPECT_EQ(store_->Stat("x").status().code(), StatusCode::kNotFound);
  ListRequest req;
  req.prefix = "dots/";
  auto page = store_->List(req);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "dots/../x");
  ASSERT_TRUE(store_->Delete("dots/../x").ok());
  EXPECT_EQ(store_->Stat("dots/../x").status().code(), StatusCode::kNotFound);
}

TEST_F(S3RgwTest, DeleteManyAcrossBatches) {
  constexpr int kKeys = 1'234;  // two DeleteObjects requests
  std::vector<std::string> keys;
  for (int i = 0; i < kKeys; ++i) keys.push_back("many/" + std::to_string(i));
  std::atomic<size_t> next{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 8; ++w) {
    workers.emplace_back([&] {
      for (size_t i = next++; i < keys.size(); i = next++) {
        if (!PutString(*store_, keys[i], "x").ok()) ++failures;
      }
    });
  }
  for (auto& t : workers) t.join();
  ASSERT_EQ(failures.load(), 0);
  std::vector<Status> per_key;
  ASSERT_TRUE(store_->DeleteMany(keys, &per_key).ok());
  ListRequest req;
  req.prefix = "many/";
  auto page = store_->List(req);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->objects.empty());
}

TEST_F(S3RgwTest, ResumedUploadOfAnotherSourceIsNeverCompletedAsThisOne) {
  // Same key, same layout, two sources: the second run must not keep the first one's parts.
  const uint64_t ps = kMinPartSize;
  const std::string a(ps * 2, 'a'), b(ps * 2, 'b');
  MultipartOptions mo;
  mo.size = a.size();
  mo.part_size = ps;
  mo.resume_fingerprint = "source-a";
  {
    auto up = store_->StartMultipart("swap.bin", mo);
    ASSERT_TRUE(up.ok());
    ASSERT_TRUE((*up)->UploadPart(1, 0, io::AsBytes(std::string_view(a).substr(0, ps))).ok());
  }
  mo.resume_fingerprint = "source-b";
  mo.sha256 = crypto::Sha256Hex(b);
  auto up = store_->StartMultipart("swap.bin", mo);
  ASSERT_TRUE(up.ok());
  std::vector<PartInfo> parts = (*up)->completed_parts();
  ASSERT_EQ(parts.size(), 1u);  // layout fits: offered for resume, as S3 cannot tell more
  auto p2 = (*up)->UploadPart(2, ps, io::AsBytes(std::string_view(b).substr(ps)));
  ASSERT_TRUE(p2.ok());
  parts.push_back(*p2);
  auto done = (*up)->Complete(parts, mo.sha256);
  EXPECT_EQ(done.status().code(), StatusCode::kDataLoss) << done.status().ToString();
  EXPECT_EQ(store_->Stat("swap.bin").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace datacube::storage::s3
