// The S3 store driven through MockHttpTransport: exactly which requests it sends (URLs, headers,
// bodies) and how it treats every kind of answer.
#include "datacube/storage/s3/s3_store.h"

#include <gtest/gtest.h>

#include "datacube/crypto/hmac.h"
#include "datacube/crypto/sha256.h"
#include "datacube/http/testing/mock_http_transport.h"
#include "datacube/storage/s3/s3_metadata.h"

namespace datacube::storage::s3 {
namespace {

using http::MakeResponse;
using http::MockHttpTransport;
using http::RecordedRequest;

constexpr char kBase[] = "http://127.0.0.1:7480/b";

std::string Header(const http::HttpRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}
bool HasHeader(const http::HttpRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return true;
  }
  return false;
}

class S3StoreTest : public ::testing::Test {
 protected:
  S3StoreOptions Options() {
    S3StoreOptions o;
    o.scheme = Scheme::kS3;
    o.bucket = "b";
    EndpointSettings es{Scheme::kS3, "b", "http://127.0.0.1:7480", Addressing::kAuto, "us-east-1"};
    o.endpoint = *ResolveEndpoint(es);
    o.credentials.access_key_id = "AKIDTEST";
    o.credentials.secret_access_key = Secret<>("testSecretKey");
    o.credentials_source = "test";
    o.retry.max_attempts = 3;
    o.retry.initial_delay = std::chrono::milliseconds(1);
    o.retry.max_delay = std::chrono::milliseconds(2);
    o.transport_override = mock_;
    o.clock = [] { return std::chrono::system_clock::from_time_t(1704067200); };
    return o;
  }
  std::shared_ptr<ObjectStore> Store(S3StoreOptions o) { return NewS3Store(std::move(o)); }
  std::shared_ptr<ObjectStore> Store() { return Store(Options()); }
  std::vector<RecordedRequest> Requests() { return mock_->requests(); }
  // The bucket exists (the check before the first write).
  void BucketExists() { mock_->Respond(std::string("HEAD ") + kBase, MakeResponse(200)); }

  std::shared_ptr<MockHttpTransport> mock_ = std::make_shared<MockHttpTransport>();
};

// ---- Stat ----

TEST_F(S3StoreTest, StatReadsSizeEtagShaAndMtimeFromHead) {
  const std::string sha = crypto::Sha256Hex("hello");
  mock_->Respond(std::string("HEAD ") + kBase + "/dir/a%20b.txt",
                 MakeResponse(200, "",
                              {{"content-length", "5"},
                               {"etag", "\"5d41402abc4b2a76b9719d911017c592\""},
                               {"x-amz-meta-sha256", sha},
                               {"x-amz-meta-mtime", "1700000000.5"}}));
  auto info = Store()->Stat("dir/a b.txt");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->size, 5u);
  EXPECT_EQ(info->etag, "5d41402abc4b2a76b9719d911017c592");
  EXPECT_EQ(info->sha256, sha);
  EXPECT_EQ(info->mtime_ns, 1700000000500000000);
  auto reqs = Requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_NE(
      Header(reqs[0].request, "authorization").find("Credential=AKIDTEST/20240101/us-east-1/s3"),
      std::string::npos);
  EXPECT_EQ(Header(reqs[0].request, "x-amz-content-sha256"), kEmptyPayloadSha256);
}

TEST_F(S3StoreTest, StatOfMissingObjectIsNotFound) {
  mock_->Respond(std::string("HEAD ") + kBase + "/nope", MakeResponse(404));
  auto info = Store()->Stat("nope");
  EXPECT_EQ(info.status().code(), StatusCode::kNotFound);
  EXPECT_NE(std::string(info.status().message()).find("s3://b/nope"), std::string::npos);
  EXPECT_EQ(Requests().size(), 1u);  // not retried
}

