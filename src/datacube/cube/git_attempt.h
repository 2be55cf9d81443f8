// One attempt of a git DataCube, through the git module (src/datacube/git/git_transfer.h).
//
// A git cube is not an object copy: the source clones the repository into the PVC (or fetches
// and checks out `ref` when the clone is already there) and the sink pushes a repository from the
// PVC. As `git clone` lays it out, the repository is the directory named after it below the PVC
// path (git::SeedRepoDir). The token reaches git through the git module's credential helper,
// never in a URL or argv.
#pragma once

#include <stop_token>
#include <string>

#include "datacube/base/status.h"
#include "datacube/cube/cube_transfer.h"
#include "datacube/cube/status.h"

namespace datacube::cube {

struct GitAttemptOutcome {
  Status status;
  // On success: the manifest digest of the checked-out (or pushed) working tree, without .git.
  ResultStatus result;
  // What happened, for the log ("checked out main at 1a2b3c4").
  std::string message;
};

// Runs one clone/update or push for `transfer` (whose service side is git), cancelled by `stop`.
GitAttemptOutcome RunGitAttempt(const CubeTransfer& transfer, std::stop_token stop);

// SHA-256 manifest digest ("sha256:<hex>") of the files below `dir`, skipping the top-level .git
// directory and anything that is not a regular file. Also counts files and bytes.
Result<ResultStatus> WorkingTreeDigest(const std::string& dir);

}  // namespace datacube::cube
