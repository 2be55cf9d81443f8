#include "datacube/retry/retry.h"

#include <gtest/gtest.h>

namespace datacube {
namespace {

TEST(RetryTest, BackoffGrowsAndCaps) {
  RetryPolicy p;
  p.initial_delay = std::chrono::milliseconds(100);
  p.max_delay = std::chrono::milliseconds(1000);
  p.jitter = 0;
  EXPECT_EQ(BackoffForAttempt(p, 1, 0.5).count(), 100);
  EXPECT_EQ(BackoffForAttempt(p, 2, 0.5).count(), 200);
  EXPECT_EQ(BackoffForAttempt(p, 3, 0.5).count(), 400);
  EXPECT_EQ(BackoffForAttempt(p, 10, 0.5).count(), 1000);
  p.jitter = 1;  // full jitter spans [0, capped]
  EXPECT_EQ(BackoffForAttempt(p, 3, 0.0).count(), 0);
  EXPECT_EQ(BackoffForAttempt(p, 3, 0.999).count(), 399);
}

RetryPolicy Fast(int attempts) {
  RetryPolicy p;
  p.max_attempts = attempts;
  p.initial_delay = std::chrono::milliseconds(1);
  p.max_delay = std::chrono::milliseconds(2);
  return p;
}

TEST(RetryTest, RetriesTransientUntilSuccess) {
  int calls = 0;
  Status s = RetryStatus(
      Fast(5), {}, [&](int) { return ++calls < 3 ? UnavailableError("503 SlowDown") : Status(); });
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(calls, 3);
}

TEST(RetryTest, StopsAtOnceOnPermanentErrors) {
  int calls = 0;
  Status s = RetryStatus(Fast(5), {}, [&](int) {
    ++calls;
    return PermissionDeniedError("AccessDenied");
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "AccessDenied");
}

TEST(RetryTest, ExhaustionSaysHowManyAndWhy) {
  int calls = 0;
  Status s = RetryStatus(Fast(4), {}, [&](int) {
    ++calls;
    return UnavailableError("connection reset");
  });
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "all 4 attempts failed; last error: connection reset");
}

TEST(RetryTest, CancellationEndsBackoff) {
  std::stop_source stop;
  RetryPolicy p = Fast(10);
  p.initial_delay = std::chrono::milliseconds(10'000);
  p.max_delay = std::chrono::milliseconds(10'000);
  p.jitter = 0;
  auto start = std::chrono::steady_clock::now();
  Status s = RetryStatus(p, stop.get_token(), [&](int) {
    stop.request_stop();
    return UnavailableError("x");
  });
  EXPECT_EQ(s.code(), StatusCode::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

}  // namespace
}  // namespace datacube
