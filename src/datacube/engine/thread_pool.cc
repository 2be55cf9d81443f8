#include "datacube/engine/thread_pool.h"

#include <algorithm>

#include "datacube/base/cancel.h"
#include "datacube/base/secret.h"

namespace datacube::engine {

ThreadPool::ThreadPool(size_t threads, std::stop_token stop) : stop_(std::move(stop)) {
  threads = std::max<size_t>(1, threads);
  workers_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::Submit(std::function<void()> task) {
  // The task belongs to the job that submits it: its secrets are redacted in what the task logs.
  if (auto redactor = CurrentRedactor()) {
    task = [redactor = std::move(redactor), inner = std::move(task)] {
      RedactionScope scope(redactor);
      inner();
    };
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void ThreadPool::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_cv_.wait(lock, [&] { return queue_.empty() && running_ == 0; });
}

void ThreadPool::WorkerLoop() {
  CancellationScope scope(stop_);
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return shutting_down_ || !queue_.empty(); });
    if (queue_.empty()) return;  // shutting down with nothing left
    auto task = std::move(queue_.front());
    queue_.pop_front();
    ++running_;
    lock.unlock();
    task();
    lock.lock();
    --running_;
    if (queue_.empty() && running_ == 0) idle_cv_.notify_all();
  }
}

size_t DefaultJobs() {
  size_t cores = std::max(1u, std::thread::hardware_concurrency());
  return std::clamp<size_t>(cores * 4, 4, 64);
}

}  // namespace datacube::engine
