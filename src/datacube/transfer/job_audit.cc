#include "datacube/transfer/job_audit.h"

#include <vector>

#include "datacube/audit/audit_log.h"
#include "datacube/engine/manifest.h"
#include "datacube/transfer/job.h"

namespace datacube::transfer {
namespace {

audit::Record BaseRecord(const Location& source, const Location& sink, const JobOptions& options) {
  audit::Record record;
  record.actor = options.actor;
  record.source = source.ToString();
  record.destination = sink.ToString();
  record.data_class = options.data_class;
  return record;
}

// The digest of what the job leaves at the sink (copied and already-there files), as a manifest
// of them would have.
std::string SinkManifestDigest(const TransferReport& report) {
  std::vector<ManifestEntry> entries;
  for (const auto& f : report.files) {
    if ((f.action == FileAction::kCopied || f.action == FileAction::kSkipped) &&
        !f.sha256.empty()) {
      entries.push_back({f.path, f.size, f.sha256});
    }
  }
  if (entries.empty()) return "";
  return "sha256:" + engine::ManifestDigest(std::move(entries));
}

audit::Record TransferRecord(audit::Record record, const JobOptions& options,
                             const JobReport& report) {
  const TransferReport& t = report.transfer;
  record.action = "transfer";
  record.bytes = t.bytes_copied;
  record.files = t.files_copied;
  record.manifest_digest = SinkManifestDigest(t);
  if (options.transfer.dry_run) {
    record.result = "dry-run";
  } else {
    record.result = t.status.ok() ? "ok" : "failed";
  }
  record.detail = t.status.ok() ? t.Summary() : t.status.ToString();
  return record;
}

Status AppendDeletes(audit::Log& log, const audit::Record& base, const TransferReport& report) {
  for (const auto& f : report.files) {
    if (f.action != FileAction::kDeleted) continue;
    audit::Record record = base;
    record.action = "delete";
    record.source.clear();
    record.destination = base.destination + (base.destination.ends_with('/') ? "" : "/") + f.path;
    record.bytes = f.size;
    record.files = 1;
    record.result = "ok";
    record.detail = "not in the source (sync --delete)";
    DC_RETURN_IF_ERROR(log.Append(std::move(record)));
  }
  return Status::Ok();
}

}  // namespace

Status AppendJobRecords(const Location& source, const Location& sink, const JobOptions& options,
                        const Result<JobReport>& outcome) {
  if (options.audit == nullptr) return Status::Ok();
  audit::Record base = BaseRecord(source, sink, options);
  if (!outcome.ok()) {
    audit::Record record = base;
    const bool denied = IsEgressDenied(outcome.status());
    record.action = denied ? "refusal" : "transfer";
    record.result = denied ? "denied" : "failed";
    record.detail = outcome.status().ToString();
    return options.audit->Append(std::move(record)).WithContext("audit log");
  }
  DC_RETURN_IF_ERROR(
      options.audit->Append(TransferRecord(base, options, *outcome)).WithContext("audit log"));
  return AppendDeletes(*options.audit, base, outcome->transfer).WithContext("audit log");
}

}  // namespace datacube::transfer