TEST_F(S3StoreTest, StatForbiddenFetchesTheReasonWithAGet) {
  mock_->Respond(std::string("HEAD ") + kBase + "/k", MakeResponse(403));
  mock_->Respond(std::string("GET ") + kBase + "/k",
                 MakeResponse(403,
                              "<Error><Code>SignatureDoesNotMatch</Code><RequestId>R1"
                              "</RequestId></Error>"));
  auto info = Store()->Stat("k");
  EXPECT_EQ(info.status().code(), StatusCode::kUnauthenticated);
  std::string msg(info.status().message());
  EXPECT_NE(msg.find("secret access key"), std::string::npos) << msg;
  EXPECT_NE(msg.find("R1"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("testSecretKey"), std::string::npos);
  auto reqs = Requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(Header(reqs[1].request, "range"), "bytes=0-0");
}

// ---- Retries and region correction ----

TEST_F(S3StoreTest, TransientErrorsAreRetriedThenSucceed) {
  const std::string url =
      std::string("GET ") + kBase + "?list-type=2&encoding-type=url&max-keys=1000";
  mock_->Respond(url, MakeResponse(503, "<Error><Code>SlowDown</Code></Error>"));
  mock_->Respond(url, Result<http::HttpResponse>(UnavailableError("connection reset")));
  mock_->Respond(url, MakeResponse(200,
                                   "<ListBucketResult><IsTruncated>false</IsTruncated>"
                                   "<Contents><Key>a</Key><Size>1</Size></Contents>"
                                   "</ListBucketResult>"));
  auto page = Store()->List({});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(Requests().size(), 3u);
}

TEST_F(S3StoreTest, PermanentErrorsFailAtOnce) {
  const std::string url =
      std::string("GET ") + kBase + "?list-type=2&encoding-type=url&max-keys=1000";
  mock_->Respond(url, MakeResponse(403, "<Error><Code>InvalidAccessKeyId</Code></Error>"));
  auto page = Store()->List({});
  EXPECT_EQ(page.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(Requests().size(), 1u);
}

TEST_F(S3StoreTest, RetriesGiveUpAfterThePolicysAttempts) {
  const std::string url =
      std::string("GET ") + kBase + "?list-type=2&encoding-type=url&max-keys=1000";
  mock_->Respond(url, MakeResponse(500, "<Error><Code>InternalError</Code></Error>"));
  auto page = Store()->List({});
  EXPECT_EQ(page.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(std::string(page.status().message()).find("all 3 attempts failed"), std::string::npos);
  EXPECT_EQ(Requests().size(), 3u);
}

TEST_F(S3StoreTest, WrongRegionIsCorrectedOnceAndRemembered) {
  S3StoreOptions o = Options();
  EndpointSettings es{Scheme::kS3, "models", "", Addressing::kAuto, "us-east-1"};
  o.bucket = "models";
  o.endpoint = *ResolveEndpoint(es);
  mock_->SetHandler(
      [](const http::HttpRequest& r, const std::string&) -> Result<http::HttpResponse> {
        if (r.url.find("s3.us-east-1.amazonaws.com") != std::string::npos) {
          return MakeResponse(400,
                              "<Error><Code>AuthorizationHeaderMalformed</Code>"
                              "<Region>eu-west-1</Region></Error>");
        }
        return MakeResponse(200, "", {{"content-length", "3"}});
      });
  auto store = Store(o);
  ASSERT_TRUE(store->Stat("k").ok());
  ASSERT_TRUE(store->Stat("k2").ok());
  auto reqs = Requests();
  ASSERT_EQ(reqs.size(), 3u);  // one refused, then straight to eu-west-1
  EXPECT_EQ(reqs[1].request.url, "https://models.s3.eu-west-1.amazonaws.com/k");
  EXPECT_NE(Header(reqs[1].request, "authorization").find("/eu-west-1/s3/"), std::string::npos);
  EXPECT_EQ(reqs[2].request.url, "https://models.s3.eu-west-1.amazonaws.com/k2");
}

TEST_F(S3StoreTest, HeadRedirectWithBucketRegionHeaderIsCorrected) {
  S3StoreOptions o = Options();
  EndpointSettings es{Scheme::kS3, "models", "", Addressing::kAuto, "us-east-1"};
  o.bucket = "models";
  o.endpoint = *ResolveEndpoint(es);
  mock_->Respond("HEAD https://models.s3.us-east-1.amazonaws.com/k",
                 MakeResponse(301, "", {{"x-amz-bucket-region", "ap-south-1"}}));
  mock_->Respond("HEAD https://models.s3.ap-south-1.amazonaws.com/k",
                 MakeResponse(200, "", {{"content-length", "1"}}));
  auto info = Store(o)->Stat("k");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(Requests().size(), 2u);
}

// ---- List ----

TEST_F(S3StoreTest, ListFollowsContinuationTokensWithPrefixAndDelimiter) {
  const std::string first = std::string("GET ") + kBase +
                            "?list-type=2&encoding-type=url&max-keys=2&prefix=d%2F&delimiter=%2F";
  mock_->Respond(first, MakeResponse(200, R"(<ListBucketResult><EncodingType>url</EncodingType>
      <IsTruncated>true</IsTruncated><NextContinuationToken>tok/1+=</NextContinuationToken>
      <Contents><Key>d%2Fa</Key><Size>1</Size></Contents>
      <CommonPrefixes><Prefix>d%2Fsub%2F</Prefix></CommonPrefixes></ListBucketResult>)"));
  mock_->Respond(first + "&continuation-token=tok%2F1%2B%3D",
                 MakeResponse(200, R"(<ListBucketResult><EncodingType>url</EncodingType>
      <IsTruncated>false</IsTruncated><Contents><Key>d%2Fz</Key><Size>2</Size>
      <LastModified>2024-01-01T00:00:00.000Z</LastModified></Contents></ListBucketResult>)"));
  auto store = Store();
  ListRequest req;
  req.prefix = "d/";
  req.recursive = false;
  req.max_keys = 2;
  auto p1 = store->List(req);
  ASSERT_TRUE(p1.ok()) << p1.status().ToString();
  EXPECT_EQ(p1->objects[0].key, "d/a");
  EXPECT_EQ(p1->common_prefixes, std::vector<std::string>{"d/sub/"});
  EXPECT_FALSE(p1->next_page_token.empty());
  req.page_token = p1->next_page_token;
  auto p2 = store->List(req);
  ASSERT_TRUE(p2.ok()) << p2.status().ToString();
  EXPECT_EQ(p2->objects[0].key, "d/z");
  EXPECT_EQ(p2->objects[0].mtime_ns, 1704067200000000000);
  EXPECT_TRUE(p2->next_page_token.empty());
}

TEST_F(S3StoreTest, ListPagesAreCappedAtAThousandKeys) {
  mock_->SetHandler(
      [](const http::HttpRequest& r, const std::string&) -> Result<http::HttpResponse> {
        EXPECT_NE(r.url.find("max-keys=1000"), std::string::npos) << r.url;
        return MakeResponse(
            200, "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>");
      });
  ListRequest req;
  req.max_keys = 50'000;
  EXPECT_TRUE(Store()->List(req).ok());
}

TEST_F(S3StoreTest, ListOfMissingBucketIsNotFound) {
  mock_->SetHandler([](const http::HttpRequest&, const std::string&) -> Result<http::HttpResponse> {
    return MakeResponse(404, "<Error><Code>NoSuchBucket</Code></Error>");
  });
  auto page = Store()->List({});
  EXPECT_EQ(page.status().code(), StatusCode::kNotFound);
  EXPECT_NE(std::string(page.status().message()).find("bucket \"b\" does not exist"),
            std::string::npos);
}

// A listing is untrusted input: what it gets wrong fails the listing as malformed (kInternal,
// not a checksum mismatch), naming the listing's URL.
TEST_F(S3StoreTest, MalformedSizesFailTheListing) {
  const std::string url =
      std::string("GET ") + kBase + "?list-type=2&encoding-type=url&max-keys=1000&prefix=p%2F";
  for (const std::string size : {"-5", "abc", "", "18446744073709551616", "9223372036854775808"}) {
    mock_ = std::make_shared<MockHttpTransport>();
    mock_->Respond(url, MakeResponse(200,
                                     "<ListBucketResult><IsTruncated>false</IsTruncated>"
                                     "<Contents><Key>p/a</Key><Size>" +
                                         size + "</Size></Contents></ListBucketResult>"));
    ListRequest req;
    req.prefix = "p/";
    auto page = Store()->List(req);
    EXPECT_EQ(page.status().code(), StatusCode::kInternal) << size;
    const std::string msg(page.status().message());
    EXPECT_NE(msg.find("malformed listing from s3://b/p/"), std::string::npos) << msg;
    EXPECT_NE(msg.find("<Size>"), std::string::npos) << msg;
    EXPECT_EQ(Requests().size(), 1u) << "a malformed listing is not retried";
  }
}

TEST_F(S3StoreTest, KeysOutsideThePrefixFailTheListing) {
  mock_->Respond(
      std::string("GET ") + kBase + "?list-type=2&encoding-type=url&max-keys=1000&prefix=p%2F",
      MakeResponse(200,
                   "<ListBucketResult><IsTruncated>false</IsTruncated>"
                   "<Contents><Key>p/ok</Key><Size>1</Size></Contents>"
                   "<Contents><Key>q/zzevil</Key><Size>1</Size></Contents>"
                   "</ListBucketResult>"));
  ListRequest req;
  req.prefix = "p/";
  auto page = Store()->List(req);
  EXPECT_EQ(page.status().code(), StatusCode::kInternal);
  EXPECT_NE(std::string(page.status().message()).find("\"q/zzevil\" is outside"), std::string::npos)
      << page.status().ToString();
}

TEST_F(S3StoreTest, ARepeatedContinuationTokenEndsTheListing) {
  // The server answers every page with the same token: ListAll must end, with an error.
  mock_->SetHandler([](const http::HttpRequest& r,
                       const std::string&) -> Result<http::HttpResponse> {
    const bool first = r.url.find("continuation-token") == std::string::npos;
    return MakeResponse(200, std::string("<ListBucketResult><IsTruncated>true</IsTruncated>"
                                         "<NextContinuationToken>SAME</NextContinuationToken>") +
                                 (first ? "<Contents><Key>a</Key><Size>1</Size></Contents>" : "") +
                                 "</ListBucketResult>");
  });
  size_t seen = 0;
  Status s = ListAll(*Store(), {}, [&](const ObjectInfo&) {
    ++seen;
    return Status();
  });
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(std::string(s.message()).find("same token again"), std::string::npos) << s.ToString();
  EXPECT_EQ(seen, 1u);
  EXPECT_EQ(Requests().size(), 2u);
}

TEST_F(S3StoreTest, AListingThatLoopsBackIsRefused) {
  // Tokens A -> B -> A: the third page repeats keys already listed.
  mock_->SetHandler([](const http::HttpRequest& r,
                       const std::string&) -> Result<http::HttpResponse> {
    const bool at_b = r.url.find("continuation-token=B") != std::string::npos;
    return MakeResponse(200, std::string("<ListBucketResult><IsTruncated>true</IsTruncated>") +
                                 "<NextContinuationToken>" + (at_b ? "A" : "B") +
                                 "</NextContinuationToken><Contents><Key>" + (at_b ? "k2" : "k1") +
                                 "</Key><Size>1</Size></Contents>" + "</ListBucketResult>");
  });
  size_t seen = 0;
  Status s = ListAll(*Store(), {}, [&](const ObjectInfo&) {
    ++seen;
    return Status();
  });
  EXPECT_EQ(s.code(), StatusCode::kInternal) << s.ToString();
  EXPECT_NE(std::string(s.message()).find("does not sort after"), std::string::npos);
  EXPECT_LT(Requests().size(), 5u);
}

// ---- Read ----

TEST_F(S3StoreTest, RangedReadSendsRangeAndIfMatch) {
  mock_->Respond(std::string("GET ") + kBase + "/k",
                 MakeResponse(206, "23456", {{"content-range", "bytes 2-6/10"}}));
  io::StringSink sink;
  ReadOptions ro;
  ro.if_match = "etag1";
  ASSERT_TRUE(Store()->Read("k", {2, 5}, sink, ro).ok());
  EXPECT_EQ(sink.str(), "23456");
  auto reqs = Requests();
  EXPECT_EQ(Header(reqs[0].request, "range"), "bytes=2-6");
  EXPECT_EQ(Header(reqs[0].request, "if-match"), "\"etag1\"");
}

TEST_F(S3StoreTest, WholeObjectReadIsVerifiedAgainstItsSha256) {
  mock_->Respond(
      std::string("GET ") + kBase + "/good",
      MakeResponse(200, "payload",
                   {{"content-length", "7"}, {"x-amz-meta-sha256", crypto::Sha256Hex("payload")}}));
  mock_->Respond(
      std::string("GET ") + kBase + "/bad",
      MakeResponse(200, "paXload",
                   {{"content-length", "7"}, {"x-amz-meta-sha256", crypto::Sha256Hex("payload")}}));
  auto store = Store();
  io::StringSink good;
  EXPECT_TRUE(store->Read("good", ByteRange::All(), good).ok());
  EXPECT_FALSE(HasHeader(Requests()[0].request, "range"));
  io::StringSink bad;
  Status s = store->Read("bad", ByteRange::All(), bad);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_TRUE(IsRetryable(s));
  EXPECT_NE(std::string(s.message()).find("corrupted"), std::string::npos);
}

TEST_F(S3StoreTest, WholeObjectReadHandsBackTheDigestsTheServerOffers) {
  std::string md5_hex = crypto::HexEncode(crypto::Md5("payload"));
  mock_->Respond(std::string("GET ") + kBase + "/k",
                 MakeResponse(200, "payload",
                              {{"content-length", "7"},
                               {"etag", "\"" + md5_hex + "\""},
                               {"x-amz-checksum-crc32c", "AAAAAA=="},
                               {"x-amz-checksum-type", "FULL_OBJECT"}}));
  std::vector<OfferedDigest> offered;
  ReadOptions ro;
  ro.offered = &offered;
  io::StringSink sink;
  ASSERT_TRUE(Store()->Read("k", ByteRange::All(), sink, ro).ok());
  EXPECT_EQ(Header(Requests()[0].request, "x-amz-checksum-mode"), "ENABLED");
  ASSERT_EQ(offered.size(), 2u);
  EXPECT_EQ(offered[0].origin, "x-amz-checksum-crc32c");
  EXPECT_EQ(offered[1].origin, "ETag");
  EXPECT_EQ(crypto::HexEncode(offered[1].value), md5_hex);
}

TEST_F(S3StoreTest, CompositeChecksumsLearnTheirPartSize) {
  // 3 parts of 4 + 4 + 2 bytes.
  mock_->Respond(std::string("HEAD ") + kBase + "/k",
                 MakeResponse(200, "",
                              {{"content-length", "10"},
                               {"etag", "\"0123456789abcdef0123456789abcdef-3\""},
                               {"x-amz-checksum-crc32c", "AAAAAA==-3"},
                               {"x-amz-checksum-type", "COMPOSITE"}}));
  mock_->Respond(
      std::string("HEAD ") + kBase + "/k?partNumber=1",
      MakeResponse(206, "", {{"content-length", "4"}, {"content-range", "bytes 0-3/10"}}));
  mock_->Respond(
      std::string("HEAD ") + kBase + "/k?partNumber=3",
      MakeResponse(206, "", {{"content-length", "2"}, {"content-range", "bytes 8-9/10"}}));
  auto info = Store()->Stat("k");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  ASSERT_EQ(info->digests.size(), 1u);
  EXPECT_EQ(info->digests[0].part_count, 3u);
  EXPECT_EQ(info->digests[0].part_size, 4u);
}

TEST_F(S3StoreTest, HeaderValuesWithLineBreaksAreNeverSent) {
  // An ETag from a hostile listing comes back as If-Match.
  ReadOptions ro;
  ro.if_match = "abc\r\nX-Injected: 1";
  io::StringSink sink;
  Status s = Store()->Read("k", {0, 5}, sink, ro);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(std::string(s.message()).find("if-match"), std::string::npos) << s.ToString();
  EXPECT_TRUE(Requests().empty());
}

TEST_F(S3StoreTest, RangeChecks) {
  mock_->Respond(std::string("GET ") + kBase + "/k",
                 MakeResponse(416, "<Error><Code>InvalidRange</Code></Error>",
                              {{"content-range", "bytes */10"}}));
  auto store = Store();
  io::StringSink sink;
  EXPECT_EQ(store->Read("k", {20, 5}, sink).code(), StatusCode::kOutOfRange);
  // An empty object read from its start is simply empty (below); a 416 with 10 bytes is not.
  EXPECT_EQ(store->Read("k", {0, 5}, sink).code(), StatusCode::kOutOfRange);  // 10 bytes exist
  mock_->Respond(std::string("GET ") + kBase + "/empty",
                 MakeResponse(416, "<Error><Code>InvalidRange</Code></Error>",
                              {{"content-range", "bytes */0"}}));
  EXPECT_TRUE(store->Read("empty", {0, 5}, sink).ok());
  // Zero bytes need no request.
  size_t before = Requests().size();
  EXPECT_TRUE(store->Read("k", {3, 0}, sink).ok());
  EXPECT_EQ(Requests().size(), before);
}

TEST_F(S3StoreTest, ServerSendingMoreThanTheRangeIsRefused) {
  mock_->Respond(std::string("GET ") + kBase + "/k", MakeResponse(200, "0123456789"));
  io::StringSink sink;
  EXPECT_FALSE(Store()->Read("k", {0, 4}, sink).ok());
}

// ---- Put and integrity ----

TEST_F(S3StoreTest, PutSendsEveryChecksumAndMetadata) {
  BucketExists();
  mock_->Respond(std::string("PUT ") + kBase + "/dir/f.bin",
                 MakeResponse(200, "", {{"etag", "\"e\""}}));
  const std::string data = "model weights";
  const std::string sha = crypto::Sha256Hex(data);
  io::SpanSource src(data);
  WriteOptions wo;
  wo.size = data.size();
  wo.mtime_ns = 1700000000000000001;
  wo.metadata = {{"owner", "team"}};
  auto info = Store()->Put("dir/f.bin", src, wo);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->sha256, sha);
  EXPECT_EQ(info->etag, "e");
  auto reqs = Requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].request.method, "HEAD");  // the bucket check before the first write
  const auto& put = reqs[1];
  EXPECT_EQ(put.body, data);
  EXPECT_EQ(put.request.content_length, data.size());
  EXPECT_EQ(Header(put.request, "x-amz-content-sha256"), sha);  // signed: the server checks it
  EXPECT_EQ(Header(put.request, "x-amz-checksum-sha256"), Sha256HexToBase64(sha));
  // The signed payload hash already proves the bytes: no MD5 pass over the data.
  EXPECT_FALSE(HasHeader(put.request, "content-md5"));
  EXPECT_EQ(Header(put.request, "x-amz-meta-sha256"), sha);
  EXPECT_EQ(Header(put.request, "x-amz-meta-mtime"), "1700000000.000000001");
  EXPECT_EQ(Header(put.request, "x-amz-meta-owner"), "team");
  EXPECT_EQ(Header(put.request, "content-type"), "application/octet-stream");
}

// Unsigned (anonymous) uploads carry no verified payload hash: Content-MD5 proves the bytes.
S3StoreOptions AnonymousOptions(S3StoreOptions o) {
  o.credentials = AwsCredentials();
  return o;
}

TEST_F(S3StoreTest, ContentMd5StaysWhereFlexibleChecksumsAreIgnored) {
  BucketExists();
  mock_->Respond(std::string("PUT ") + kBase + "/a", MakeResponse(200));  // no checksum echo
  mock_->Respond(std::string("PUT ") + kBase + "/b", MakeResponse(200));
  auto store = Store(AnonymousOptions(Options()));
  for (const char* key : {"a", "b"}) {
    io::SpanSource src(std::string_view("x"));
    WriteOptions wo;
    wo.size = 1;
    wo.sha256 = crypto::Sha256Hex("x");
    ASSERT_TRUE(store->Put(key, src, wo).ok());
  }
  auto reqs = Requests();
  EXPECT_TRUE(HasHeader(reqs[2].request, "content-md5"));
}

TEST_F(S3StoreTest, ContentMd5IsDroppedOnceTheServerVerifiesSha256) {
  BucketExists();
  const std::string sha = crypto::Sha256Hex("x");
  mock_->Respond(std::string("PUT ") + kBase + "/a",
                 MakeResponse(200, "", {{"x-amz-checksum-sha256", Sha256HexToBase64(sha)}}));
  mock_->Respond(std::string("PUT ") + kBase + "/b", MakeResponse(200));
  auto store = Store(AnonymousOptions(Options()));
  for (const char* key : {"a", "b"}) {
    io::SpanSource src(std::string_view("x"));
    WriteOptions wo;
    wo.size = 1;
    wo.sha256 = sha;
    ASSERT_TRUE(store->Put(key, src, wo).ok());
  }
  auto reqs = Requests();
  EXPECT_TRUE(HasHeader(reqs[1].request, "content-md5"));
  EXPECT_FALSE(HasHeader(reqs[2].request, "content-md5"));
  EXPECT_EQ(reqs[2].body, "x");
  EXPECT_EQ(Header(reqs[2].request, "x-amz-checksum-sha256"), Sha256HexToBase64(sha));
}

TEST_F(S3StoreTest, Sha256OnlyModeNeverSendsMd5) {
  S3StoreOptions o = Options();
  o.upload_checksum = UploadChecksum::kSha256;
  BucketExists();
  mock_->Respond(std::string("PUT ") + kBase + "/a", MakeResponse(200));
  io::SpanSource src(std::string_view("x"));
  WriteOptions wo;
  ASSERT_TRUE(Store(o)->Put("a", src, wo).ok());
  auto reqs = Requests();
  EXPECT_FALSE(HasHeader(reqs[1].request, "content-md5"));
  EXPECT_EQ(Header(reqs[1].request, "x-amz-meta-sha256"), crypto::Sha256Hex("x"));
}

TEST_F(S3StoreTest, CorruptionReportedByTheServerIsDataLoss) {
  BucketExists();
  mock_->Respond(std::string("PUT ") + kBase + "/a",
                 MakeResponse(400, "<Error><Code>XAmzContentSHA256Mismatch</Code></Error>"));
  io::SpanSource src(std::string_view("x"));
  auto r = Store()->Put("a", src, {});
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
}

TEST_F(S3StoreTest, ConditionalPutReportsAlreadyExists) {
  BucketExists();
  mock_->Respond(std::string("PUT ") + kBase + "/a",
                 MakeResponse(412, "<Error><Code>PreconditionFailed</Code></Error>"));
  io::SpanSource src(std::string_view("x"));
  WriteOptions wo;
  wo.if_none_match = true;
  auto r = Store()->Put("a", src, wo);
  EXPECT_EQ(r.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Header(Requests()[1].request, "if-none-match"), "*");
}

TEST_F(S3StoreTest, MissingBucketIsCreatedOnceUnlessNoCheckBucket) {
  mock_->Respond(std::string("HEAD ") + kBase, MakeResponse(404));
  mock_->Respond(std::string("PUT ") + kBase, MakeResponse(200));
  mock_->Respond(std::string("PUT ") + kBase + "/a", MakeResponse(200));
  mock_->Respond(std::string("PUT ") + kBase + "/b", MakeResponse(200));
  auto store = Store();
  for (const char* key : {"a", "b"}) {
    io::SpanSource src(std::string_view("x"));
    ASSERT_TRUE(store->Put(key, src, {}).ok());
  }
  auto reqs = Requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[1].request.method + " " + reqs[1].request.url, std::string("PUT ") + kBase);
  EXPECT_EQ(reqs[1].body, "");  // us-east-1: no LocationConstraint

  S3StoreOptions o = Options();
  o.check_bucket = false;
  auto unchecked = Store(o);
  io::SpanSource src(std::string_view("x"));
  ASSERT_TRUE(unchecked->Put("a", src, {}).ok());
  EXPECT_EQ(Requests().size(), 5u);  // just the PUT
}

// ---- Multipart ----

std::string PartsXml(const std::vector<std::pair<int, uint64_t>>& parts) {
  std::string xml = "<ListPartsResult><IsTruncated>false</IsTruncated>";
  for (auto [n, size] : parts) {
    xml += "<Part><PartNumber>" + std::to_string(n) + "</PartNumber><ETag>\"e" + std::to_string(n) +
           "\"</ETag><Size>" + std::to_string(size) + "</Size></Part>";
  }
  return xml + "</ListPartsResult>";
}

TEST_F(S3StoreTest, MultipartUploadStartPartsComplete) {
  BucketExists();
  mock_->Respond(std::string("POST ") + kBase + "/big?uploads",
                 MakeResponse(200,
                              "<InitiateMultipartUploadResult><UploadId>U1</UploadId>"
                              "</InitiateMultipartUploadResult>"));
  mock_->Respond(std::string("PUT ") + kBase + "/big?partNumber=1&uploadId=U1",
                 MakeResponse(200, "", {{"etag", "\"p1\""}}));
  mock_->Respond(std::string("PUT ") + kBase + "/big?partNumber=2&uploadId=U1",
                 MakeResponse(200, "", {{"etag", "\"p2\""}}));
  mock_->Respond(std::string("POST ") + kBase + "/big?uploadId=U1",
                 MakeResponse(200,
                              "<CompleteMultipartUploadResult><ETag></ETag>"
                              "</CompleteMultipartUploadResult>"));
  const std::string whole = "aaaabb";
  const std::string sha = crypto::Sha256Hex(whole);
  mock_->Respond(
      std::string("HEAD ") + kBase + "/big",
      MakeResponse(200, "",
                   {{"content-length", "6"}, {"etag", "\"x-2\""}, {"x-amz-meta-sha256", sha}}));
  MultipartOptions mo;
  mo.size = 6;
  mo.part_size = 4;
  mo.sha256 = sha;
  auto up = Store()->StartMultipart("big", mo);
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ((*up)->id(), "U1");
  auto p2 = (*up)->UploadPart(2, 4, io::AsBytes(std::string_view("bb")));
  auto p1 = (*up)->UploadPart(1, 0, io::AsBytes(std::string_view("aaaa")));
  ASSERT_TRUE(p1.ok() && p2.ok());
  EXPECT_EQ(p1->etag, "p1");
  EXPECT_EQ(p1->sha256, crypto::Sha256Hex("aaaa"));
  auto info = (*up)->Complete({*p1, *p2}, sha);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->sha256, sha);
  EXPECT_EQ(info->size, 6u);

  auto reqs = Requests();
  const auto& create = reqs[1];
  EXPECT_EQ(Header(create.request, "x-amz-meta-sha256"), sha);  // known before the upload starts
  EXPECT_EQ(Header(create.request, "x-amz-checksum-algorithm"), "SHA256");
  const auto& part2 = reqs[2];
  EXPECT_EQ(part2.body, "bb");
  EXPECT_EQ(Header(part2.request, "x-amz-content-sha256"), crypto::Sha256Hex("bb"));
  EXPECT_EQ(Header(part2.request, "x-amz-checksum-sha256"),
            Sha256HexToBase64(crypto::Sha256Hex("bb")));
  const auto& complete = reqs[4];
  EXPECT_NE(complete.body.find("<Part><PartNumber>1</PartNumber><ETag>\"p1\"</ETag></Part>"
                               "<Part><PartNumber>2</PartNumber>"),
            std::string::npos)
      << complete.body;
}

