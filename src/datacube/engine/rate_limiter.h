// RateLimiter: holds the aggregate byte rate of a transfer under a limit (--bwlimit), shared by
// all workers. A token bucket with one second of burst. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

#include "datacube/base/status.h"

namespace datacube::engine {

class RateLimiter {
 public:
  // 0 means unlimited.
  explicit RateLimiter(uint64_t bytes_per_second);
  // Blocks until `n` bytes may pass; kCancelled if the current stop token fires meanwhile.
  Status Acquire(uint64_t n);
  uint64_t rate() const { return rate_; }

 private:
  const uint64_t rate_;
  std::mutex mu_;
  double tokens_;                               // guarded by mu_
  std::chrono::steady_clock::time_point last_;  // guarded by mu_
};

}  // namespace datacube::engine
