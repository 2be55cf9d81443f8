// StatusBoard: the one CubeStatus of a run, changed from several threads (the runner, the
// progress ticker) and published to a sink (the status file) after every change.
//
// Publishing happens under the board's lock, so the sink sees updates one at a time and in
// order; a slow sink (a status file on a network volume) delays the ticker, never the transfer.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "datacube/cube/status.h"
#include "datacube/transfer/job.h"

namespace datacube::cube {

class StatusBoard {
 public:
  using Sink = std::function<void(const CubeStatus&)>;
  // `sink` may be empty (nothing is published).
  StatusBoard(CubeStatus initial, Sink sink);

  // Applies `change` and publishes the result. Thread-safe.
  void Update(const std::function<void(CubeStatus&)>& change);
  CubeStatus Snapshot() const;

 private:
  mutable std::mutex mu_;
  CubeStatus status_;  // guarded by mu_
  Sink sink_;
};

// Copies a progress reporter's counters into the board every `interval` while alive, with the
// rate measured over the last interval, so a watcher of the status file sees the run move.
class ProgressTicker {
 public:
  ProgressTicker(StatusBoard& board, const transfer::ProgressReporter& progress,
                 std::chrono::milliseconds interval);
  // Stops the thread after one final update.
  ~ProgressTicker();
  ProgressTicker(const ProgressTicker&) = delete;
  ProgressTicker& operator=(const ProgressTicker&) = delete;

 private:
  void Tick();

  StatusBoard& board_;
  const transfer::ProgressReporter& progress_;
  const std::chrono::milliseconds interval_;
  uint64_t last_bytes_ = 0;
  std::chrono::steady_clock::time_point last_time_;
  double rate_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;     // last: started after everything it reads is set up
};

}  // namespace datacube::cube
