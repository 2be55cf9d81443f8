#include "datacube/cli/common.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>

#include "datacube/base/cancel.h"
#include "datacube/base/log.h"
#include "datacube/base/secret.h"
#include "datacube/base/units.h"
#include "datacube/cli/git_copy.h"
#include "datacube/io/small_file.h"

namespace datacube::cli {

GlobalFlags& Globals() {
  static GlobalFlags flags;
  return flags;
}

void AddGlobalFlags(CLI::App& app) {
  auto& g = Globals();
  app.add_option("--log-format", g.log_format, "Log format: text or json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_flag("-v,--verbose", g.verbose, "More logging (repeat for more)");
  app.add_flag("-q,--quiet", g.quiet, "Only errors; no progress");
  app.add_option("--progress", g.progress, "Progress display: auto, bar, json or none")
      ->check(CLI::IsMember({"auto", "bar", "json", "none"}));
  app.add_option("--pvc-root", g.pvc_root,
                 "Directory where PVCs are mounted, for pvc://NAME (env DATACUBE_PVC_ROOT)");
}

Status ApplyLogging() {
  auto& g = Globals();
  LogConfig cfg;
  cfg.format = g.log_format == "json" ? LogFormat::kJson : LogFormat::kText;
  cfg.level = g.quiet ? LogLevel::kError : (g.verbose > 0 ? LogLevel::kDebug : LogLevel::kInfo);
  SetLogConfig(cfg);
  return Status();
}

transfer::StoreConfig MakeStoreConfig() {
  transfer::StoreConfig cfg;
  cfg.pvc_root = Globals().pvc_root;
  cfg.options = Globals().backend_options;
  return cfg;
}

Result<transfer::ProgressMode> ParseProgressMode(const std::string& text) {
  if (Globals().quiet) return transfer::ProgressMode::kNone;
  if (text == "auto") return transfer::ProgressMode::kAuto;
  if (text == "bar") return transfer::ProgressMode::kBar;
  if (text == "json") return transfer::ProgressMode::kJson;
  if (text == "none") return transfer::ProgressMode::kNone;
  return InvalidArgumentError("--progress: \"" + text + "\" is not one of auto, bar, json, none");
}

int ExitCodeFor(const Status& status) {
  if (status.ok()) return kExitOk;
  return status.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
}

int ReportError(const Status& status) {
  if (status.ok()) return kExitOk;
  // After Ctrl-C the cancelled operations are not errors to list; main() says why it stopped.
  if (status.code() == StatusCode::kCancelled && Interrupted()) return ExitCodeFor(status);
  LogError(std::string(status.message()), {{"code", std::string(StatusCodeName(status.code()))}});
  return ExitCodeFor(status);
}

void AddTransferFlags(CLI::App& cmd, TransferFlags& f) {
  cmd.add_option("--jobs,-j", f.jobs,
                 "Parallel workers (default: 4 per CPU core; files up to 1 MiB to or from S3 run "
                 "twice as many)");
  cmd.add_option("--part-size", f.part_size,
                 "Part size for large files and buffer size, e.g. 8M, 64Mi (default 8M)");
  cmd.add_flag("--checksum,-c", f.checksum,
               "Skip files only when size and SHA-256 match (hashes files as needed)");
  cmd.add_flag("--size-only", f.size_only, "Skip files whose size matches");
  cmd.add_flag("--dry-run,-n", f.dry_run, "Show what would be copied or deleted; change nothing");
  cmd.add_option("--include", f.include, "Copy only paths matching this glob (repeatable)");
  cmd.add_option("--exclude", f.exclude, "Do not copy paths matching this glob (repeatable)");
  cmd.add_option("--manifest-out", f.manifest_out,
                 "Write a manifest (JSON lines: path, size, sha256) of the destination files");
  cmd.add_option("--bwlimit", f.bwlimit, "Limit the aggregate rate, e.g. 100M (bytes per second)");
  cmd.add_option("--retries", f.retries, "Attempts per operation for transient failures")
      ->check(CLI::Range(1, 100));
  cmd.add_flag("--strict", f.strict, "Fail the run on unsafe object keys instead of skipping them");
  cmd.add_flag("--no-resume", f.no_resume, "Start interrupted large files over");
}

Result<uint64_t> ParseCountFlag(std::string_view flag, std::string_view text, uint64_t min,
                                uint64_t max) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  bool digits_only = !text.empty() && std::all_of(text.begin(), text.end(),
                                                  [](char c) { return c >= '0' && c <= '9'; });
  if (!digits_only || ec != std::errc() || ptr != end || value < min || value > max) {
    return InvalidArgumentError(std::string(flag) + ": \"" + EscapeForDisplay(text) +
                                "\" must be a whole number from " + std::to_string(min) + " to " +
                                std::to_string(max));
  }
  return value;
}

Result<transfer::TransferOptions> MakeTransferOptions(const TransferFlags& f) {
  if (!f.manifest_out.empty()) {  // refused before anything moves, not after
    DC_RETURN_IF_ERROR(io::CheckReplaceableFile(f.manifest_out, "--manifest-out"));
  }
  transfer::TransferOptions o;
  if (!f.jobs.empty()) {
    DC_ASSIGN_OR_RETURN(uint64_t jobs, ParseCountFlag("--jobs", f.jobs, 1, 1024));
    o.jobs = static_cast<size_t>(jobs);
  }
  if (!f.part_size.empty()) {
    auto size = ParseSize(f.part_size);
    if (!size.ok()) return size.status().WithContext("--part-size");
    if (*size < (64 << 10) || *size > (5ull << 30)) {
      return InvalidArgumentError("--part-size: must be between 64K and 5G");
    }
    o.part_size = *size;
  }
  if (!f.bwlimit.empty()) {
    auto rate = ParseSize(f.bwlimit);
    if (!rate.ok()) return rate.status().WithContext("--bwlimit");
    o.bwlimit = *rate;
  }
  if (f.checksum && f.size_only) {
    return InvalidArgumentError("--checksum and --size-only cannot be combined");
  }
  o.compare = f.checksum    ? transfer::CompareMode::kChecksum
              : f.size_only ? transfer::CompareMode::kSizeOnly
                            : transfer::CompareMode::kSizeAndTime;
  o.dry_run = f.dry_run;
  o.strict_keys = f.strict;
  o.resume = !f.no_resume;
  o.require_checksum = f.require_checksum;
  o.retry.max_attempts = f.retries;
  for (const auto& p : f.include)
    DC_RETURN_IF_ERROR(o.filter.AddInclude(p).WithContext("--include"));
  for (const auto& p : f.exclude)
    DC_RETURN_IF_ERROR(o.filter.AddExclude(p).WithContext("--exclude"));
  return o;
}

namespace {

// The first signal's number (0 = none yet), and how many arrived.
std::atomic<int> first_signal{0};
std::atomic<int> signal_count{0};
std::atomic<bool> interrupt_reported{false};

const char* SignalName(int signo) { return signo == SIGINT ? "SIGINT" : "SIGTERM"; }

// Async-signal-safe: atomics, write(2) and _Exit only.
void OnInterrupt(int signo) {
  int expected = 0;
  first_signal.compare_exchange_strong(expected, signo);
  if (signal_count.fetch_add(1) > 0) {
    static constexpr char kMessage[] = "error: interrupted again; exiting now\n";
    ssize_t ignored = ::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
    (void)ignored;
    std::_Exit(128 + first_signal.load());
  }
}

}  // namespace

bool Interrupted() { return first_signal.load() != 0; }

int InterruptExitCode() {
  const int signo = first_signal.load();
  if (signo == 0) return 0;
  if (!interrupt_reported.exchange(true)) {
    LogError(std::string("interrupted by ") + SignalName(signo) + "; rerun to resume");
  }
  return 128 + signo;
}

std::jthread StopOnInterrupt(std::stop_source source) {
  struct sigaction action {};
  action.sa_handler = OnInterrupt;
  sigemptyset(&action.sa_mask);
  // SA_RESTART: a signal must not turn a blocking read of a local file into an EINTR error.
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
  return std::jthread([source](std::stop_token done) mutable {
    while (!done.stop_requested() && first_signal.load() == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (done.stop_requested()) return;
    source.request_stop();
    RequestProcessInterrupt();
    // The command unwinds now; if it has not returned within the grace period (a local read
    // that does not look at the token, a child process slow to die), exit anyway.
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, done, kInterruptGrace, [] { return false; });
    if (done.stop_requested()) return;
    std::_Exit(InterruptExitCode());
  });
}

namespace {

// Prints what a finished copy did and returns the exit code.
int ReportCopy(const transfer::JobReport& report, bool dry_run) {
  const bool git =
      report.route == transfer::Route::kGitClone || report.route == transfer::Route::kGitPush;
  if (git) {
    if (dry_run) {
      std::printf("%s\n", report.message.c_str());
    } else if (!Globals().quiet) {
      LogInfo(report.message);
    }
    return kExitOk;
  }
  const transfer::TransferReport& t = report.transfer;
  if (dry_run) {
    for (const auto& f : t.files) {
      if (f.action == transfer::FileAction::kPlannedCopy ||
          f.action == transfer::FileAction::kPlannedDelete) {
        std::printf("%s %s\n", std::string(transfer::FileActionName(f.action)).c_str(),
                    EscapeForDisplay(f.path).c_str());
      }
    }
  }
  if (!Globals().quiet) LogInfo((dry_run ? "dry run: " : "") + t.Summary());
  if (Interrupted()) return InterruptExitCode();
  if (!t.status.ok()) return ReportError(t.status);
  return kExitOk;
}

}  // namespace

int RunCopyCommand(const std::string& src_text, const std::string& dst_text,
                   const TransferFlags& flags, bool delete_extra) {
  auto src = ParseLocation(src_text);
  if (!src.ok()) return ReportError(src.status().WithContext("source"));
  auto dst = ParseLocation(dst_text);
  if (!dst.ok()) return ReportError(dst.status().WithContext("destination"));
  auto options = MakeTransferOptions(flags);
  if (!options.ok()) return ReportError(options.status());
  options->delete_extra = delete_extra;
  auto mode = ParseProgressMode(Globals().progress);
  if (!mode.ok()) return ReportError(mode.status());

  transfer::JobOptions job;
  job.transfer = std::move(*options);
  job.config = MakeStoreConfig();
  job.manifest_out = flags.manifest_out;
  auto governance = ApplyGovernance(flags.governance, job);
  if (!governance.ok()) return ReportError(governance.status());
  const transfer::Route route = transfer::RouteFor(*src, *dst, job);
  const bool git = route == transfer::Route::kGitClone || route == transfer::Route::kGitPush;
  if (git) {
    Status s = FillGitOptions(flags, &job.git);
    if (!s.ok()) return ReportError(s);
  }

  std::stop_source interrupt;
  std::jthread watcher = StopOnInterrupt(interrupt);
  // git reports its own progress (none here); every other route shows the bar or JSON lines.
  transfer::ProgressReporter progress(git ? transfer::ProgressMode::kNone : *mode);
  progress.Start();
  auto report = transfer::RunJob(*src, *dst, job, &progress, interrupt.get_token());
  progress.Stop();
  if (!report.ok()) return ReportError(report.status());
  return ReportCopy(*report, job.transfer.dry_run);
}

}  // namespace datacube::cli
