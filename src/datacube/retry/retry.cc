#include "datacube/retry/retry.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <mutex>

namespace datacube {

std::chrono::milliseconds BackoffForAttempt(const RetryPolicy& policy, int attempt,
                                            double random01) {
  if (attempt < 1) attempt = 1;
  double base = static_cast<double>(policy.initial_delay.count());
  double capped =
      std::min(base * std::pow(2.0, attempt - 1), static_cast<double>(policy.max_delay.count()));
  double jitter = std::clamp(policy.jitter, 0.0, 1.0);
  double delay = capped * (1.0 - jitter) + capped * jitter * std::clamp(random01, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<long long>(delay));
}

bool SleepFor(std::chrono::milliseconds d, std::stop_token stop) {
  if (d.count() <= 0) return !stop.stop_requested();
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock<std::mutex> lock(mu);
  return !cv.wait_for(lock, stop, d, [] { return false; });
}

Status RetryStatus(
    const RetryPolicy& policy, std::stop_token stop, const std::function<Status(int)>& op,
    const std::function<bool(const Status&)>& is_retryable,
    const std::function<void(int, const Status&, std::chrono::milliseconds)>& on_retry) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> dist(0.0, 1.0);
  int attempts = std::max(1, policy.max_attempts);
  Status last;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (stop.stop_requested()) return CancelledError("cancelled");
    last = op(attempt);
    if (last.ok()) return last;
    bool retryable = is_retryable ? is_retryable(last) : IsRetryable(last);
    if (!retryable || attempt == attempts) break;
    auto delay = BackoffForAttempt(policy, attempt, dist(rng));
    if (on_retry) on_retry(attempt, last, delay);
    if (!SleepFor(delay, stop)) return CancelledError("cancelled during retry backoff");
  }
  bool retryable = is_retryable ? is_retryable(last) : IsRetryable(last);
  if (attempts > 1 && retryable) {
    // WithContext keeps the code and the marks of the cause (a malformed answer stays one).
    return last.WithContext("all " + std::to_string(attempts) + " attempts failed; last error");
  }
  return last;
}

}  // namespace datacube
