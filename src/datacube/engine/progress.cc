#include "datacube/engine/progress.h"

#include <unistd.h>

#include <cstdio>

#include "datacube/base/cancel.h"
#include "datacube/base/log.h"
#include "datacube/base/secret.h"
#include "datacube/base/units.h"

namespace datacube::engine {

std::string_view FileActionName(FileAction action) {
  switch (action) {
    case FileAction::kCopied:
      return "copied";
    case FileAction::kSkipped:
      return "skipped";
    case FileAction::kDeleted:
      return "deleted";
    case FileAction::kFailed:
      return "failed";
    case FileAction::kPlannedCopy:
      return "would-copy";
    case FileAction::kPlannedDelete:
      return "would-delete";
  }
  return "?";
}

ProgressReporter::ProgressReporter(ProgressMode mode) : mode_(mode) {
  if (mode_ == ProgressMode::kAuto) {
    mode_ = ::isatty(STDERR_FILENO) ? ProgressMode::kBar : ProgressMode::kJson;
  }
  start_ = std::chrono::steady_clock::now();
  window_start_ = start_;
}

ProgressReporter::~ProgressReporter() { Stop(); }

void ProgressReporter::OnPlanned(uint64_t files, uint64_t bytes) {
  files_total_ += files;
  bytes_total_ += bytes;
}

void ProgressReporter::OnBytes(uint64_t n) { bytes_done_ += n; }

void ProgressReporter::OnBytesRetracted(uint64_t n) {
  bytes_done_ -= std::min<uint64_t>(n, bytes_done_);
}

void ProgressReporter::OnFile(const FileEvent& e) {
  if (e.action == FileAction::kCopied || e.action == FileAction::kSkipped ||
      e.action == FileAction::kFailed) {
    ++files_done_;
  }
  if (e.action == FileAction::kFailed) ++files_failed_;
  if (mode_ == ProgressMode::kJson) {
    std::string line = "{\"event\":\"file\",\"path\":\"" + JsonEscape(e.path) + "\",\"action\":\"" +
                       std::string(FileActionName(e.action)) +
                       "\",\"size\":" + std::to_string(e.size);
    if (!e.sha256.empty()) line += ",\"sha256\":\"" + e.sha256 + "\"";
    if (!e.reason.empty()) line += ",\"reason\":\"" + JsonEscape(Redact(e.reason)) + "\"";
    line += "}\n";
    std::lock_guard<std::mutex> lock(mu_);
    std::fwrite(line.data(), 1, line.size(), stderr);
  } else if (e.action == FileAction::kFailed && mode_ != ProgressMode::kNone &&
             !ProcessInterruptToken().stop_requested()) {
    // (After Ctrl-C every unfinished file "fails" as cancelled; the command says so once.)
    LogError("failed: " + e.path + ": " + e.reason);
  }
}

void ProgressReporter::OnRetry(const std::string& path, const Status& error, int attempt) {
  LogWarn("retrying " + path + " (attempt " + std::to_string(attempt + 1) +
          "): " + error.ToString());
}

void ProgressReporter::Start() {
  if (mode_ == ProgressMode::kNone || thread_.joinable()) return;
  if (mode_ == ProgressMode::kBar) {
    SetLogLineHooks(
        [this] {
          if (bar_visible_.exchange(false)) std::fputs("\r\033[K", stderr);
        },
        nullptr);
  }
  thread_ = std::thread([this] { RenderLoop(); });
}

void ProgressReporter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (mode_ == ProgressMode::kBar) {
    DrawBar(true);
    SetLogLineHooks(nullptr, nullptr);
  } else if (mode_ == ProgressMode::kJson) {
    EmitJsonTick();
  }
}

