// The git route of RunJob (job.h): clone or update a repository into a local or pvc:// path, or
// push one from it, through the git module (git/git_transfer.h). Internal to the transfer layer.
#pragma once

#include <stop_token>
#include <string>

#include "datacube/transfer/job.h"

namespace datacube::transfer {

// Clones/updates when `source` is git and `sink` local, pushes when `source` is local and `sink`
// git; anything else is kInvalidArgument. With options.transfer.dry_run nothing runs and the
// report's message says what would.
Result<JobReport> RunGitJob(const Location& source, const Location& sink, const JobOptions& options,
                            std::stop_token stop);

// SHA-256 manifest digest of the files below `dir`, skipping the top-level .git directory and
// anything that is not a regular file; counts files and bytes too.
Result<LocalSummary> WorkingTreeDigest(const std::string& dir);

// A summary's error, said as such ("computing the manifest digest: ...").
inline Result<LocalSummary> AsDigest(Result<LocalSummary> summary) {
  if (!summary.ok()) return summary.status().WithContext("computing the manifest digest");
  return summary;
}

}  // namespace datacube::transfer