TEST_F(S3StoreTest, CompleteRetriedAfterSuccessChecksTheObject) {
  BucketExists();
  mock_->Respond(std::string("POST ") + kBase + "/k?uploads",
                 MakeResponse(200,
                              "<InitiateMultipartUploadResult><UploadId>U</UploadId>"
                              "</InitiateMultipartUploadResult>"));
  mock_->Respond(std::string("POST ") + kBase + "/k?uploadId=U",
                 MakeResponse(404, "<Error><Code>NoSuchUpload</Code></Error>"));
  const std::string sha = crypto::Sha256Hex("abc");
  mock_->Respond(std::string("HEAD ") + kBase + "/k",
                 MakeResponse(200, "", {{"content-length", "3"}, {"x-amz-meta-sha256", sha}}));
  MultipartOptions mo;
  mo.size = 3;
  mo.part_size = 3;
  mo.sha256 = sha;
  auto up = Store()->StartMultipart("k", mo);
  ASSERT_TRUE(up.ok());
  auto info = (*up)->Complete({{1, 0, 3, "e", ""}}, sha);
  EXPECT_TRUE(info.ok()) << info.status().ToString();
}

TEST_F(S3StoreTest, ErrorInsideA200CompleteIsAnError) {
  BucketExists();
  mock_->Respond(std::string("POST ") + kBase + "/k?uploads",
                 MakeResponse(200,
                              "<InitiateMultipartUploadResult><UploadId>U</UploadId>"
                              "</InitiateMultipartUploadResult>"));
  mock_->Respond(std::string("POST ") + kBase + "/k?uploadId=U",
                 MakeResponse(200, "\n\n<Error><Code>InternalError</Code></Error>"));
  auto up = Store()->StartMultipart("k", MultipartOptions{});
  ASSERT_TRUE(up.ok());
  auto info = (*up)->Complete({{1, 0, 3, "e", ""}}, "");
  EXPECT_EQ(info.status().code(), StatusCode::kUnavailable);
}

