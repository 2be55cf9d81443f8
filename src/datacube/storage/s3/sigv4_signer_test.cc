#include "datacube/storage/s3/sigv4_signer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "datacube/crypto/sha256.h"

namespace datacube::storage::s3 {
namespace {

// ---- The AWS SigV4 test suite (testdata/aws-sigv4-test-suite/v4/<case>/). ----

std::string SuiteDir() {
  return std::string(DATACUBE_SOURCE_DIR) + "/testdata/aws-sigv4-test-suite/v4";
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct SuiteRequest {
  std::string method, path, query, body;
  HeaderList headers;
};

// request.txt is an HTTP/1.1 request as text; header lines that start with whitespace continue
// the previous header's value.
SuiteRequest ParseSuiteRequest(const std::string& text) {
  SuiteRequest r;
  size_t eol = text.find('\n');
  std::string first = text.substr(0, eol);
  size_t sp = first.find(' ');
  size_t proto = first.rfind(" HTTP/");
  r.method = first.substr(0, sp);
  std::string target = first.substr(sp + 1, proto - sp - 1);
  size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) r.query = target.substr(q + 1);
  size_t pos = eol == std::string::npos ? text.size() : eol + 1;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) {
      r.body = pos < text.size() ? text.substr(pos) : "";
      break;
    }
    if (line[0] == ' ' || line[0] == '\t') {
      r.headers.back().second += " " + line;
      continue;
    }
    size_t colon = line.find(':');
    r.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  return r;
}

class AwsSuiteTest : public ::testing::TestWithParam<std::string> {};

TEST_P(AwsSuiteTest, HeaderAndQuerySigningMatch) {
  const std::string dir = SuiteDir() + "/" + GetParam();
  auto ctx = nlohmann::json::parse(Slurp(dir + "/context.json"));
  SuiteRequest req = ParseSuiteRequest(Slurp(dir + "/request.txt"));

  AwsCredentials creds;
  creds.access_key_id = ctx["credentials"]["access_key_id"];
  creds.secret_access_key = Secret<>(ctx["credentials"]["secret_access_key"].get<std::string>());
  if (ctx["credentials"].contains("token")) {
    creds.session_token = Secret<>(ctx["credentials"]["token"].get<std::string>());
  }
  SigV4Config config;
  config.region = ctx["region"];
  config.service = ctx["service"];
  config.normalize_path = ctx["normalize"];
  config.double_encode = ctx["normalize"];
  config.sign_session_token = !ctx.value("omit_session_token", false);
  const std::string date = "20150830T123600Z";  // the suite's timestamp 2015-08-30T12:36:00Z
  ASSERT_EQ(ctx["timestamp"], "2015-08-30T12:36:00Z");

  // Header signing.
  SigV4Request h{req.method, req.path, req.query, req.headers, crypto::Sha256Hex(req.body)};
  if (ctx["sign_body"]) h.headers.emplace_back("x-amz-content-sha256", h.payload_hash);
  SigV4Signature sig = SignHeaders(h, creds, config, date);
  EXPECT_EQ(sig.canonical_request, Slurp(dir + "/header-canonical-request.txt"));
  EXPECT_EQ(sig.string_to_sign, Slurp(dir + "/header-string-to-sign.txt"));
  EXPECT_EQ(sig.signature, Slurp(dir + "/header-signature.txt"));
  EXPECT_NE(Slurp(dir + "/header-signed-request.txt").find(AuthorizationHeader(sig, "AKIDEXAMPLE")),
            std::string::npos);

  // Query signing (presigned URL).
  SigV4Request q{req.method, req.path, req.query, req.headers, crypto::Sha256Hex(req.body)};
  SigV4Signature qsig;
  auto query = PresignQuery(q, creds, config, date, ctx["expiration_in_seconds"], &qsig);
  ASSERT_TRUE(query.ok()) << query.status().ToString();
  EXPECT_EQ(qsig.canonical_request, Slurp(dir + "/query-canonical-request.txt"));
  EXPECT_EQ(qsig.string_to_sign, Slurp(dir + "/query-string-to-sign.txt"));
  EXPECT_EQ(qsig.signature, Slurp(dir + "/query-signature.txt"));
  EXPECT_NE(query->find("X-Amz-Signature=" + qsig.signature), std::string::npos);
}

std::vector<std::string> SuiteCases() {
  std::vector<std::string> cases;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(SuiteDir(), ec)) {
    if (e.is_directory()) cases.push_back(e.path().filename().string());
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

INSTANTIATE_TEST_SUITE_P(AwsSigV4Suite, AwsSuiteTest, ::testing::ValuesIn(SuiteCases()),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& c : n)
                             c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return n;
                         });

