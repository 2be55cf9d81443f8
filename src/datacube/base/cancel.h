// The cancellation token of the work running on this thread.
//
// Backends are synchronous; a long HTTP body, a stalled request or a retry backoff must still
// stop promptly when a transfer is cancelled (Ctrl-C, SIGTERM, activeDeadlineSeconds). The
// engine installs the transfer's std::stop_token on each worker thread with a CancellationScope,
// and any code below it asks CurrentStopToken() without the token having to be threaded through
// every signature. A thread without a scope (the main thread listing a source, a helper thread
// of a backend) still sees the process-wide interrupt, so no request escapes a Ctrl-C.
#pragma once

#include <stop_token>

namespace datacube {

// The token installed on this thread, or else the process-wide interrupt token.
std::stop_token CurrentStopToken();

// Installs `token` for the lifetime of the scope (scopes nest).
class CancellationScope {
 public:
  explicit CancellationScope(std::stop_token token);
  ~CancellationScope();
  CancellationScope(const CancellationScope&) = delete;
  CancellationScope& operator=(const CancellationScope&) = delete;

 private:
  std::stop_token previous_;
};

// Stopped once the process was asked to stop (SIGINT/SIGTERM; see cli StopOnInterrupt).
std::stop_token ProcessInterruptToken();
// Requests the process-wide stop. Runs stop callbacks: call from a normal thread, never from a
// signal handler.
void RequestProcessInterrupt();

}  // namespace datacube
