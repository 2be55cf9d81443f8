#include "datacube/base/status.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "datacube/base/result.h"

namespace datacube {
namespace {

TEST(StatusTest, OkIsCheapAndPrintsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_EQ(s.WithContext("reading x").ToString(), "OK");
}

TEST(StatusTest, ErrorCarriesCodeMessageAndContext) {
  Status s = NotFoundError("no such key");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.ToString(), "NOT_FOUND: no such key");
  Status c = s.WithContext("reading s3://b/k");
  EXPECT_EQ(c.code(), StatusCode::kNotFound);
  EXPECT_EQ(c.message(), "reading s3://b/k: no such key");
  Status copy = c;
  EXPECT_EQ(copy, c);
}

TEST(StatusTest, ErrnoMapping) {
  EXPECT_EQ(ErrnoToStatus(ENOENT, "x").code(), StatusCode::kNotFound);
  EXPECT_EQ(ErrnoToStatus(EACCES, "x").code(), StatusCode::kPermissionDenied);
  Status full = ErrnoToStatus(ENOSPC, "writing /data/f");
  EXPECT_EQ(full.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(full.message().find("writing /data/f"), std::string_view::npos);
  EXPECT_NE(full.message().find("No space left"), std::string_view::npos);
}

TEST(StatusTest, RetryableSetIsDecidedOnce) {
  EXPECT_TRUE(IsRetryable(UnavailableError("503")));
  EXPECT_TRUE(IsRetryable(DeadlineExceededError("timeout")));
  EXPECT_TRUE(IsRetryable(DataLossError("checksum")));
  EXPECT_FALSE(IsRetryable(PermissionDeniedError("403")));
  EXPECT_FALSE(IsRetryable(NotFoundError("404")));
  EXPECT_FALSE(IsRetryable(InvalidArgumentError("bad")));
  EXPECT_FALSE(IsRetryable(ResourceExhaustedError("disk full")));
}

Result<int> Half(int x) {
  if (x % 2) return InvalidArgumentError("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  DC_ASSIGN_OR_RETURN(int h, Half(x));
  DC_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(ResultTest, ValueOrError) {
  auto r = Quarter(8);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 2);
  auto bad = Quarter(6);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "odd");
  EXPECT_EQ(bad.value_or(-1), -1);
}

TEST(ResultTest, OkStatusWithoutValueBecomesInternal) {
  Result<int> r{Status()};
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

TEST(StatusTest, MalformedResponseIsMarkedAndKeepsTheMarkThroughContext) {
  Status s = MalformedResponseError("malformed listing from http://127.0.0.1/b");
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_TRUE(IsMalformedResponse(s));
  EXPECT_FALSE(IsRetryable(s));
  Status wrapped = s.WithContext("listing s3://b/p/");
  EXPECT_TRUE(IsMalformedResponse(wrapped));
  EXPECT_EQ(wrapped.message(), "listing s3://b/p/: malformed listing from http://127.0.0.1/b");
  Status copy = wrapped;
  EXPECT_TRUE(IsMalformedResponse(copy));
  EXPECT_FALSE(IsMalformedResponse(DataLossError("checksum mismatch")));
  EXPECT_FALSE(IsMalformedResponse(Status()));
}

TEST(StatusTest, EgressDeniedIsMarkedAndKeepsTheMarkThroughContext) {
  Status s = EgressDeniedError("class secret may not go to provider s3");
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(IsEgressDenied(s));
  EXPECT_FALSE(IsRetryable(s));
  Status copy = s.WithContext("cp");
  EXPECT_TRUE(IsEgressDenied(copy));
  EXPECT_FALSE(IsEgressDenied(PermissionDeniedError("x")));
  EXPECT_FALSE(IsEgressDenied(Status()));
}

}  // namespace
}  // namespace datacube
