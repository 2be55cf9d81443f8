// One attempt of an S3 or Hugging Face DataCube: the data moves through the transfer engine.
//
//   s3           engine::ResolveEndpoints + engine::RunTransfer (sync deletes included)
//   huggingface  storage/hf/hf_transfer.h DownloadLocation / UploadLocation, which pin the
//                revision to one commit, verify every file against the Hub's hashes, and commit
//                uploads in sessions; both run on the engine and report a TransferReport
//
// On success the outcome carries the manifest digest of every file now at the sink.
#pragma once

#include <functional>
#include <optional>

#include "datacube/engine/progress.h"
#include "datacube/engine/transfer.h"
#include "datacube/cube/cube_transfer.h"
#include "datacube/cube/status.h"

namespace datacube::cube {

// Opens both endpoints of an S3 cube (tests inject in-memory stores). Empty:
// engine::ResolveEndpoints.
using OpenEndpointsFn = std::function<Result<engine::TransferEndpoints>(const CubeTransfer&)>;

struct EngineAttemptOutcome {
  Status status;
  engine::TransferReport report;
  std::optional<ResultStatus> result;  // on success, unless a dry run
};

// Runs one attempt with `options` (whose stop token cancels it).
EngineAttemptOutcome RunEngineAttempt(const CubeTransfer& transfer, EndpointType service,
                                      const engine::TransferOptions& options,
                                      engine::ProgressSink* progress, const OpenEndpointsFn& open);

// The manifest of every file the report says is now at the sink (copied or skipped), with its
// SHA-256. A file whose hash the transfer did not learn is hashed from `pvc` (the PVC side, which
// is local) at `prefix` + path, or at `single_key` when the transfer was one object.
Result<ResultStatus> SummarizeReport(const engine::TransferReport& report,
                                     storage::ObjectStore& pvc, const std::string& prefix,
                                     const std::string& single_key);

}  // namespace datacube::cube
