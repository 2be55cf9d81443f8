#include "datacube/storage/s3/s3_errors.h"

#include <gtest/gtest.h>

namespace datacube::storage::s3 {
namespace {

S3ErrorContext Ctx() {
  S3ErrorContext c;
  c.action = "reading";
  c.url = "s3://bucket/dir/key.bin";
  c.bucket = "bucket";
  c.key = "dir/key.bin";
  c.endpoint = "http://127.0.0.1:7480";
  c.region = "us-east-1";
  c.credentials_source = "environment (AWS_ACCESS_KEY_ID)";
  return c;
}

http::HttpResponse Error(int status, const std::string& code, const std::string& extra = "",
                         http::Headers headers = {}) {
  http::HttpResponse r;
  r.status = status;
  r.headers = std::move(headers);
  r.body = "<?xml version=\"1.0\"?><Error><Code>" + code + "</Code><Message>msg</Message>" + extra +
           "<RequestId>REQ123</RequestId></Error>";
  return r;
}

struct Case {
  int status;
  const char* code;
  StatusCode want;
  bool retryable;
  const char* says;  // part of the message that tells the user what to do
};

class MappingTest : public ::testing::TestWithParam<Case> {};

TEST_P(MappingTest, CodeRetryAndAdvice) {
  const Case& c = GetParam();
  Status s = S3ResponseToStatus(Error(c.status, c.code), Ctx());
  EXPECT_EQ(s.code(), c.want) << s.ToString();
  EXPECT_EQ(IsRetryable(s), c.retryable) << s.ToString();
  std::string msg(s.message());
  EXPECT_NE(msg.find(c.says), std::string::npos) << msg;
  // Every message names the object, the endpoint, the server's code and request id.
  EXPECT_EQ(msg.find("reading s3://bucket/dir/key.bin: "), 0u) << msg;
  EXPECT_NE(msg.find("http://127.0.0.1:7480"), std::string::npos) << msg;
  EXPECT_NE(msg.find("REQ123"), std::string::npos) << msg;
  if (*c.code) {
    EXPECT_NE(msg.find(c.code), std::string::npos) << msg;
  }
}

INSTANTIATE_TEST_SUITE_P(
    S3Errors, MappingTest,
    ::testing::Values(
        Case{503, "SlowDown", StatusCode::kUnavailable, true, "throttling"},
        Case{500, "InternalError", StatusCode::kUnavailable, true, "retrying"},
        Case{502, "", StatusCode::kUnavailable, true, "retrying"},
        Case{504, "", StatusCode::kUnavailable, true, "retrying"},
        Case{429, "", StatusCode::kUnavailable, true, "throttling"},
        Case{400, "RequestTimeout", StatusCode::kUnavailable, true, "timed out"},
        Case{400, "BadDigest", StatusCode::kDataLoss, true, "corrupted"},
        Case{400, "XAmzContentSHA256Mismatch", StatusCode::kDataLoss, true, "corrupted"},
        Case{501, "NotImplemented", StatusCode::kUnimplemented, false, "does not implement"},
        Case{403, "AccessDenied", StatusCode::kPermissionDenied, false, "s3:GetObject"},
        Case{403, "InvalidAccessKeyId", StatusCode::kUnauthenticated, false, "access key id"},
        Case{403, "SignatureDoesNotMatch", StatusCode::kUnauthenticated, false,
             "secret access key (from environment (AWS_ACCESS_KEY_ID)) is wrong"},
        Case{400, "ExpiredToken", StatusCode::kUnauthenticated, false, "expired"},
        Case{403, "RequestTimeTooSkewed", StatusCode::kFailedPrecondition, false, "clock skew"},
        Case{404, "NoSuchBucket", StatusCode::kNotFound, false, "bucket \"bucket\" does not exist"},
        Case{404, "NoSuchKey", StatusCode::kNotFound, false, "no such object"},
        Case{404, "NoSuchUpload", StatusCode::kNotFound, false, "no longer exists"},
        Case{412, "PreconditionFailed", StatusCode::kFailedPrecondition, false, "changed"},
        Case{416, "InvalidRange", StatusCode::kOutOfRange, false, "past the end"},
        Case{409, "BucketAlreadyExists", StatusCode::kAlreadyExists, false, "another account"},
        Case{400, "EntityTooSmall", StatusCode::kFailedPrecondition, false, "5 MiB"},
        Case{400, "InvalidPart", StatusCode::kFailedPrecondition, false, "start over"}));

TEST(S3ResponseToStatusTest, WrongRegionNamesTheRegion) {
  Status s = S3ResponseToStatus(
      Error(400, "AuthorizationHeaderMalformed", "<Region>eu-west-1</Region>"), Ctx());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(s.message()).find("wrong region: bucket is in eu-west-1"),
            std::string::npos)
      << s.ToString();
  Status redirect = S3ResponseToStatus(
      Error(301, "PermanentRedirect", "", {{"x-amz-bucket-region", "ap-south-1"}}), Ctx());
  EXPECT_NE(std::string(redirect.message()).find("--region ap-south-1"), std::string::npos);
}

TEST(S3ResponseToStatusTest, PathStyleRedirectAsksForVirtualHosting) {
  S3ErrorContext c = Ctx();
  c.path_style = true;
  Status s = S3ResponseToStatus(Error(301, "PermanentRedirect", "<Endpoint>b.host</Endpoint>"), c);
  EXPECT_NE(std::string(s.message()).find("virtual-hosted addressing required"), std::string::npos)
      << s.ToString();
}

TEST(S3ResponseToStatusTest, HeadWithoutBody) {
  http::HttpResponse r;
  r.status = 404;
  r.headers = {{"x-amz-request-id", "HEADREQ"}};
  Status s = S3ResponseToStatus(r, Ctx());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(std::string(s.message()).find("HEADREQ"), std::string::npos);
  r.status = 403;
  EXPECT_EQ(S3ResponseToStatus(r, Ctx()).code(), StatusCode::kPermissionDenied);
}

TEST(S3ResponseToStatusTest, ErrorInsideA200) {
  Status s = S3ResponseToStatus(Error(200, "InternalError"), Ctx());
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  http::HttpResponse ok;
  ok.status = 200;
  ok.body = "<CompleteMultipartUploadResult/>";
  EXPECT_TRUE(S3ResponseToStatus(ok, Ctx()).ok());
}

TEST(S3ResponseToStatusTest, ServerMessageIsClipped) {
  http::HttpResponse r = Error(400, "Weird");
  r.body = "<Error><Code>Weird</Code><Message>" + std::string(5000, 'm') + "</Message></Error>";
  Status s = S3ResponseToStatus(r, Ctx());
  EXPECT_LT(s.message().size(), 600u);
}

TEST(S3TransportErrorToStatusTest, KeepsCodeAndAddsContext) {
  Status s = S3TransportErrorToStatus(UnavailableError("GET x: Connection refused"), Ctx());
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(std::string(s.message()).find("s3://bucket/dir/key.bin at http://127.0.0.1:7480"),
            std::string::npos);
  EXPECT_TRUE(IsRetryable(S3TransportErrorToStatus(DeadlineExceededError("t"), Ctx())));
}

}  // namespace
}  // namespace datacube::storage::s3