TEST(AwsSuiteTest, AllCasesArePresent) { EXPECT_EQ(SuiteCases().size(), 38u) << SuiteDir(); }

// ---- The S3 worked examples (AWS S3 API reference, "Signature Calculations for the
// Authorization Header" and "Authenticating Requests: Using Query Parameters"). ----

constexpr char kExampleHost[] = "examplebucket.s3.amazonaws.com";
constexpr char kExampleDate[] = "20130524T000000Z";

AwsCredentials ExampleCredentials() {
  AwsCredentials c;
  c.access_key_id = "AKIAIOSFODNN7EXAMPLE";
  c.secret_access_key = Secret<>("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
  return c;
}

SigV4Config S3Config() {
  SigV4Config c;
  c.region = "us-east-1";
  return c;
}

TEST(S3ExamplesTest, GetObjectWithRange) {
  SigV4Request r{"GET",
                 "/test.txt",
                 "",
                 {{"Host", kExampleHost},
                  {"Range", "bytes=0-9"},
                  {"x-amz-content-sha256", std::string(kEmptyPayloadSha256)}},
                 std::string(kEmptyPayloadSha256)};
  SigV4Signature sig = SignHeaders(r, ExampleCredentials(), S3Config(), kExampleDate);
  EXPECT_EQ(sig.canonical_request,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
            "\nx-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(crypto::Sha256Hex(sig.canonical_request),
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(sig.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(AuthorizationHeader(sig, "AKIAIOSFODNN7EXAMPLE"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(S3ExamplesTest, PutObjectWithEncodedKey) {
  const std::string body = "Welcome to Amazon S3.";
  const std::string hash = crypto::Sha256Hex(body);
  ASSERT_EQ(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  SigV4Request r{"PUT",
                 "/test%24file.text",
                 "",
                 {{"Host", kExampleHost},
                  {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                  {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                  {"x-amz-content-sha256", hash}},
                 hash};
  SigV4Signature sig = SignHeaders(r, ExampleCredentials(), S3Config(), kExampleDate);
  EXPECT_EQ(crypto::Sha256Hex(sig.canonical_request),
            "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  EXPECT_EQ(sig.signed_headers, "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
  EXPECT_EQ(sig.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(S3ExamplesTest, GetBucketLifecycleQueryWithoutValue) {
  SigV4Request r{
      "GET",
      "/",
      "lifecycle",
      {{"Host", kExampleHost}, {"x-amz-content-sha256", std::string(kEmptyPayloadSha256)}},
      std::string(kEmptyPayloadSha256)};
  SigV4Signature sig = SignHeaders(r, ExampleCredentials(), S3Config(), kExampleDate);
  EXPECT_NE(sig.canonical_request.find("\nlifecycle=\n"), std::string::npos);
  EXPECT_EQ(crypto::Sha256Hex(sig.canonical_request),
            "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca");
  EXPECT_EQ(sig.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(S3ExamplesTest, ListObjectsQuerySorted) {
  SigV4Request r{
      "GET",
      "/",
      "max-keys=2&prefix=J",
      {{"Host", kExampleHost}, {"x-amz-content-sha256", std::string(kEmptyPayloadSha256)}},
      std::string(kEmptyPayloadSha256)};
  SigV4Signature sig = SignHeaders(r, ExampleCredentials(), S3Config(), kExampleDate);
  EXPECT_EQ(crypto::Sha256Hex(sig.canonical_request),
            "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7");
  EXPECT_EQ(sig.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(S3ExamplesTest, PresignedGet) {
  SigV4Request r{"GET", "/test.txt", "", {{"Host", kExampleHost}}, std::string(kUnsignedPayload)};
  SigV4Signature sig;
  auto query = PresignQuery(r, ExampleCredentials(), S3Config(), kExampleDate, 86400, &sig);
  ASSERT_TRUE(query.ok());
  EXPECT_EQ(crypto::Sha256Hex(sig.canonical_request),
            "3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04");
  EXPECT_EQ(sig.signature, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  EXPECT_EQ(*query,
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2F"
            "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&"
            "X-Amz-SignedHeaders=host&X-Amz-Signature="
            "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(S3ExamplesTest, PresignRefusesExpiryBeyondSevenDays) {
  SigV4Request r{"GET", "/k", "", {{"Host", kExampleHost}}, std::string(kUnsignedPayload)};
  EXPECT_EQ(PresignQuery(r, ExampleCredentials(), S3Config(), kExampleDate, 604801).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(PresignQuery(r, ExampleCredentials(), S3Config(), kExampleDate, 0).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(PresignQuery(r, ExampleCredentials(), S3Config(), kExampleDate, 604800).ok());
}

// ---- S3 path rules: keys are signed exactly as named. ----

TEST(CanonicalUriTest, S3KeepsDotSegmentsAndDuplicateSlashes) {
  SigV4Config s3 = S3Config();
  EXPECT_EQ(CanonicalUri("/b/a/./x//y/../z", s3), "/b/a/./x//y/../z");
  EXPECT_EQ(CanonicalUri("", s3), "/");
  // An encoded key is not encoded again; raw characters are encoded once.
  EXPECT_EQ(CanonicalUri("/b/with%20space", s3), "/b/with%20space");
  EXPECT_EQ(CanonicalUri("/b/with space+plus", s3), "/b/with%20space%2Bplus");
  EXPECT_EQ(CanonicalUri("/b/%E6%97%A5", s3), "/b/%E6%97%A5");
  EXPECT_EQ(CanonicalUri("/b/100%25", s3), "/b/100%25");
}

TEST(CanonicalUriTest, GenericServicesNormalizeAndDoubleEncode) {
  SigV4Config generic;
  generic.normalize_path = true;
  generic.double_encode = true;
  EXPECT_EQ(CanonicalUri("//example//", generic), "/example/");
  EXPECT_EQ(CanonicalUri("/example1/example2/../..", generic), "/");
  EXPECT_EQ(CanonicalUri("/a%20b", generic), "/a%2520b");
}

TEST(CanonicalQueryTest, EncodesStrictlyAndSorts) {
  EXPECT_EQ(CanonicalQuery("prefix=a/b c&delimiter=%2F&list-type=2&uploads"),
            "delimiter=%2F&list-type=2&prefix=a%2Fb%20c&uploads=");
  EXPECT_EQ(CanonicalQuery(""), "");
  EXPECT_EQ(CanonicalQuery("b=2&a=2&a=1"), "a=1&a=2&b=2");
}

TEST(SignHeadersTest, SessionTokenIsSigned) {
  AwsCredentials creds = ExampleCredentials();
  creds.session_token = Secret<>("token/with+chars");
  SigV4Request r{"GET", "/k", "", {{"host", kExampleHost}}, std::string(kEmptyPayloadSha256)};
  SigV4Signature sig = SignHeaders(r, creds, S3Config(), kExampleDate);
  EXPECT_EQ(sig.signed_headers, "host;x-amz-date;x-amz-security-token");
  bool found = false;
  for (const auto& [k, v] : r.headers)
    found |= k == "x-amz-security-token" && v == "token/with+chars";
  EXPECT_TRUE(found);
}

TEST(FormatAmzDateTest, Utc) {
  auto t = std::chrono::system_clock::from_time_t(1369353600);  // 2013-05-24T00:00:00Z
  EXPECT_EQ(FormatAmzDate(t), "20130524T000000Z");
}

}  // namespace
}  // namespace datacube::storage::s3
