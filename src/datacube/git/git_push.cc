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
  result.branch = o.branch;
  if (result.branch.empty()) {
    auto head = s.git->Run(repo, {"symbolic-ref", "--short", "-q", "HEAD"}, "reading HEAD", true);
    if (!head.ok()) return head.status();
    result.branch = head->stdout_data.substr(0, head->stdout_data.find('\n'));
    if (result.branch.empty()) {
      return FailedPreconditionError(repo +
                                     " has a detached HEAD; check out the branch to push "
                                     "or set the branch option");
    }
  }
  auto commit = s.git->Run(
      repo, {"rev-parse", "--verify", "--quiet", "refs/heads/" + result.branch + "^{commit}"},
      "resolving " + result.branch, true);
  if (!commit.ok()) return commit.status();
  if (!commit->success()) {
    return NotFoundError("branch " + result.branch + " has no commits in " + repo +
                         " (commit before uploading)");
  }
  result.commit = commit->stdout_data.substr(0, commit->stdout_data.find('\n'));
  std::string refspec = "refs/heads/" + result.branch + ":refs/heads/" + result.branch;

  // Define the push remote through the environment: append to GIT_CONFIG_COUNT's list.
  auto add_remote = [&](std::vector<std::string>& e) {
    size_t count = 0;
    for (auto& v : e) {
      if (v.compare(0, 17, "GIT_CONFIG_COUNT=") == 0) count = std::stoul(v.substr(17));
    }
    for (auto& v : e) {
      if (v.compare(0, 17, "GIT_CONFIG_COUNT=") == 0)
        v = "GIT_CONFIG_COUNT=" + std::to_string(count + 1);
    }
    e.push_back("GIT_CONFIG_KEY_" + std::to_string(count) + "=remote." + kPushRemote + ".url");
    e.push_back("GIT_CONFIG_VALUE_" + std::to_string(count) + "=" + s.remote.url);
  };
  GitRunnerOptions ro = s.git->options();
  add_remote(ro.env);
  GitRunner git(ro);
  GitRunnerOptions lo = s.lfs_git->options();
  add_remote(lo.env);
  GitRunner lfs_git(lo);

  if (s.lfs) {
    DC_RETURN_IF_ERROR(internal::CheckLfsEndpoints(s, repo));
    DC_RETURN_IF_ERROR(lfs_git
                           .RunNetwork(repo,
                                       {"lfs", "push", kPushRemote, "refs/heads/" + result.branch},
                                       "uploading LFS objects to " + s.remote.url)
                           .status());
  }
  DC_ASSIGN_OR_RETURN(
      ProcessResult r,
      git.RunNetwork(repo, {"push", "--progress", "--porcelain", kPushRemote, refspec},
                     "pushing " + result.branch + " to " + s.remote.url));
  // Porcelain lines: "<flag>\t<from>:<to>\t<summary>"; '=' means up to date.
  result.up_to_date =
      r.stdout_data.find("\n=\t") != std::string::npos || r.stdout_data.compare(0, 2, "=\t") == 0;
  result.message = std::string(result.up_to_date ? "already up to date: " : "pushed ") +
                   result.branch + " (commit " + result.commit.substr(0, 12) + ") to " +
                   s.remote.url;
  return result;
}

}  // namespace datacube::git
