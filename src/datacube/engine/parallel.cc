#include "datacube/engine/parallel.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>

namespace datacube::engine {

Status RunAll(ThreadPool& pool, size_t n, const std::function<Status(size_t)>& fn) {
  std::mutex mu;
  std::condition_variable done;
  Status first;     // guarded by mu
  size_t left = n;  // guarded by mu
  for (size_t i = 0; i < n; ++i) {
    pool.Submit([&, i] {
      Status s = fn(i);
      std::lock_guard<std::mutex> lock(mu);
      if (!s.ok() && first.ok()) first = std::move(s);
      // Notify under the lock: the waiter's stack frame (mu, done) ends once it sees zero.
      if (--left == 0) done.notify_all();
    });
  }
  std::unique_lock<std::mutex> lock(mu);
  done.wait(lock, [&] { return left == 0; });
  return first;
}

Status ParallelFor(size_t n, size_t jobs, std::stop_token stop,
                   const std::function<Status(size_t)>& fn) {
  if (n == 0) return Status();
  ThreadPool pool(std::max<size_t>(1, std::min(jobs, n)), std::move(stop));
  return RunAll(pool, n, fn);
}

}  // namespace datacube::engine
