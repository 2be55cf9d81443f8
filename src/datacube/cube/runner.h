// Running a DataCube: resolve options, prepare the PVC, run the transfer in attempts under the
// executor options, and keep the status current (docs/datacube-spec.md).
//
// Attempts. The first attempt runs at once; a failed attempt is retried up to backoffLimit
// times, waiting attempt_backoff, doubled after each failure, capped at max_attempt_backoff
// (Kubernetes Jobs wait 10 s, 20 s, 40 s, ... up to 6 min; the defaults match). Spec errors,
// missing secrets and interruptions are not retried: another attempt cannot fix them.
//
// Deadline. Each attempt gets its own std::stop_source. A watchdog requests a stop when
// activeDeadlineSeconds have passed; the engine and every backend below it honour the token
// (base/cancel.h), so the attempt ends promptly, counts as failed with reason DeadlineExceeded,
// and leaves no torn file: destination writes are atomic, and partial large files stay as hidden
// resumable temporaries that the next attempt continues.
//
// Status. Pending -> Running -> Succeeded | Failed, with Initialized / Complete / Failed
// conditions (status.h), progress every status_interval, attempts, and on success a result with
// the manifest digest of what is now at the sink.
#pragma once

#include <chrono>
#include <functional>
#include <stop_token>

#include "datacube/cube/attempt.h"
#include "datacube/cube/cube_transfer.h"
#include "datacube/cube/loader.h"
#include "datacube/cube/resolve.h"
#include "datacube/cube/status.h"
#include "datacube/transfer/job.h"

namespace datacube::cube {

struct RunOptions {
  ValueSources sources;
  PlanContext plan;
  // Plan and report what would be copied or deleted; create, copy and delete nothing.
  bool dry_run = false;
  std::chrono::milliseconds attempt_backoff{10'000};
  std::chrono::milliseconds max_attempt_backoff{360'000};
  std::chrono::milliseconds status_interval{1'000};
  transfer::ProgressMode progress_mode = transfer::ProgressMode::kNone;
  // Ctrl-C / SIGTERM: ends the current attempt and the run (reason Interrupted).
  std::stop_token interrupt;
  // Opens both endpoints of an engine transfer (tests inject in-memory stores). Unset: the
  // transfer API chooses and opens them.
  OpenEndpointsFn open;
  // Receives the status after every change (the CLI writes --status-file). May be empty.
  std::function<void(const CubeStatus&)> on_status;
};

struct RunOutcome {
  CubeStatus status;
  // OK on success; otherwise the final failure (its message is what the Failed condition says).
  Status error;
  // 0 success, 1 the transfer failed, 2 the cube or its inputs are invalid.
  int exit_code = 0;
  // The last attempt's report (for --dry-run, the plan).
  transfer::TransferReport report;
};

// Runs a loaded cube. A cube that failed to load or validate yields a Failed status with reason
// InvalidSpec and exit code 2, so the status file always says why.
RunOutcome RunCube(const LoadResult& loaded, const RunOptions& options);

}  // namespace datacube::cube
