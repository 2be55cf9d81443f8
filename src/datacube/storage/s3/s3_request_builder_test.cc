#include "datacube/storage/s3/s3_request_builder.h"

#include <gtest/gtest.h>

namespace datacube::storage::s3 {
namespace {

// The S3 documentation's example: bucket "examplebucket" in us-east-1 at 2013-05-24T00:00:00Z.
const auto kExampleTime = std::chrono::system_clock::from_time_t(1369353600);

S3Endpoint ExampleEndpoint() {
  EndpointSettings s{Scheme::kS3, "examplebucket", "", Addressing::kAuto, "us-east-1"};
  S3Endpoint e = *ResolveEndpoint(s);
  e.host = "s3.amazonaws.com";  // the example uses the global endpoint
  return e;
}

AwsCredentials ExampleCredentials() {
  AwsCredentials c;
  c.access_key_id = "AKIAIOSFODNN7EXAMPLE";
  c.secret_access_key = Secret<>("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
  return c;
}

std::string HeaderOf(const http::HttpRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "<missing>";
}

TEST(BuildSignedRequestTest, ReproducesTheGetObjectExample) {
  S3Request r;
  r.method = "GET";
  r.bucket = "examplebucket";
  r.key = "test.txt";
  r.headers = {{"range", "bytes=0-9"}};
  SigV4Signature sig;
  http::HttpRequest out =
      BuildSignedRequest(r, ExampleEndpoint(), ExampleCredentials(), kExampleTime, &sig);
  EXPECT_EQ(out.url, "https://examplebucket.s3.amazonaws.com/test.txt");
  EXPECT_EQ(sig.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(HeaderOf(out, "authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(HeaderOf(out, "x-amz-date"), "20130524T000000Z");
  EXPECT_EQ(HeaderOf(out, "x-amz-content-sha256"), kEmptyPayloadSha256);
  EXPECT_EQ(HeaderOf(out, "range"), "bytes=0-9");
  EXPECT_EQ(HeaderOf(out, "host"), "<missing>");  // curl sends Host from the URL
}

TEST(BuildSignedRequestTest, ReproducesTheListObjectsExample) {
  S3Request r;
  r.bucket = "examplebucket";
  r.query = {{"max-keys", "2"}, {"prefix", "J"}};
  SigV4Signature sig;
  http::HttpRequest out =
      BuildSignedRequest(r, ExampleEndpoint(), ExampleCredentials(), kExampleTime, &sig);
  EXPECT_EQ(out.url, "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J");
  EXPECT_EQ(sig.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(BuildSignedRequestTest, PathStyleSignsTheBucketInThePathAndThePort) {
  EndpointSettings s{Scheme::kS3, "b", "http://127.0.0.1:7480", Addressing::kAuto, "default"};
  S3Request r;
  r.method = "PUT";
  r.bucket = "b";
  r.key = "dir/a b+c.bin";
  r.query = {{"partNumber", "3"}, {"uploadId", "2~x/y"}};
  r.payload_sha256 = std::string(64, 'a');
  r.content_length = 5;
  SigV4Signature sig;
  http::HttpRequest out =
      BuildSignedRequest(r, *ResolveEndpoint(s), ExampleCredentials(), kExampleTime, &sig);
  EXPECT_EQ(out.url, "http://127.0.0.1:7480/b/dir/a%20b%2Bc.bin?partNumber=3&uploadId=2~x%2Fy");
  EXPECT_EQ(out.content_length, 5u);
  EXPECT_NE(sig.canonical_request.find("PUT\n/b/dir/a%20b%2Bc.bin\npartNumber=3&uploadId=2~x%2Fy\n"
                                       "host:127.0.0.1:7480\n"),
            std::string::npos)
      << sig.canonical_request;
  EXPECT_EQ(HeaderOf(out, "x-amz-content-sha256"), std::string(64, 'a'));
  EXPECT_NE(sig.credential_scope.find("/default/s3/"), std::string::npos);
}

TEST(BuildSignedRequestTest, DotSegmentsAreSentEncodedAndSignedAsTheKey) {
  EndpointSettings s{Scheme::kS3, "b", "http://127.0.0.1:7480", Addressing::kAuto, "us-east-1"};
  S3Request r;
  r.bucket = "b";
  r.key = "a/../x";
  SigV4Signature sig;
  http::HttpRequest out =
      BuildSignedRequest(r, *ResolveEndpoint(s), ExampleCredentials(), kExampleTime, &sig);
  EXPECT_EQ(out.url, "http://127.0.0.1:7480/b/a/%2E%2E/x");
  EXPECT_EQ(sig.canonical_request.substr(0, 14), "GET\n/b/a/../x\n");
}

TEST(BuildSignedRequestTest, SessionTokenIsSentAndSigned) {
  AwsCredentials c = ExampleCredentials();
  c.session_token = Secret<>("SESSIONTOKEN");
  S3Request r;
  r.bucket = "examplebucket";
  r.key = "k";
  SigV4Signature sig;
  http::HttpRequest out = BuildSignedRequest(r, ExampleEndpoint(), c, kExampleTime, &sig);
  EXPECT_EQ(HeaderOf(out, "x-amz-security-token"), "SESSIONTOKEN");
  EXPECT_NE(sig.signed_headers.find("x-amz-security-token"), std::string::npos);
}

TEST(BuildSignedRequestTest, AnonymousRequestsAreUnsigned) {
  S3Request r;
  r.bucket = "examplebucket";
  r.key = "k";
  http::HttpRequest out = BuildSignedRequest(r, ExampleEndpoint(), AwsCredentials{}, kExampleTime);
  EXPECT_TRUE(out.headers.empty());
}

TEST(BuildPresignedUrlTest, ReproducesThePresignedGetExample) {
  auto url = BuildPresignedUrl("GET", "examplebucket", "test.txt", ExampleEndpoint(),
                               ExampleCredentials(), kExampleTime, 86400);
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_EQ(*url,
            "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&"
            "X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&"
            "X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&"
            "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(BuildPresignedUrlTest, AnonymousCannotPresign) {
  auto url = BuildPresignedUrl("GET", "examplebucket", "k", ExampleEndpoint(), AwsCredentials{},
                               kExampleTime, 60);
  EXPECT_EQ(url.status().code(), StatusCode::kFailedPrecondition);
}

TEST(EncodeQueryTest, BareNamesAndStrictEncoding) {
  EXPECT_EQ(EncodeQuery({{"uploads", ""}, {"prefix", "a b/c"}}), "uploads&prefix=a%20b%2Fc");
}

}  // namespace
}  // namespace datacube::storage::s3
