// `datacube cp` to and from Git repositories (issue 6):
//
//   datacube cp git+https://host/owner/repo.git[@ref] DST     clone into DST (a path or pvc://),
//                                                            or fetch and check out when DST
//                                                            already holds the clone
//   datacube cp SRC git+https://host/owner/repo.git[@branch]  push SRC (a repository, or a
//                                                            directory holding one named after
//                                                            the repository) to the remote
//
// Git is not an object store (a clone is a checkout, a push sends commits), so these bypass the
// transfer engine and call datacube/git/git_transfer.h. The token comes from --git-token-file or
// the environment variable DATACUBE_GIT_TOKEN; never from the command line.
#pragma once

#include <CLI/CLI.hpp>
#include <stop_token>
#include <string>

#include "datacube/cli/common.h"
#include "datacube/location/location.h"

namespace datacube::cli {

// Registers the git flags (--depth, --no-lfs, --git-token-file, --git-branch, --git-username,
// --git-ca-file, --git-stall-timeout, --git-timeout) on the top-level app.
void AddGitFlags(CLI::App& app);

// Runs a cp where `src` or `dst` is a git location. Returns the exit code (0 ok, 1 transfer
// failed, 2 usage error); errors are printed, redacted.
int RunGitCopy(const Location& src, const Location& dst, const TransferFlags& flags,
               bool delete_extra, std::stop_token stop);

}  // namespace datacube::cli
