// `datacube cp` to and from Git repositories:
//
//   datacube cp git+https://host/owner/repo.git[@ref] DST     clone into DST (a path or pvc://),
//                                                            or fetch and check out when DST
//                                                            already holds the clone
//   datacube cp SRC git+https://host/owner/repo.git[@branch]  push SRC (a repository, or a
//                                                            directory holding one named after
//                                                            the repository) to the remote
//
// The transfer API routes these to git (a clone is a checkout, a push sends commits, so the
// engine is not involved); this file holds the flags. The token comes from --git-token-file or
// the environment variable DATACUBE_GIT_TOKEN; never from the command line.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "datacube/cli/common.h"
#include "datacube/location/location.h"

namespace datacube::cli {

// Registers the git flags (--depth, --no-lfs, --git-token-file, --git-branch, --git-username,
// --git-ca-file, --git-stall-timeout, --git-timeout) on the top-level app.
void AddGitFlags(CLI::App& app);

// The git settings of a cp from the git flags: the token (read from --git-token-file or
// DATACUBE_GIT_TOKEN, registered for redaction), user name, CA file, LFS, depth, branch and time
// limits. Errors name the flag.
Status FillGitOptions(const TransferFlags& flags, transfer::GitOptions* options);

}  // namespace datacube::cli