class S3ResumeTest : public S3StoreTest {
 protected:
  void SetUp() override {
    BucketExists();
    mo_.size = 10;
    mo_.part_size = 4;
    mo_.sha256 = crypto::Sha256Hex("0123456789");
    mo_.resume_fingerprint = "src|10|etag";
    mo_.mtime_ns = 1704067200000000000 - 1;  // before the upload started
    mock_->Respond(
        std::string("GET ") + kBase + "?uploads&prefix=k&encoding-type=url&max-uploads=1000",
        MakeResponse(200,
                     "<ListMultipartUploadsResult><IsTruncated>false</IsTruncated>"
                     "<Upload><Key>k-other</Key><UploadId>X</UploadId></Upload>"
                     "<Upload><Key>k</Key><UploadId>OLD</UploadId><Initiated>"
                     "2024-01-01T00:00:00.000Z</Initiated></Upload>"
                     "</ListMultipartUploadsResult>"));
  }
  std::string Tag() { return crypto::Sha256Hex(mo_.resume_fingerprint + "|4").substr(0, 32); }
  MultipartOptions mo_;
};

TEST_F(S3ResumeTest, ResumesFromListParts) {
  mock_->Respond(std::string("GET ") + kBase + "/k?uploadId=OLD&max-parts=1000",
                 MakeResponse(200, PartsXml({{1, 4}, {2, 4}})));
  mock_->Respond(std::string("POST ") + kBase + "/k?uploadId=OLD", MakeResponse(200, "<x/>"));
  mock_->Respond(std::string("HEAD ") + kBase + "/k",
                 MakeResponse(200, "",
                              {{"content-length", "10"},
                               {"x-amz-meta-sha256", mo_.sha256},
                               {"x-amz-meta-datacube-resume", Tag()}}));
  auto up = Store()->StartMultipart("k", mo_);
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ((*up)->id(), "OLD");
  auto done = (*up)->completed_parts();
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[1].number, 2u);
  EXPECT_EQ(done[1].offset, 4u);
  EXPECT_EQ(done[1].etag, "e2");
  std::vector<PartInfo> parts = done;
  parts.push_back({3, 8, 2, "e3", ""});
  EXPECT_TRUE((*up)->Complete(parts, mo_.sha256).ok());
}

