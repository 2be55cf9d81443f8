#include "datacube/cube/attempt.h"

#include "datacube/cube/option_rules.h"

namespace datacube::cube {
namespace {

// Only the options the git module knows: it refuses unknown names, and the cube's configuration
// may also carry engine-level entries such as cache-dir.
std::map<std::string, std::string> GitOptions(const CubeTransfer& t, bool is_sink) {
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : t.config.options) {
    if (FindOptionRule(EndpointType::kGit, is_sink, name) != nullptr) out[name] = value;
  }
  return out;
}

ResultStatus ResultOf(const transfer::JobReport& job, EndpointType service) {
  ResultStatus r;
  r.files = job.summary->files;
  r.bytes = job.summary->bytes;
  r.manifest_digest = job.summary->manifest_digest;
  if (service == EndpointType::kGit) {
    // A checkout is the whole tree: every file of it counts as delivered.
    r.files_copied = r.files;
    r.bytes_copied = r.bytes;
    return r;
  }
  r.files_copied = job.transfer.files_copied;
  r.files_skipped = job.transfer.files_skipped;
  r.files_deleted = job.transfer.files_deleted;
  r.files_failed = job.transfer.files_failed;
  r.bytes_copied = job.transfer.bytes_copied;
  return r;
}

}  // namespace

AttemptResult RunTransferAttempt(const CubeTransfer& t, EndpointType service,
                                 const transfer::TransferOptions& options,
                                 transfer::ProgressSink* progress, const OpenEndpointsFn& open,
                                 std::stop_token stop) {
  transfer::JobOptions job;
  job.transfer = options;
  job.config = t.config;
  job.summarize_local_side = true;
  if (service == EndpointType::kGit) job.git.cube_options = GitOptions(t, !t.pvc_is_sink);
  // A DataCube's Hugging Face data belongs in its PVC: a Hub session into plain files there,
  // never into a hub cache (docs/datacube-spec.md).
  if (service == EndpointType::kHuggingFace) job.hf.session = true;
  if (open) job.open_endpoints = [&] { return open(t); };
  AttemptResult out;
  auto report = transfer::RunJob(t.source, t.sink, job, progress, stop);
  if (!report.ok()) {
    out.status = report.status();
    return out;
  }
  out.status = report->transfer.status;
  out.message = report->message;
  if (out.status.ok() && report->summary) out.result = ResultOf(*report, service);
  out.report = std::move(report->transfer);
  return out;
}

}  // namespace datacube::cube
