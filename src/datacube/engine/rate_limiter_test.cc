#include "datacube/engine/rate_limiter.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace datacube::engine {
namespace {

TEST(RateLimiterTest, UnlimitedNeverWaits) {
  RateLimiter r(0);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(r.Acquire(1 << 30).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100));
}

TEST(RateLimiterTest, HoldsTheAggregateRateAcrossThreads) {
  // 4 threads push 2 MB through a 4 MB/s limit: ~0.5 s, never much less.
  RateLimiter r(4'000'000);
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&] {
      for (int i = 0; i < 10; ++i) ASSERT_TRUE(r.Acquire(50'000).ok());
    });
  }
  for (auto& t : ts) t.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(secs, 0.4);
  EXPECT_LT(secs, 2.0);
}

}  // namespace
}  // namespace datacube::engine
