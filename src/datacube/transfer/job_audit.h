// The audit record of one job (audit/audit_log.h): RunJob appends it when JobOptions::audit is
// set, so every front end's transfers, refusals and sync deletions are on record the same way.
#pragma once

#include "datacube/base/result.h"
#include "datacube/location/location.h"

namespace datacube::transfer {

struct JobOptions;
struct JobReport;

// Appends a "refusal" record (policy denied the sink), or a "transfer" record (ok, failed or
// dry-run, with bytes, files and the manifest digest of the files now at the sink), followed by
// one "delete" record per file sync removed. A record that cannot be written is an error: a log
// that silently drops records is worse than none.
Status AppendJobRecords(const Location& source, const Location& sink, const JobOptions& options,
                        const Result<JobReport>& outcome);

}  // namespace datacube::transfer
