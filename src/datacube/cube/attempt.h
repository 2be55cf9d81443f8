// One attempt of a DataCube's transfer, through the transfer API (transfer/job.h), which picks
// the route: the engine for S3, a Hub session for Hugging Face (pinned to one commit, every file
// verified against the Hub's hashes, uploads committed in a few atomic commits), or git (clone or
// update into the PVC, or push from it; the repository is the directory named after it below the
// PVC path, as `git clone` lays it out).
//
// On success the outcome carries the manifest digest of every file now on the PVC side (for
// git, of the working tree without .git).
#pragma once

#include <functional>
#include <optional>
#include <stop_token>
#include <string>

#include "datacube/cube/cube_transfer.h"
#include "datacube/cube/status.h"
#include "datacube/transfer/job.h"

namespace datacube::cube {

// Opens both endpoints of an engine transfer (tests inject in-memory stores). Empty: the
// transfer layer's registry.
using OpenEndpointsFn = std::function<Result<transfer::TransferEndpoints>(const CubeTransfer&)>;

struct AttemptResult {
  Status status;
  transfer::TransferReport report;
  std::optional<ResultStatus> result;  // on success, unless a dry run
  std::string message;                 // git: what happened ("checked out main at 1a2b3c4")
};

// Runs one attempt with `options`, cancelled by `stop`.
AttemptResult RunTransferAttempt(const CubeTransfer& transfer, EndpointType service,
                                 const transfer::TransferOptions& options,
                                 transfer::ProgressSink* progress, const OpenEndpointsFn& open,
                                 std::stop_token stop);

}  // namespace datacube::cube
