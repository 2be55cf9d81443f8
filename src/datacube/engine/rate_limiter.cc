#include "datacube/engine/rate_limiter.h"

#include <algorithm>

#include "datacube/base/cancel.h"
#include "datacube/retry/retry.h"

namespace datacube::engine {

RateLimiter::RateLimiter(uint64_t bytes_per_second)
    : rate_(bytes_per_second), tokens_(0), last_(std::chrono::steady_clock::now()) {}

Status RateLimiter::Acquire(uint64_t n) {
  if (rate_ == 0 || n == 0) return Status();
  std::chrono::milliseconds wait{0};
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto now = std::chrono::steady_clock::now();
    double elapsed = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    // Burst capacity of one second's worth keeps short bursts smooth without exceeding the rate
    // over any window longer than a second.
    tokens_ = std::min(tokens_ + elapsed * static_cast<double>(rate_), static_cast<double>(rate_));
    tokens_ -= static_cast<double>(n);  // may go negative: the debt is paid by waiting
    if (tokens_ < 0) {
      wait = std::chrono::milliseconds(
          static_cast<long long>(-tokens_ * 1000.0 / static_cast<double>(rate_)));
    }
  }
  if (wait.count() > 0 && !SleepFor(wait, CurrentStopToken())) {
    return CancelledError("cancelled while throttled by --bwlimit");
  }
  return Status();
}

}  // namespace datacube::engine
