#include "datacube/base/cancel.h"

namespace datacube {
namespace {
thread_local std::stop_token current_token;

// Never reassigned, so threads may read it concurrently.
std::stop_source& InterruptSource() {
  static std::stop_source source;
  return source;
}
}  // namespace

std::stop_token CurrentStopToken() {
  return current_token.stop_possible() ? current_token : InterruptSource().get_token();
}

CancellationScope::CancellationScope(std::stop_token token) : previous_(current_token) {
  current_token = std::move(token);
}

CancellationScope::~CancellationScope() { current_token = std::move(previous_); }

std::stop_token ProcessInterruptToken() { return InterruptSource().get_token(); }

void RequestProcessInterrupt() { InterruptSource().request_stop(); }

}  // namespace datacube
