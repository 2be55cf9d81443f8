#include "datacube/base/cancel.h"

namespace datacube {
namespace {
thread_local std::stop_token current_token;
}  // namespace

std::stop_token CurrentStopToken() { return current_token; }

CancellationScope::CancellationScope(std::stop_token token) : previous_(current_token) {
  current_token = std::move(token);
}

CancellationScope::~CancellationScope() { current_token = std::move(previous_); }

}  // namespace datacube
