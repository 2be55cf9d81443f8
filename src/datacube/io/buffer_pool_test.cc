#include "datacube/io/buffer_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace datacube::io {
namespace {

TEST(BufferPoolTest, NeverAllocatesMoreThanCount) {
  BufferPool pool(1024, 3);
  std::atomic<int> in_use{0}, peak{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto b = pool.Acquire();
        ASSERT_TRUE(b.ok());
        int now = ++in_use;
        int p = peak.load();
        while (now > p && !peak.compare_exchange_weak(p, now)) {
        }
        b->data()[0] = 1;
        --in_use;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(peak.load(), 3);
  EXPECT_LE(pool.allocated(), 3u);
}

TEST(BufferPoolTest, AcquireIsCancellable) {
  BufferPool pool(16, 1);
  auto held = pool.Acquire();
  ASSERT_TRUE(held.ok());
  std::stop_source stop;
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    stop.request_stop();
  });
  auto waiting = pool.Acquire(stop.get_token());
  t.join();
  EXPECT_EQ(waiting.status().code(), StatusCode::kCancelled);
}

TEST(BufferPoolTest, ReleasedBufferIsReused) {
  BufferPool pool(16, 1);
  uint8_t* first;
  {
    auto b = pool.Acquire();
    first = b->data();
  }
  auto again = pool.Acquire();
  EXPECT_EQ(again->data(), first);
}

}  // namespace
}  // namespace datacube::io