ProgressSnapshot ProgressReporter::Snapshot() const {
  ProgressSnapshot s;
  s.bytes_done = bytes_done_;
  s.bytes_total = bytes_total_;
  s.files_done = files_done_;
  s.files_total = files_total_;
  s.files_failed = files_failed_;
  s.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start_);
  double secs = static_cast<double>(s.elapsed.count()) / 1000.0;
  s.bytes_per_second = secs > 0 ? static_cast<double>(s.bytes_done) / secs : 0;
  return s;
}

void ProgressReporter::RenderLoop() {
  auto interval = mode_ == ProgressMode::kBar ? std::chrono::milliseconds(200)
                                              : std::chrono::milliseconds(1000);
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, interval, [&] { return stopping_; })) {
    lock.unlock();
    // Rate over the last few seconds, smoothed, so the ETA does not jump around.
    auto now = std::chrono::steady_clock::now();
    double window = std::chrono::duration<double>(now - window_start_).count();
    if (window >= 2.0) {
      uint64_t done = bytes_done_;
      double inst = static_cast<double>(done - std::min(done, window_bytes_)) / window;
      rate_ = rate_ == 0 ? inst : 0.5 * rate_ + 0.5 * inst;
      window_bytes_ = done;
      window_start_ = now;
    }
    if (mode_ == ProgressMode::kBar) {
      DrawBar(false);
    } else {
      EmitJsonTick();
    }
    lock.lock();
  }
}

void ProgressReporter::DrawBar(bool final) {
  ProgressSnapshot s = Snapshot();
  double rate = rate_ > 0 ? rate_ : s.bytes_per_second;
  double frac = s.bytes_total ? static_cast<double>(s.bytes_done) / s.bytes_total : (final ? 1 : 0);
  if (frac > 1) frac = 1;
  constexpr int kWidth = 28;
  int filled = static_cast<int>(frac * kWidth);
  std::string bar(static_cast<size_t>(filled), '=');
  if (filled < kWidth) bar += '>';
  bar.resize(kWidth, ' ');
  std::string eta = "--";
  if (rate > 0 && s.bytes_total > s.bytes_done) {
    eta = FormatDuration(std::chrono::milliseconds(
        static_cast<long long>(1000.0 * static_cast<double>(s.bytes_total - s.bytes_done) / rate)));
  } else if (s.bytes_total <= s.bytes_done) {
    eta = "0s";
  }
  char line[256];
  std::snprintf(line, sizeof line, "\r\033[K[%s] %3d%% %s / %s  %s/s  ETA %s  %llu/%llu files",
                bar.c_str(), static_cast<int>(frac * 100), FormatBytes(s.bytes_done).c_str(),
                FormatBytes(s.bytes_total).c_str(),
                FormatBytes(static_cast<uint64_t>(rate)).c_str(), eta.c_str(),
                static_cast<unsigned long long>(s.files_done),
                static_cast<unsigned long long>(s.files_total));
  std::lock_guard<std::mutex> lock(mu_);
  std::fputs(line, stderr);
  if (final) std::fputs("\n", stderr);
  std::fflush(stderr);
  bar_visible_ = !final;
}

void ProgressReporter::EmitJsonTick() {
  ProgressSnapshot s = Snapshot();
  char line[320];
  std::snprintf(
      line, sizeof line,
      "{\"event\":\"progress\",\"bytesDone\":%llu,\"bytesTotal\":%llu,\"filesDone\":%llu,"
      "\"filesTotal\":%llu,\"filesFailed\":%llu,\"bytesPerSecond\":%.0f,"
      "\"elapsedSeconds\":%.1f}\n",
      static_cast<unsigned long long>(s.bytes_done), static_cast<unsigned long long>(s.bytes_total),
      static_cast<unsigned long long>(s.files_done), static_cast<unsigned long long>(s.files_total),
      static_cast<unsigned long long>(s.files_failed), s.bytes_per_second,
      static_cast<double>(s.elapsed.count()) / 1000.0);
  std::lock_guard<std::mutex> lock(mu_);
  std::fputs(line, stderr);
  std::fflush(stderr);
}

}  // namespace datacube::engine
