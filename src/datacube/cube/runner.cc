#include "datacube/cube/runner.h"

#include <sys/stat.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "datacube/base/cancel.h"
#include "datacube/base/log.h"
#include "datacube/base/secret.h"
#include "datacube/base/units.h"
#include "datacube/cube/attempt.h"
#include "datacube/cube/status_board.h"
#include "datacube/cube/validate.h"
#include "datacube/retry/retry.h"
#include "datacube/transfer/registry.h"

namespace datacube::cube {
namespace {

constexpr std::string_view kInitialized = "Initialized";
constexpr std::string_view kComplete = "Complete";
constexpr std::string_view kFailed = "Failed";

std::string Now() { return FormatRfc3339(std::chrono::system_clock::now()); }

bool DirectoryExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Requests a stop of `source` when `limit` has passed, unless disarmed first.
class DeadlineWatchdog {
 public:
  DeadlineWatchdog(std::stop_source source, std::optional<std::chrono::seconds> limit)
      : source_(std::move(source)) {
    if (!limit) return;
    // Validation caps the limit far below where adding it to the clock could overflow; clamp
    // anyway, since an overflowed deadline is in the past and would stop every attempt at once.
    auto limit_ns = std::min<std::chrono::seconds>(*limit, std::chrono::hours(24 * 365 * 100));
    auto deadline = std::chrono::steady_clock::now() + limit_ns;
    thread_ = std::thread([this, deadline] {
      std::unique_lock<std::mutex> lock(mu_);
      if (!cv_.wait_until(lock, deadline, [this] { return disarmed_; })) {
        fired_ = true;
        source_.request_stop();
      }
    });
  }
  ~DeadlineWatchdog() { Disarm(); }

  void Disarm() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      disarmed_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  bool fired() const { return fired_; }

 private:
  std::stop_source source_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool disarmed_ = false;  // guarded by mu_
  std::atomic<bool> fired_{false};
  std::thread thread_;
};

struct AttemptOutcome {
  Status status;
  bool deadline_exceeded = false;
  bool interrupted = false;
  transfer::TransferReport report;
  std::optional<ResultStatus> result;
};

class Run {
 public:
  Run(const LoadResult& loaded, const RunOptions& options)
      : loaded_(loaded), options_(options), board_(InitialStatus(loaded), options.on_status) {}

  RunOutcome Execute() {
    board_.Update([](CubeStatus&) {});  // a watcher sees Pending before anything can fail
    if (!loaded_.ok()) return Fail(kReasonInvalidSpec, loaded_.status(), 2);
    const DataCube& cube = loaded_.cube;
    auto resolved = ResolveCube(cube, options_.sources);
    if (!resolved.ok()) {
      bool missing = resolved.status().code() == StatusCode::kNotFound;
      return Fail(missing ? kReasonSecretNotFound : kReasonInvalidSpec, resolved.status(),
                  missing || resolved.status().code() == StatusCode::kInvalidArgument ? 2 : 1);
    }
    Status values = CheckResolvedOptions(cube, *resolved);
    if (!values.ok()) return Fail(kReasonInvalidSpec, values, 2);
    auto transfer = PlanCubeTransfer(cube, *resolved, loaded_.extra_args, options_.plan);
    if (!transfer.ok()) return Fail(kReasonInvalidSpec, transfer.status(), 2);
    transfer_ = std::move(*transfer);
    service_ = *cube.service()->type;
    is_git_ = service_ == EndpointType::kGit;
    Status pvc = PreparePvc();
    if (!pvc.ok()) return Fail(ReasonFor(pvc), pvc, 1);
    if (options_.dry_run) return DryRun();

    board_.Update([&](CubeStatus& s) {
      s.phase = Phase::kRunning;
      std::string now = Now();
      s.SetCondition(kInitialized, true, kReasonInitialized, "The DataCube is initialized", now);
      s.SetCondition(kComplete, false, kReasonInitialized, "", now);
      s.SetCondition(kFailed, false, kReasonInitialized, "", now);
    });
    LogInfo("DataCube " + cube.metadata.name + ": " + transfer_.source.ToString() + " -> " +
            transfer_.sink.ToString());
    return Attempts();
  }

 private:
  static CubeStatus InitialStatus(const LoadResult& loaded) {
    CubeStatus s;
    s.name = loaded.cube.metadata.name.empty() ? loaded.cube.metadata.generate_name
                                               : loaded.cube.metadata.name;
    s.namespace_ = loaded.cube.metadata.namespace_;
    s.phase = Phase::kPending;
    s.start_time = Now();
    s.SetCondition(kInitialized, false, kReasonPending, "The DataCube is starting", s.start_time);
    return s;
  }

