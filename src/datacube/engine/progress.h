// Progress of a transfer: events from the engine, rendered as a live bar on a terminal or as
// JSON lines (--progress json, for scripts and logs), plus a snapshot for status writers
// (DataCube status.progress).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "datacube/base/status.h"

namespace datacube::engine {

enum class FileAction { kCopied, kSkipped, kDeleted, kFailed, kPlannedCopy, kPlannedDelete };
std::string_view FileActionName(FileAction action);

struct FileEvent {
  std::string path;  // relative path inside the transfer
  FileAction action = FileAction::kCopied;
  uint64_t size = 0;
  std::string sha256;
  std::string reason;  // why copied/skipped, or the error
};

struct ProgressSnapshot {
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;
  uint64_t files_done = 0;  // copied + skipped + failed
  uint64_t files_total = 0;
  uint64_t files_failed = 0;
  double bytes_per_second = 0;
  std::chrono::milliseconds elapsed{0};
};

// Receives engine events; called from many threads at once, so implementations are thread-safe.
class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  // Work discovered by the planner (may be called more than once; totals add up).
  virtual void OnPlanned(uint64_t files, uint64_t bytes) {}
  // Bytes moved, counted as they arrive from the source (a large part moves the count while it
  // streams).
  virtual void OnBytes(uint64_t n) {}
  // Bytes counted by OnBytes that must be moved again (a retried part or file).
  virtual void OnBytesRetracted(uint64_t n) {}
  virtual void OnFile(const FileEvent& event) {}
  virtual void OnRetry(const std::string& path, const Status& error, int attempt) {}
};

enum class ProgressMode { kAuto, kBar, kJson, kNone };

// Counts events and renders them: kBar redraws one line on stderr ~5 times a second; kJson writes
// one JSON object per line to stderr (a "progress" tick each second and a "file" event per file).
class ProgressReporter final : public ProgressSink {
 public:
  // kAuto picks kBar when stderr is a terminal and kJson otherwise.
  explicit ProgressReporter(ProgressMode mode);
  ~ProgressReporter() override;

  void OnPlanned(uint64_t files, uint64_t bytes) override;
  void OnBytes(uint64_t n) override;
  void OnBytesRetracted(uint64_t n) override;
  void OnFile(const FileEvent& event) override;
  void OnRetry(const std::string& path, const Status& error, int attempt) override;

  // Starts the render thread; Stop() draws the final state and joins it.
  void Start();
  void Stop();
  ProgressSnapshot Snapshot() const;
  ProgressMode mode() const { return mode_; }

 private:
  void RenderLoop();
  void DrawBar(bool final);
  void EmitJsonTick();

  ProgressMode mode_;
  std::chrono::steady_clock::time_point start_;
  std::atomic<uint64_t> bytes_done_{0};
  std::atomic<uint64_t> bytes_total_{0};
  std::atomic<uint64_t> files_done_{0};
  std::atomic<uint64_t> files_total_{0};
  std::atomic<uint64_t> files_failed_{0};
  std::atomic<bool> bar_visible_{false};

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
  // Rate over a sliding window, for the ETA: updated by the render thread only.
  uint64_t window_bytes_ = 0;
  std::chrono::steady_clock::time_point window_start_;
  double rate_ = 0;
};

}  // namespace datacube::engine
