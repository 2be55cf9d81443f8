#include "datacube/cube/status_board.h"

namespace datacube::cube {

StatusBoard::StatusBoard(CubeStatus initial, Sink sink)
    : status_(std::move(initial)), sink_(std::move(sink)) {}

void StatusBoard::Update(const std::function<void(CubeStatus&)>& change) {
  std::lock_guard<std::mutex> lock(mu_);
  change(status_);
  if (sink_) sink_(status_);
}

CubeStatus StatusBoard::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

ProgressTicker::ProgressTicker(StatusBoard& board, const transfer::ProgressReporter& progress,
                               std::chrono::milliseconds interval)
    : board_(board),
      progress_(progress),
      interval_(interval),
      last_time_(std::chrono::steady_clock::now()) {
  Tick();
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, interval_, [this] { return stopping_; })) {
      lock.unlock();
      Tick();
      lock.lock();
    }
  });
}

ProgressTicker::~ProgressTicker() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
  Tick();
}

void ProgressTicker::Tick() {
  transfer::ProgressSnapshot snap = progress_.Snapshot();
  auto now = std::chrono::steady_clock::now();
  double secs = std::chrono::duration<double>(now - last_time_).count();
  if (secs >= 0.2) {
    // Bytes may be retracted when a part is retried; never report a negative rate.
    uint64_t delta = snap.bytes_done > last_bytes_ ? snap.bytes_done - last_bytes_ : 0;
    double inst = static_cast<double>(delta) / secs;
    rate_ = rate_ == 0 ? inst : 0.5 * rate_ + 0.5 * inst;
    last_bytes_ = snap.bytes_done;
    last_time_ = now;
  }
  ProgressStatus p;
  p.bytes_done = snap.bytes_done;
  p.bytes_total = snap.bytes_total;
  p.files_done = snap.files_done;
  p.files_total = snap.files_total;
  p.bytes_per_second = static_cast<uint64_t>(rate_);
  board_.Update([&](CubeStatus& s) { s.progress = p; });
}

}  // namespace datacube::cube