  // A sink PVC with a template is created when missing (locally: its directory; in a cluster
  // the controller creates the claim before the Job starts). Without a template, a missing
  // volume is an error now rather than a silently created directory.
  Status PreparePvc() {
    const std::string& dir = transfer_.pvc_volume_dir;
    if (DirectoryExists(dir)) return Status();
    const Endpoint* side = loaded_.cube.pvc_side();
    std::string name = side->pvc->name;
    if (!transfer_.create_pvc_if_missing) {
      return NotFoundError(
          "PVC \"" + name + "\" does not exist (no directory " + dir + ")" +
          (transfer_.pvc_is_sink ? "; add spec.sink.pvc.template to create it" : ""));
    }
    if (options_.dry_run) return Status();
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return ErrnoToStatus(ec.value(), "creating PVC directory " + dir);
    LogInfo("created PVC \"" + name + "\" from its template (directory " + dir + ")");
    return Status();
  }

  AttemptOutcome RunAttempt(const transfer::TransferOptions& base) {
    AttemptOutcome out;
    std::stop_source stop;
    std::stop_callback on_interrupt(options_.interrupt, [&stop] { stop.request_stop(); });
    std::optional<std::chrono::seconds> limit;
    if (auto d = loaded_.cube.executor.options.active_deadline_seconds) {
      limit = std::chrono::seconds(*d);
    }
    auto started = std::chrono::steady_clock::now();
    DeadlineWatchdog watchdog(stop, limit);
    // Listing and opening happen on this thread; the engine's workers get the token themselves.
    CancellationScope scope(stop.get_token());
    // git reports no byte progress while it runs: no bar and no ticker for it.
    transfer::ProgressReporter progress(options_.progress_mode);
    if (!is_git_) progress.Start();
    {
      std::optional<ProgressTicker> ticker;
      if (!is_git_) ticker.emplace(board_, progress, options_.status_interval);
      AttemptResult moved =
          RunTransferAttempt(transfer_, service_, base, is_git_ ? nullptr : &progress,
                             options_.open, stop.get_token());
      out.status = moved.status;
      out.report = std::move(moved.report);
      out.result = std::move(moved.result);
      if (is_git_ && out.status.ok()) LogInfo(moved.message);
    }
    if (!is_git_) progress.Stop();
    if (is_git_ && out.result) {
      // The finished tree is the progress.
      const ResultStatus& r = *out.result;
      board_.Update([&](CubeStatus& s) {
        s.progress = ProgressStatus{r.bytes, r.bytes, r.files, r.files, 0};
      });
    }
    watchdog.Disarm();
    if (out.status.ok() && stop.stop_requested() && !out.result && !base.dry_run) {
      out.status = CancelledError("transfer cancelled");
    }
    if (!out.status.ok() && watchdog.fired()) {
      out.deadline_exceeded = true;
      double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      char took[32];
      std::snprintf(took, sizeof took, "%.1f", secs);
      out.status = DeadlineExceededError("the attempt exceeded activeDeadlineSeconds (" +
                                         std::to_string(limit->count()) +
                                         "s) and was stopped after " + took + "s");
    } else if (!out.status.ok() && options_.interrupt.stop_requested()) {
      out.interrupted = true;
      out.status = CancelledError("interrupted; run the cube again to resume");
    }
    return out;
  }

  static bool Retriable(const AttemptOutcome& a) {
    if (a.interrupted) return false;
    // Bad input stays bad however often it is tried.
    return a.status.code() != StatusCode::kInvalidArgument;
  }

