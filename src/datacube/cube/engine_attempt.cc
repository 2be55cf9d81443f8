#include "datacube/cube/engine_attempt.h"

#include "datacube/engine/manifest.h"
#include "datacube/storage/hf/hf_transfer.h"

namespace datacube::cube {
namespace {

EngineAttemptOutcome Finish(
    Result<engine::TransferReport> report, const engine::TransferOptions& options,
    const std::function<Result<ResultStatus>(const engine::TransferReport&)>& summarize) {
  EngineAttemptOutcome out;
  if (!report.ok()) {
    out.status = report.status();
    return out;
  }
  out.report = std::move(*report);
  out.status = out.report.status;
  if (!out.status.ok() || options.stop.stop_requested() || options.dry_run) return out;
  auto summary = summarize(out.report);
  if (summary.ok()) {
    out.result = std::move(*summary);
  } else {
    out.status = summary.status().WithContext("computing the manifest digest");
  }
  return out;
}

EngineAttemptOutcome RunHuggingFace(const CubeTransfer& t, const engine::TransferOptions& o,
                                    engine::ProgressSink* progress) {
  Result<engine::TransferReport> report = InternalError("unset");
  if (t.pvc_is_sink) {
    // `--cache-dir` is not passed on: with a cache directory the HF download fills that cache
    // instead of the PVC, and a DataCube's data belongs in its PVC (docs/datacube-spec.md).
    auto r = storage::hf::DownloadLocation(t.source, t.sink, t.config, o, progress);
    report = r.ok() ? Result<engine::TransferReport>(std::move(r->transfer))
                    : Result<engine::TransferReport>(r.status());
  } else {
    auto r = storage::hf::UploadLocation(t.source, t.sink, t.config, o, progress);
    report = r.ok() ? Result<engine::TransferReport>(std::move(r->transfer))
                    : Result<engine::TransferReport>(r.status());
  }
  return Finish(
      std::move(report), o, [&](const engine::TransferReport& rep) -> Result<ResultStatus> {
        const Location& pvc_loc = t.pvc_is_sink ? t.sink : t.source;
        DC_ASSIGN_OR_RETURN(storage::StoreRef pvc,
                            storage::OpenLocation(pvc_loc, t.config, storage::OpenMode::kRead));
        std::string prefix = pvc.key.empty() || pvc.key.back() == '/' ? pvc.key : pvc.key + "/";
        return SummarizeReport(rep, *pvc.store, prefix, "");
      });
}

}  // namespace

Result<ResultStatus> SummarizeReport(const engine::TransferReport& report,
                                     storage::ObjectStore& pvc, const std::string& prefix,
                                     const std::string& single_key) {
  ResultStatus r;
  r.files_copied = report.files_copied;
  r.files_skipped = report.files_skipped;
  r.files_deleted = report.files_deleted;
  r.files_failed = report.files_failed;
  r.bytes_copied = report.bytes_copied;
  std::vector<engine::ManifestEntry> entries;
  std::vector<uint8_t> buffer;
  for (const auto& f : report.files) {
    if (f.action != engine::FileAction::kCopied && f.action != engine::FileAction::kSkipped) {
      continue;
    }
    std::string sha = f.sha256;
    if (sha.empty()) {
      buffer.resize(4 << 20);
      std::string key = single_key.empty() ? prefix + f.path : single_key;
      DC_ASSIGN_OR_RETURN(sha, engine::HashObject(pvc, key, buffer));
    }
    entries.push_back({f.path, f.size, sha});
    r.bytes += f.size;
  }
  r.files = entries.size();
  r.manifest_digest = "sha256:" + engine::ManifestDigest(std::move(entries));
  return r;
}

EngineAttemptOutcome RunEngineAttempt(const CubeTransfer& t, EndpointType service,
                                      const engine::TransferOptions& o,
                                      engine::ProgressSink* progress, const OpenEndpointsFn& open) {
  if (service == EndpointType::kHuggingFace && !open) return RunHuggingFace(t, o, progress);
  auto ends = open ? open(t) : engine::ResolveEndpoints(t.source, t.sink, t.config, t.config);
  if (!ends.ok()) {
    EngineAttemptOutcome out;
    out.status = ends.status();
    return out;
  }
  return Finish(engine::RunTransfer(*ends, o, progress), o, [&](const engine::TransferReport& rep) {
    const storage::StoreRef& pvc = t.pvc_is_sink ? ends->dst : ends->src;
    std::string prefix = t.pvc_is_sink ? ends->dst_prefix : ends->src_prefix;
    return SummarizeReport(rep, *pvc.store, prefix, ends->single ? pvc.key : "");
  });
}

}  // namespace datacube::cube
