// ThreadPool: a fixed set of worker threads draining one FIFO queue.
//
// The queue itself is unbounded; callers bound the work in flight by acquiring a BufferPool buffer
// *before* submitting (see transfer.cc), so memory stays fixed. Each worker runs its tasks under
// the pool's stop token (CancellationScope) and the redactor of the job that submitted it
// (RedactionScope). Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

namespace datacube::engine {

class ThreadPool {
 public:
  ThreadPool(size_t threads, std::stop_token stop);
  // Finishes queued tasks, then joins the workers.
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void Submit(std::function<void()> task);
  // Blocks until the queue is empty and no task is running.
  void Wait();
  size_t size() const { return workers_.size(); }

 private:
  void WorkerLoop();

  std::stop_token stop_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  size_t running_ = 0;                       // guarded by mu_
  bool shutting_down_ = false;               // guarded by mu_
  std::vector<std::thread> workers_;         // constant after construction
};

// Default worker count: four per core (transfers wait on I/O far more than they compute), at
// least 4 and at most 64.
size_t DefaultJobs();

}  // namespace datacube::engine
