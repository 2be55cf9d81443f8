// Internal: what CloneOrUpdate and PushRepository set up the same way (remote, environment,
// runner, private credential file) and the repository checks both need.
#pragma once

#include <memory>
#include <string>

#include "datacube/git/git_remote.h"
#include "datacube/git/git_runner.h"
#include "datacube/git/git_transfer.h"
#include "datacube/git/repo_guard.h"

namespace datacube::git::internal {

// A private directory (0700) for one operation: the credential helper's answer (0600) and its
// rejection marker. Removed, with the token, when the session ends.
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

// Parses the URL, checks that git (and git-lfs when wanted) is installed, writes the credential
// file and builds the runners. Repository commands run with an explicit --git-dir and
// --work-tree, so git never searches parent directories for a repository and never follows a
// "gitdir:" file; the ownership check (safe.directory) does not apply to them, which is right
// because nothing in a vetted repository can run a program, whoever owns it.
Result<GitSession> OpenSession(const GitCommonOptions& options);

// Checks that every directory from `volume_root` (when not empty) down to `dir` is a real
// directory, not a symbolic link; with `create`, missing ones are made (mkdir, one level at a
// time). `dir` must lie beneath `volume_root`. Errors name the offending path.
Status CheckBeneathVolume(const std::string& volume_root, const std::string& dir, bool create);

// True when `dir` is the top of a work tree: it holds a .git (CheckRepository decides whether it
// is usable).
bool IsRepositoryTop(const std::string& dir);

// CheckRepository (repo_guard.h) with the session's environment.
Result<RepositoryConfig> CheckExistingRepository(const GitSession& s, const std::string& dir);

// Refuses an LFS endpoint set by the repository's .lfsconfig (the work-tree file, else the
// index's, else HEAD's, as git-lfs reads it) whose scheme is not https (http for an http
// remote): git-lfs would otherwise read or write objects through file:// (any local path) or
// start ssh. The rest of .lfsconfig git-lfs itself restricts to safe keys.
Status CheckLfsEndpoints(const GitSession& s, const std::string& dir);

// "https://host/o/r.git" and "https://host/o/r" name the same repository.
bool SameRepository(const std::string& a, const std::string& b);

}  // namespace datacube::git::internal