TEST_F(S3ResumeTest, PartsOfAnotherLayoutAreNotResumed) {
  mock_->Respond(std::string("GET ") + kBase + "/k?uploadId=OLD&max-parts=1000",
                 MakeResponse(200, PartsXml({{1, 5}})));
  mock_->Respond(std::string("POST ") + kBase + "/k?uploads",
                 MakeResponse(200,
                              "<InitiateMultipartUploadResult><UploadId>NEW</UploadId>"
                              "</InitiateMultipartUploadResult>"));
  auto up = Store()->StartMultipart("k", mo_);
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ((*up)->id(), "NEW");
  EXPECT_TRUE((*up)->completed_parts().empty());
  auto reqs = Requests();
  EXPECT_EQ(Header(reqs.back().request, "x-amz-meta-datacube-resume"), Tag());
}

TEST_F(S3ResumeTest, SourceModifiedAfterTheUploadBeganIsNotResumed) {
  mo_.mtime_ns = 1704067200000000000 + 1;
  mock_->Respond(std::string("POST ") + kBase + "/k?uploads",
                 MakeResponse(200,
                              "<InitiateMultipartUploadResult><UploadId>NEW</UploadId>"
                              "</InitiateMultipartUploadResult>"));
  auto up = Store()->StartMultipart("k", mo_);
  ASSERT_TRUE(up.ok());
  EXPECT_EQ((*up)->id(), "NEW");
}