  RunOutcome Attempts() {
    const int limit = loaded_.cube.executor.options.backoff_limit;
    std::chrono::milliseconds backoff = options_.attempt_backoff;
    AttemptOutcome last;
    for (int attempt = 1;; ++attempt) {
      board_.Update([&](CubeStatus& s) { s.attempts = attempt; });
      LogInfo("attempt " + std::to_string(attempt) + " of " + std::to_string(limit + 1));
      last = RunAttempt(transfer_.options);
      if (last.status.ok()) return Succeed(last);
      std::string_view reason =
          last.deadline_exceeded ? kReasonDeadlineExceeded : ReasonFor(last.status);
      LogWarn("attempt " + std::to_string(attempt) + " failed (" + std::string(reason) +
              "): " + std::string(last.status.message()));
      if (!Retriable(last) || attempt > limit) {
        RunOutcome out;
        if (limit > 0 && attempt > limit) {
          out = Fail(kReasonBackoffLimitExceeded,
                     Status(last.status.code(),
                            std::to_string(attempt) + " attempts failed (backoffLimit " +
                                std::to_string(limit) + "); last: " + std::string(reason) + ": " +
                                std::string(last.status.message())),
                     1);
        } else {
          // An attempt refused as invalid input (an option the backend could not use) is a spec
          // error like any other: exit 2, as validation would have.
          out = Fail(reason, last.status, reason == kReasonInvalidSpec ? 2 : 1);
        }
        out.report = std::move(last.report);
        return out;
      }
      board_.Update([&](CubeStatus& s) {
        s.SetCondition(kFailed, false, kReasonRetrying,
                       "attempt " + std::to_string(attempt) + " failed (" + std::string(reason) +
                           "): " + std::string(last.status.message()) + "; retrying in " +
                           FormatDuration(backoff),
                       Now());
      });
      if (!SleepFor(backoff, options_.interrupt)) {
        return Fail(kReasonInterrupted, CancelledError("interrupted while waiting to retry"), 1);
      }
      backoff = std::min(backoff * 2, options_.max_attempt_backoff);
    }
  }

  RunOutcome DryRun() {
    if (is_git_) {
      // git decides what to fetch or push itself; say what would run and touch nothing.
      LogInfo("dry run: would " +
              std::string(transfer_.pvc_is_sink ? "clone or update " + transfer_.source.ToString() +
                                                      " below " + transfer_.sink.ToString()
                                                : "push " + transfer_.source.ToString() + " to " +
                                                      transfer_.sink.ToString()));
      RunOutcome out;
      out.status = board_.Snapshot();
      return out;
    }
    transfer::TransferOptions o = transfer_.options;
    o.dry_run = true;
    // The sink PVC path may not exist yet; plan against an empty directory instead of creating
    // it, so that a dry run changes nothing.
    std::string empty_dir;
    if (transfer_.pvc_is_sink) {
      auto local = transfer::PvcLocalPath(transfer_.sink, transfer_.config);
      if (local.ok() && !DirectoryExists(*local)) {
        char tmpl[] = "/tmp/datacube-dry-run-XXXXXX";
        if (::mkdtemp(tmpl) != nullptr) {
          empty_dir = tmpl;
          transfer_.sink = Location{};
          transfer_.sink.path = empty_dir;
        }
      }
    }
    AttemptOutcome a = RunAttempt(o);
    if (!empty_dir.empty()) ::rmdir(empty_dir.c_str());
    RunOutcome out;
    out.status = board_.Snapshot();
    out.error = a.status;
    out.exit_code = a.status.ok() ? 0 : (a.status.code() == StatusCode::kInvalidArgument ? 2 : 1);
    out.report = std::move(a.report);
    return out;
  }

  RunOutcome Succeed(AttemptOutcome& a) {
    if (!is_git_) LogInfo(a.report.Summary());
    board_.Update([&](CubeStatus& s) {
      std::string now = Now();
      s.phase = Phase::kSucceeded;
      s.SetCondition(kComplete, true, kReasonCompleted, "The DataCube is complete", now);
      s.SetCondition(kFailed, false, kReasonCompleted, "", now);
      s.completion_time = now;
      s.result = a.result;
    });
    RunOutcome out;
    out.status = board_.Snapshot();
    out.report = std::move(a.report);
    return out;
  }

  RunOutcome Fail(std::string_view reason, const Status& error, int exit_code) {
    std::string message = Redact(error.message());
    board_.Update([&](CubeStatus& s) {
      std::string now = Now();
      s.phase = Phase::kFailed;
      if (const Condition* init = s.FindCondition(kInitialized); init && !init->status) {
        s.SetCondition(kInitialized, false, reason, "The DataCube did not start", now);
      }
      s.SetCondition(kComplete, false, reason, "", now);
      s.SetCondition(kFailed, true, reason, message, now);
      s.completion_time = now;
    });
    RunOutcome out;
    out.status = board_.Snapshot();
    out.error = error;
    out.exit_code = exit_code;
    return out;
  }

  const LoadResult& loaded_;
  const RunOptions& options_;
  StatusBoard board_;
  CubeTransfer transfer_;
  EndpointType service_ = EndpointType::kS3;
  bool is_git_ = false;
};

}  // namespace

RunOutcome RunCube(const LoadResult& loaded, const RunOptions& options) {
  Run run(loaded, options);
  return run.Execute();
}

}  // namespace datacube::cube
