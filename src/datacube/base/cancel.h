// The cancellation token of the work running on this thread.
//
// Backends are synchronous; a long HTTP body or a retry backoff must still stop promptly when a
// transfer is cancelled (Ctrl-C, activeDeadlineSeconds). The engine installs the transfer's
// std::stop_token on each worker thread with a CancellationScope, and any code below it asks
// CurrentStopToken() without the token having to be threaded through every signature.
#pragma once

#include <stop_token>

namespace datacube {

// The token installed on this thread, or a token that is never stopped.
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

}  // namespace datacube
