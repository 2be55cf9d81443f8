#include "datacube/base/cancel.h"

#include <gtest/gtest.h>

#include <thread>

namespace datacube {
namespace {

TEST(CancelTest, ScopeTokenWinsAndUnscopedThreadsSeeTheProcessInterrupt) {
  std::stop_source mine;
  {
    CancellationScope scope(mine.get_token());
    mine.request_stop();
    EXPECT_TRUE(CurrentStopToken().stop_requested());
  }
  // Outside any scope (the main thread listing, a helper thread of a backend): the process
  // token, which a Ctrl-C stops.
  bool seen_before = true;
  bool seen_after = false;
  std::thread([&] { seen_before = CurrentStopToken().stop_requested(); }).join();
  EXPECT_FALSE(seen_before);
  EXPECT_TRUE(CurrentStopToken().stop_possible());
  RequestProcessInterrupt();
  std::thread([&] { seen_after = CurrentStopToken().stop_requested(); }).join();
  EXPECT_TRUE(seen_after);
  EXPECT_TRUE(ProcessInterruptToken().stop_requested());
}

}  // namespace
}  // namespace datacube