TEST_F(S3ResumeTest, ForeignPartsFoundAtCompleteAreRemovedAsDataLoss) {
  mock_->Respond(std::string("GET ") + kBase + "/k?uploadId=OLD&max-parts=1000",
                 MakeResponse(200, PartsXml({{1, 4}})));
  mock_->Respond(std::string("POST ") + kBase + "/k?uploadId=OLD", MakeResponse(200, "<x/>"));
  mock_->Respond(
      std::string("HEAD ") + kBase + "/k",
      MakeResponse(200, "",
                   {{"content-length", "10"}, {"x-amz-meta-datacube-resume", "another-source"}}));
  mock_->Respond(std::string("DELETE ") + kBase + "/k", MakeResponse(204));
  auto up = Store()->StartMultipart("k", mo_);
  ASSERT_TRUE(up.ok());
  auto info =
      (*up)->Complete({{1, 0, 4, "e1", ""}, {2, 4, 4, "e2", ""}, {3, 8, 2, "e3", ""}}, mo_.sha256);
  EXPECT_EQ(info.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(Requests().back().request.method, "DELETE");
}

// ---- Delete, copy, presign ----

TEST_F(S3StoreTest, DeleteManyBatchesAThousandKeysWithContentMd5) {
  int posts = 0;
  mock_->SetHandler(
      [&](const http::HttpRequest& r, const std::string& body) -> Result<http::HttpResponse> {
        EXPECT_EQ(r.method + " " + r.url, std::string("POST ") + kBase + "?delete");
        EXPECT_EQ(Header(r, "content-md5"), crypto::Base64Encode(crypto::Md5(body)));
        size_t count = 0;
        for (size_t p = body.find("<Object>"); p != std::string::npos;
             p = body.find("<Object>", p + 1)) {
          ++count;
        }
        EXPECT_LE(count, kMaxDeleteBatch);
        ++posts;
        if (posts == 3) {
          return MakeResponse(200,
                              "<DeleteResult><Error><Key>k2400</Key><Code>AccessDenied</Code>"
                              "</Error><Error><Key>k2401</Key><Code>NoSuchKey</Code></Error>"
                              "</DeleteResult>");
        }
        return MakeResponse(200, "<DeleteResult/>");
      });
  std::vector<std::string> keys;
  for (int i = 0; i < 2500; ++i) keys.push_back("k" + std::to_string(i));
  std::vector<Status> per_key;
  Status s = Store()->DeleteMany(keys, &per_key);
  EXPECT_EQ(posts, 3);
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  ASSERT_EQ(per_key.size(), 2500u);
  EXPECT_EQ(per_key[2400].code(), StatusCode::kPermissionDenied);
  EXPECT_NE(std::string(per_key[2400].message()).find("s3://b/k2400"), std::string::npos);
  EXPECT_TRUE(per_key[2401].ok());
  EXPECT_TRUE(per_key[0].ok());
}

TEST_F(S3StoreTest, DeleteOfMissingKeyIsOkButMissingBucketIsNot) {
  mock_->Respond(std::string("DELETE ") + kBase + "/gone",
                 MakeResponse(404, "<Error><Code>NoSuchKey</Code></Error>"));
  mock_->Respond(std::string("DELETE ") + kBase + "/x",
                 MakeResponse(404, "<Error><Code>NoSuchBucket</Code></Error>"));
  auto store = Store();
  EXPECT_TRUE(store->Delete("gone").ok());
  EXPECT_EQ(store->Delete("x").code(), StatusCode::kNotFound);
}

TEST_F(S3StoreTest, CopyWithinUsesCopyObject) {
  BucketExists();
  mock_->Respond(std::string("HEAD ") + kBase + "/src%20key",
                 MakeResponse(200, "", {{"content-length", "3"}}));
  mock_->Respond(std::string("PUT ") + kBase + "/dst",
                 MakeResponse(200, "<CopyObjectResult><ETag>\"e\"</ETag></CopyObjectResult>"));
  mock_->Respond(std::string("HEAD ") + kBase + "/dst",
                 MakeResponse(200, "", {{"content-length", "3"}}));
  auto info = Store()->CopyWithin("src key", "dst");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  auto reqs = Requests();
  EXPECT_EQ(Header(reqs[2].request, "x-amz-copy-source"), "/b/src%20key");
  EXPECT_EQ(Header(reqs[2].request, "x-amz-metadata-directive"), "COPY");
}

TEST_F(S3StoreTest, CopyWithinAboveFiveGibUsesUploadPartCopy) {
  BucketExists();
  const uint64_t size = (6ull << 30) + 5;  // six 1 GiB parts and a 5-byte one
  const std::string sha = crypto::Sha256Hex("pretend");
  mock_->Respond(
      std::string("HEAD ") + kBase + "/src",
      MakeResponse(200, "",
                   {{"content-length", std::to_string(size)}, {"x-amz-meta-sha256", sha}}));
  mock_->Respond(std::string("POST ") + kBase + "/dst?uploads",
                 MakeResponse(200,
                              "<InitiateMultipartUploadResult><UploadId>C</UploadId>"
                              "</InitiateMultipartUploadResult>"));
  mock_->SetHandler(
      [](const http::HttpRequest& r, const std::string&) -> Result<http::HttpResponse> {
        if (r.method == "PUT") {
          return MakeResponse(200, "<CopyPartResult><ETag>\"c\"</ETag></CopyPartResult>");
        }
        return MakeResponse(404);
      });
  mock_->Respond(std::string("POST ") + kBase + "/dst?uploadId=C", MakeResponse(200, "<x/>"));
  mock_->Respond(
      std::string("HEAD ") + kBase + "/dst",
      MakeResponse(200, "",
                   {{"content-length", std::to_string(size)}, {"x-amz-meta-sha256", sha}}));
  auto info = Store()->CopyWithin("src", "dst");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  std::vector<std::string> ranges;
  for (const auto& r : Requests()) {
    if (r.request.method == "PUT") {
      EXPECT_EQ(Header(r.request, "x-amz-copy-source"), "/b/src");
      ranges.push_back(Header(r.request, "x-amz-copy-source-range"));
    }
  }
  ASSERT_EQ(ranges.size(), 7u);
  EXPECT_EQ(ranges[0], "bytes=0-1073741823");
  EXPECT_EQ(ranges[6], "bytes=6442450944-6442450948");
  EXPECT_EQ(Header(Requests()[2].request, "x-amz-meta-sha256"), sha);  // metadata carried over
}

TEST_F(S3StoreTest, PresignBuildsAQueryAuthenticatedUrl) {
  auto url = Store()->Presign("dir/k", "PUT", 3600);
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_EQ(url->rfind(std::string(kBase) + "/dir/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&", 0), 0u);
  EXPECT_NE(url->find("X-Amz-Expires=3600"), std::string::npos);
  EXPECT_NE(url->find("X-Amz-Signature="), std::string::npos);
  EXPECT_EQ(url->find("testSecretKey"), std::string::npos);
  EXPECT_EQ(Store()->Presign("k", "POST", 60).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Store()->Presign("k", "GET", 8 * 86400).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Requests().empty());
}

TEST_F(S3StoreTest, CapabilitiesState) {
  auto caps = Store()->capabilities();
  EXPECT_TRUE(caps.multipart);
  EXPECT_TRUE(caps.resumable_multipart);
  EXPECT_EQ(caps.min_part_size, 5u << 20);
  EXPECT_EQ(caps.max_part_count, 10'000u);
  EXPECT_TRUE(caps.stores_sha256);
  EXPECT_TRUE(caps.wants_sha256_before_write);
  EXPECT_TRUE(caps.server_side_copy);
  EXPECT_TRUE(caps.presign);
  EXPECT_EQ(Store()->UrlFor("a/b"), "s3://b/a/b");
}

TEST_F(S3StoreTest, KeysLongerThanS3AllowsAreRefusedBeforeAnyRequest) {
  EXPECT_EQ(Store()->Stat(std::string(1025, 'k')).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Requests().empty());
}

}  // namespace
}  // namespace datacube::storage::s3
