// Internal: checks a repository found in a volume before any git command runs inside it.
//
// A clone that already exists may have been prepared by anyone who could write to the volume.
// git obeys that repository's own files: .git/config can start programs (filter, diff and merge
// drivers, core.fsmonitor, core.sshCommand, credential helpers, lfs.customtransfer), redirect
// the transfer and its credentials (url.*.insteadOf, http.proxy, http.sslCAInfo, remote.*.vcs)
// or move writes out of the clone (core.worktree, lfs.storage, include.path); .git itself can be
// a link elsewhere. datacube's own command-line configuration (git_env.h) switches off the
// program-starting keys it can name, but git cannot "unset" a url rewrite, an include or an
// unknown filter from the command line. So the repository is accepted only when:
//   - the directory and its .git are real directories (no symbolic link, no "gitdir:" file),
//     nothing inside .git is a symbolic link or a special file, and there is no commondir or
//     object alternates file (which would make git read another repository);
//   - every key of .git/config is on a list of keys known to be inert (core settings, remotes'
//     url/fetch, branch tracking, user identity, the git-lfs settings git-lfs itself writes...).
// Anything else is refused (kFailedPrecondition naming the file and the key) before git ran.
// The config file is read with `git config --file --no-includes --list`, a plain parse that
// runs nothing. Hooks in .git/hooks are not inspected: they never run (core.hooksPath=/dev/null).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "datacube/base/result.h"

namespace datacube::git::internal {

struct RepositoryConfig {
  // The entries of .git/config in file order: canonical key (section and name lower-case,
  // subsection as written) and value.
  std::vector<std::pair<std::string, std::string>> entries;
  // The last remote.origin.url, empty when there is none.
  std::string origin_url;
};

// True when `dir/.git` exists in any form (directory, file, link).
bool HasGitEntry(const std::string& dir);

// Why `key` = `value` may not stay in a repository datacube runs git in; empty when the key is
// inert.
std::string UnsafeConfigReason(const std::string& key, const std::string& value);

// Checks the layout of `dir` (the top of a work tree) and its .git/config, as described above.
// `env` is the environment to run `git config` with; `scratch_dir` a private directory that is
// not inside a repository (the command's working directory).
Result<RepositoryConfig> CheckRepository(const std::vector<std::string>& env,
                                         const std::string& scratch_dir, const std::string& dir);

}  // namespace datacube::git::internal
