// Retries with exponential backoff and jitter.
//
// `BackoffForAttempt` is a pure function so it can be tested exactly; `WithRetries` runs an
// operation until it succeeds, fails with a non-retryable status, runs out of attempts, or is
// cancelled. Tests shrink the delays through RetryPolicy instead of sleeping.
#pragma once

#include <chrono>
#include <functional>
#include <random>
#include <stop_token>
#include <string>
#include <thread>

#include "datacube/base/result.h"

namespace datacube {

struct RetryPolicy {
  // Total attempts including the first; 1 means no retry.
  int max_attempts = 5;
  std::chrono::milliseconds initial_delay{200};
  std::chrono::milliseconds max_delay{20'000};
  // Fraction of the delay that is randomised (0 = none, 1 = "full jitter").
  double jitter = 0.5;
};

// Delay before attempt number `attempt` (1 = the first retry). Grows as initial * 2^(attempt-1),
// capped at max_delay; `random01` in [0,1) picks the jittered share.
std::chrono::milliseconds BackoffForAttempt(const RetryPolicy& policy, int attempt,
                                            double random01);

// Sleeps for `d` unless `stop` is requested first; returns false if stopped.
bool SleepFor(std::chrono::milliseconds d, std::stop_token stop);

// Runs `op` until success or a non-retryable error. `is_retryable` decides (default
// IsRetryable). The final error after exhausting attempts reads
// "all N attempts failed; last error: <cause>" and keeps the cause's code.
Status RetryStatus(const RetryPolicy& policy, std::stop_token stop,
                   const std::function<Status(int attempt)>& op,
                   const std::function<bool(const Status&)>& is_retryable = nullptr,
                   const std::function<void(int attempt, const Status&,
                                            std::chrono::milliseconds delay)>& on_retry = nullptr);

}  // namespace datacube
