#include "datacube/git/git_session.h"

#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "datacube/base/cancel.h"
#include "datacube/git/git_env.h"

namespace datacube::git::internal {
namespace {

std::string RealPath(const std::string& path) {
  char* p = ::realpath(path.c_str(), nullptr);
  if (p == nullptr) return path;
  std::string out(p);
  std::free(p);
  return out;
}

std::string Normalize(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.size() > 4 && url.compare(url.size() - 4, 4, ".git") == 0) url.resize(url.size() - 4);
  return url;
}

}  // namespace

ScratchDir::ScratchDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/datacube-git-XXXXXX";
  if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;  // mode 0700
}

ScratchDir::~ScratchDir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Result<GitSession> OpenSession(const GitCommonOptions& o, const std::string& repo_dir) {
  if (o.url.empty()) return InvalidArgumentError("git: the url option is required");
  GitSession s;
  DC_ASSIGN_OR_RETURN(s.remote, ParseGitRemote(o.url, o.token));
  if (!o.username.empty()) s.remote.username = o.username;

  s.scratch = std::make_shared<ScratchDir>();
  if (s.scratch->path().empty()) return ErrnoToStatus(errno, "creating a temporary directory");
  GitEnvOptions env;
  env.getenv = o.getenv;
  env.rejected_marker = s.scratch->path() + "/credentials-rejected";
  env.remote = &s.remote;
  env.stall_timeout = o.stall_timeout;
  env.ca_file = o.ca_file;
  env.lfs = o.lfs;
  if (!repo_dir.empty()) env.extra_config.emplace_back("safe.directory", RealPath(repo_dir));
  std::vector<std::string> child_env = BuildGitEnv(env);
  std::string path = "/usr/local/bin:/usr/bin:/bin";
  for (const auto& e : child_env) {
    if (e.compare(0, 5, "PATH=") == 0) path = e.substr(5);
  }
  if (FindInPath("git", path).empty()) {
    return FailedPreconditionError("git is not installed (not found in PATH " + path +
                                   "); install the git package");
  }
  if (o.lfs && FindInPath("git-lfs", path).empty()) {
    return FailedPreconditionError(
        "git-lfs is not installed (not found in PATH " + path +
        "); install the git-lfs package, or set the lfs option to false to skip LFS files");
  }
  s.lfs = o.lfs;

  GitRunnerOptions r;
  r.env = std::move(child_env);
  r.host = s.remote.host;
  r.stall_timeout = o.stall_timeout;
  r.timeout = o.timeout;
  r.retry = o.retry;
  r.stop = o.stop.stop_possible() ? o.stop : CurrentStopToken();
  r.on_child_start = o.on_child_start;
  s.git = std::make_unique<GitRunner>(r);
  env.skip_smudge = false;
  r.env = BuildGitEnv(env);
  s.lfs_git = std::make_unique<GitRunner>(r);
  return s;
}

std::string RepositoryTop(const GitRunner& git, const std::string& dir) {
  auto r = git.Run(dir, {"rev-parse", "--show-toplevel"}, "inspecting " + dir, true);
  if (!r.ok() || !r->success()) return "";
  std::string top = r->stdout_data;
  while (!top.empty() && (top.back() == '\n' || top.back() == '\r')) top.pop_back();
  return RealPath(top) == RealPath(dir) ? top : "";
}

Result<std::string> GitDirOf(const GitRunner& git, const std::string& dir) {
  return git.Output(dir, {"rev-parse", "--absolute-git-dir"}, "inspecting " + dir);
}

bool SameRepository(const std::string& a, const std::string& b) {
  return Normalize(a) == Normalize(b);
}

}  // namespace datacube::git::internal
