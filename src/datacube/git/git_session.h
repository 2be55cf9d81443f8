// Internal: what CloneOrUpdate and PushRepository set up the same way (remote, environment,
// runner) and the repository checks both need.
#pragma once

#include <memory>
#include <string>

#include "datacube/git/git_remote.h"
#include "datacube/git/git_runner.h"
#include "datacube/git/git_transfer.h"

namespace datacube::git::internal {

// A private directory for one operation (the credential helper's rejection marker), removed
// with the session.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct GitSession {
  std::shared_ptr<ScratchDir> scratch;
  GitRemote remote;
  // Runs git with LFS downloads skipped during checkout.
  std::unique_ptr<GitRunner> git;
  // Runs git-lfs steps (smudge allowed).
  std::unique_ptr<GitRunner> lfs_git;
  bool lfs = false;
};

// Parses the URL, checks that git (and git-lfs when wanted) is installed, and builds the
// runners. `repo_dir` is marked safe.directory for this operation only: a volume mounted in a
// pod is often owned by another user id, which git would otherwise refuse.
Result<GitSession> OpenSession(const GitCommonOptions& options, const std::string& repo_dir);

// The repository's top level if `dir` is the top of a work tree; empty when `dir` is not inside a
// repository or is a subdirectory of one.
std::string RepositoryTop(const GitRunner& git, const std::string& dir);

// Absolute path of the .git directory of the repository at `dir`.
Result<std::string> GitDirOf(const GitRunner& git, const std::string& dir);

// "https://host/o/r.git" and "https://host/o/r" name the same repository.
bool SameRepository(const std::string& a, const std::string& b);

}  // namespace datacube::git::internal
