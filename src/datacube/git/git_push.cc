// PushRepository: the DataCube git sink.
//
// The push goes to the token-free URL through a remote defined only in the environment
// (GIT_CONFIG_*: remote.datacube-push.url), so the repository's own remotes are neither used
// nor changed, and nothing is written to its .git/config. LFS objects are uploaded first with
// `git lfs push`, so the server never receives commits whose LFS content it lacks.
#include <filesystem>

#include "datacube/base/log.h"
#include "datacube/git/git_session.h"

namespace datacube::git {
namespace {

constexpr char kPushRemote[] = "datacube-push";

// The repository to push: `dir/<repo name>`, where a DataCube git download puts the clone (a
// git upload pushes <subPath>/<repo>, docs/datacube-spec.md), else `dir` itself.
Result<std::string> FindRepository(const internal::GitSession& s, const std::string& dir) {
  std::string named = dir + "/" + s.remote.repo_name;
  std::error_code ec;
  if (std::filesystem::is_directory(named, ec) && internal::IsRepositoryTop(named)) return named;
  if (std::filesystem::is_directory(dir, ec) && internal::IsRepositoryTop(dir)) return dir;
  return NotFoundError("no git repository to push: neither " + named + " nor " + dir +
                       " is the top of a git work tree (the sink pushes the directory named "
                       "after the repository in the url, " +
                       s.remote.repo_name + ")");
}

// The branch to push: the option, else the one checked out.
Result<std::string> BranchToPush(const internal::GitSession& s, const std::string& repo,
                                 const std::string& option) {
  if (!option.empty()) return option;
  auto head = s.git->Run(repo, {"symbolic-ref", "--short", "-q", "HEAD"}, "reading HEAD", true);
  if (!head.ok()) return head.status();
  std::string branch = head->stdout_data.substr(0, head->stdout_data.find('\n'));
  if (branch.empty()) {
    return FailedPreconditionError(repo +
                                   " has a detached HEAD; check out the branch to push "
                                   "or set the branch option");
  }
  return branch;
}

// The commit id `branch` points at.
Result<std::string> CommitOf(const internal::GitSession& s, const std::string& repo,
                             const std::string& branch) {
  auto commit =
      s.git->Run(repo, {"rev-parse", "--verify", "--quiet", "refs/heads/" + branch + "^{commit}"},
                 "resolving " + branch, true);
  if (!commit.ok()) return commit.status();
  if (!commit->success()) {
    return NotFoundError("branch " + branch + " has no commits in " + repo +
                         " (commit before uploading)");
  }
  return commit->stdout_data.substr(0, commit->stdout_data.find('\n'));
}

// A runner like `base` whose git also knows the push remote, defined through the environment
// (appended to GIT_CONFIG_COUNT's list) so the repository's own remotes stay as they are.
GitRunner WithPushRemote(const GitRunner& base, const std::string& url) {
  GitRunnerOptions o = base.options();
  std::vector<std::string>& e = o.env;
  size_t count = 0;
  for (auto& v : e) {
    if (v.compare(0, 17, "GIT_CONFIG_COUNT=") == 0) count = std::stoul(v.substr(17));
  }
  for (auto& v : e) {
    if (v.compare(0, 17, "GIT_CONFIG_COUNT=") == 0)
      v = "GIT_CONFIG_COUNT=" + std::to_string(count + 1);
  }
  e.push_back("GIT_CONFIG_KEY_" + std::to_string(count) + "=remote." + kPushRemote + ".url");
  e.push_back("GIT_CONFIG_VALUE_" + std::to_string(count) + "=" + url);
  return GitRunner(o);
}

// `git lfs push` (when LFS is on), then `git push` of the branch; says whether the remote
// already had it.
Result<bool> PushBranch(const internal::GitSession& s, const std::string& repo,
                        const std::string& branch) {
  GitRunner git = WithPushRemote(*s.git, s.remote.url);
  GitRunner lfs_git = WithPushRemote(*s.lfs_git, s.remote.url);
  if (s.lfs) {
    DC_RETURN_IF_ERROR(internal::CheckLfsEndpoints(s, repo));
    DC_RETURN_IF_ERROR(lfs_git
                           .RunNetwork(repo, {"lfs", "push", kPushRemote, "refs/heads/" + branch},
                                       "uploading LFS objects to " + s.remote.url)
                           .status());
  }
  const std::string refspec = "refs/heads/" + branch + ":refs/heads/" + branch;
  DC_ASSIGN_OR_RETURN(
      ProcessResult r,
      git.RunNetwork(repo, {"push", "--progress", "--porcelain", kPushRemote, refspec},
                     "pushing " + branch + " to " + s.remote.url));
  // Porcelain lines: "<flag>\t<from>:<to>\t<summary>"; '=' means up to date.
  return r.stdout_data.find("\n=\t") != std::string::npos ||
         r.stdout_data.compare(0, 2, "=\t") == 0;
}

}  // namespace

Result<GitPushResult> PushRepository(const GitSinkOptions& options, const std::string& from) {
  const GitSinkOptions& o = options;
  if (from.empty()) return InvalidArgumentError("git: no directory to push from");
  std::error_code ec;
  std::string dir = std::filesystem::absolute(from, ec).lexically_normal().string();
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  DC_ASSIGN_OR_RETURN(internal::GitSession s, internal::OpenSession(o));
  DC_RETURN_IF_ERROR(internal::CheckBeneathVolume(o.volume_root, dir, false));
  DC_ASSIGN_OR_RETURN(std::string repo, FindRepository(s, dir));
  DC_RETURN_IF_ERROR(internal::CheckBeneathVolume(o.volume_root, repo, false));
  // The repository in the volume is someone else's work: nothing in it may run a program.
  DC_RETURN_IF_ERROR(internal::CheckExistingRepository(s, repo).status());

  GitPushResult result;
  result.repo_dir = repo;
  result.url = s.remote.url;
  DC_ASSIGN_OR_RETURN(result.branch, BranchToPush(s, repo, o.branch));
  DC_ASSIGN_OR_RETURN(result.commit, CommitOf(s, repo, result.branch));
  DC_ASSIGN_OR_RETURN(result.up_to_date, PushBranch(s, repo, result.branch));
  result.message = std::string(result.up_to_date ? "already up to date: " : "pushed ") +
                   result.branch + " (commit " + result.commit.substr(0, 12) + ") to " +
                   s.remote.url;
  return result;
}

}  // namespace datacube::git
