// CloneOrUpdate: the DataCube git source.
//
// A fresh clone and an update run the same steps, so an interrupted first clone is finished by
// the next attempt instead of failing on a half-made directory:
//   1. make `repo_dir` a repository whose origin is the token-free URL (git init + remote add),
//      or check that the existing one is a clone of the same repository with no local changes;
//   2. list the remote's refs (ls-remote) and decide what the requested ref means (git_refs.h);
//   3. fetch it (all branches and tags for a full clone, only the ref for a shallow one);
//   4. check it out: a branch as a local branch tracking origin, a tag or commit detached; LFS
//      downloads are skipped here;
//   5. fetch LFS objects with `git lfs pull` and hash every LFS file in the work tree against
//      its pointer; a corrupt file is reset and fetched again, then reported as kDataLoss.
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>

#include "datacube/base/log.h"
#include "datacube/base/units.h"
#include "datacube/git/git_session.h"
#include "datacube/git/lfs.h"

namespace datacube::git {
namespace {

using internal::GitSession;

struct Target {
  ResolvedRef ref;
  std::string commit;
};

// Step 1. Returns true for a new repository.
Result<bool> PrepareRepository(const GitSession& s, const std::string& dir) {
  const GitRunner& git = *s.git;
  if (!internal::IsRepositoryTop(dir)) {
    std::error_code ec;
    if (std::filesystem::exists(dir, ec) && !std::filesystem::is_empty(dir, ec)) {
      return FailedPreconditionError(
          dir +
          " exists, is not empty and is not a git repository; clone into an empty or new "
          "directory");
    }
    DC_RETURN_IF_ERROR(
        git.Run("", {"init", "-q", "--", dir}, "creating a repository in " + dir).status());
    DC_RETURN_IF_ERROR(
        git.Run(dir, {"remote", "add", "origin", s.remote.url}, "configuring origin in " + dir)
            .status());
    return true;
  }
  // Someone else may have prepared this clone: nothing in it may run a program (repo_guard.h).
  DC_ASSIGN_OR_RETURN(internal::RepositoryConfig config, internal::CheckExistingRepository(s, dir));
  std::string url = config.origin_url;
  if (url.empty()) {
    DC_RETURN_IF_ERROR(
        git.Run(dir, {"remote", "add", "origin", s.remote.url}, "configuring origin in " + dir)
            .status());
  } else {
    auto existing = ParseGitRemote(url, "");
    if (!existing.ok() || !internal::SameRepository(existing->url, s.remote.url)) {
      return FailedPreconditionError(
          dir + " holds a clone of another repository (" +
          (existing.ok() ? existing->url : std::string("an unsupported URL")) + ", not " +
          s.remote.url + "); use another directory");
    }
    if (existing->url != url) {
      // An older tool stored the token in the remote URL; this clone keeps none.
      LogWarn("removing credentials from remote.origin.url of " + dir);
      DC_RETURN_IF_ERROR(
          git.Run(dir, {"remote", "set-url", "origin", s.remote.url}, "cleaning origin in " + dir)
              .status());
    }
  }
  DC_ASSIGN_OR_RETURN(ProcessResult st,
                      git.Run(dir, {"status", "--porcelain", "--untracked-files=no"},
                              "checking " + dir + " for local changes"));
  if (!st.stdout_data.empty()) {
    std::string first = st.stdout_data.substr(0, st.stdout_data.find('\n'));
    return FailedPreconditionError(dir + " has local changes to tracked files (" + first +
                                   " ...); commit or discard them before updating the clone");
  }
  return false;
}

// Step 2.
Result<ResolvedRef> Resolve(const GitSession& s, const std::string& dir, const std::string& ref) {
  DC_ASSIGN_OR_RETURN(ProcessResult r, s.git->RunNetwork(dir, {"ls-remote", "--symref", "origin"},
                                                         "listing refs of " + s.remote.url));
  DC_ASSIGN_OR_RETURN(RemoteRefs refs, ParseLsRemote(r.stdout_data));
  return ResolveRef(refs, ref, s.remote.url);
}

Result<bool> IsShallow(const GitRunner& git, const std::string& dir) {
  Result<std::string> out = git.Output(dir, {"rev-parse", "--is-shallow-repository"}, "inspecting");
  if (!out.ok()) return out.status();
  return out.value() == "true";
}

Result<std::string> CommitOf(const GitRunner& git, const std::string& dir, const std::string& rev) {
  auto r = git.Run(dir, {"rev-parse", "--verify", "--quiet", rev + "^{commit}"}, "resolving", true);
  if (!r.ok()) return r.status();
  if (!r->success()) return NotFoundError(rev + " is not a commit in " + dir);
  std::string out = r->stdout_data.substr(0, r->stdout_data.find('\n'));
  return out;
}

// Step 3. Returns the revision to check out.
Result<std::string> Fetch(const GitSession& s, const std::string& dir, const ResolvedRef& ref,
                          int depth) {
  const GitRunner& git = *s.git;
  std::string what = "fetching " + s.remote.url;
  std::vector<std::string> args = {"fetch", "--progress", "--no-write-fetch-head"};
  DC_ASSIGN_OR_RETURN(bool shallow, IsShallow(git, dir));
  if (depth > 0) {
    args.push_back("--depth=" + std::to_string(depth));
    args.push_back("--no-tags");
  } else if (shallow) {
    args.push_back("--unshallow");  // a full clone was asked for where a shallow one exists
  }
  args.push_back("origin");
  switch (ref.kind) {
    case RefKind::kBranch:
      if (depth > 0) {
        args.push_back("+" + ref.refname + ":refs/remotes/origin/" + ref.name);
      } else {
        args.push_back("+refs/heads/*:refs/remotes/origin/*");
        args.push_back("+refs/tags/*:refs/tags/*");
      }
      DC_RETURN_IF_ERROR(git.RunNetwork(dir, args, what).status());
      return "refs/remotes/origin/" + ref.name;
    case RefKind::kTag:
      args.push_back("+" + ref.refname + ":" + ref.refname);
      if (depth == 0) args.push_back("+refs/heads/*:refs/remotes/origin/*");
      DC_RETURN_IF_ERROR(git.RunNetwork(dir, args, what).status());
      return ref.refname;
    case RefKind::kOther:
      args.push_back("+" + ref.refname + ":refs/datacube/fetched");
      DC_RETURN_IF_ERROR(git.RunNetwork(dir, args, what).status());
      return std::string("refs/datacube/fetched");
    case RefKind::kCommit:
      break;
  }
  // A commit: a full clone fetches everything and finds it (abbreviated ids work); a shallow one
  // asks for the id itself, which needs all 40 digits.
  if (depth > 0) {
    if (ref.name.size() != 40) {
      return InvalidArgumentError("ref \"" + ref.name +
                                  "\": a shallow clone (depth) of a commit "
                                  "needs the full 40-character commit id");
    }
    args.push_back(ref.name);
    DC_RETURN_IF_ERROR(git.RunNetwork(dir, args, what).status());
    return ref.name;
  }
  if (CommitOf(git, dir, ref.name).ok()) return ref.name;  // already here: no network needed
  args.push_back("+refs/heads/*:refs/remotes/origin/*");
  args.push_back("+refs/tags/*:refs/tags/*");
  DC_RETURN_IF_ERROR(git.RunNetwork(dir, args, what).status());
  if (CommitOf(git, dir, ref.name).ok()) return ref.name;
  if (ref.name.size() == 40) {
    // Not on any branch or tag; servers that allow it serve the id directly.
    std::vector<std::string> by_id = {"fetch", "--progress", "--no-write-fetch-head", "origin",
                                      ref.name};
    DC_RETURN_IF_ERROR(git.RunNetwork(dir, by_id, what).status());
    return ref.name;
  }
  return NotFoundError("commit " + ref.name + " not found in " + s.remote.url);
}

Result<bool> IsAncestor(const GitRunner& git, const std::string& dir, const std::string& a,
                        const std::string& b) {
  DC_ASSIGN_OR_RETURN(ProcessResult r,
                      git.Run(dir, {"merge-base", "--is-ancestor", a, b}, "comparing", true));
  if (r.exit_code == 0 || r.exit_code == 1) return r.exit_code == 0;
  return InternalError("git merge-base failed in " + dir + ": " + r.stderr_data);
}

// Step 4. Returns a note for the status when the local branch is kept ahead of the remote.
Result<std::string> Checkout(const GitSession& s, const std::string& dir, const ResolvedRef& ref,
                             const std::string& commit) {
  const GitRunner& git = *s.git;
  std::string what = "checking out " + ref.name + " in " + dir;
  if (ref.kind != RefKind::kBranch) {
    DC_RETURN_IF_ERROR(git.Run(dir, {"checkout", "-q", "--detach", commit}, what).status());
    return std::string();
  }
  std::string local = "refs/heads/" + ref.name;
  auto have = CommitOf(git, dir, local);
  std::string note;
  if (!have.ok() || *have == commit) {
    DC_RETURN_IF_ERROR(git.Run(dir, {"checkout", "-q", "-B", ref.name, commit}, what).status());
  } else {
    DC_ASSIGN_OR_RETURN(bool behind, IsAncestor(git, dir, *have, commit));
    DC_ASSIGN_OR_RETURN(bool ahead, IsAncestor(git, dir, commit, *have));
    if (behind) {
      DC_RETURN_IF_ERROR(git.Run(dir, {"checkout", "-q", "-B", ref.name, commit}, what).status());
    } else if (ahead) {
      DC_RETURN_IF_ERROR(git.Run(dir, {"checkout", "-q", ref.name}, what).status());
      note = "local branch " + ref.name + " has commits that are not on the remote; kept them";
    } else {
      return FailedPreconditionError("local branch " + ref.name + " in " + dir +
                                     " has diverged from origin/" + ref.name +
                                     "; push or reset it before updating the clone");
    }
  }
  DC_RETURN_IF_ERROR(
      git.Run(dir, {"branch", "-q", "--set-upstream-to=origin/" + ref.name, ref.name}, what)
          .status());
  return note;
}

// Step 5.
Result<std::vector<LfsFile>> FetchAndVerifyLfs(const GitSession& s, const std::string& dir,
                                               const GitCommonOptions& o) {
  DC_ASSIGN_OR_RETURN(std::vector<LfsFile> files, ListLfsFiles(*s.git, dir, "HEAD"));
  if (files.empty()) return files;
  DC_RETURN_IF_ERROR(internal::CheckLfsEndpoints(s, dir));
  std::string git_dir = dir + "/.git";
  // The filter settings (no credentials, no hooks: hooks never run under datacube, and a hook
  // already in .git/hooks is not replaced) so that the user's own commits in this clone store
  // large files in LFS too.
  DC_RETURN_IF_ERROR(
      s.lfs_git
          ->Run(dir, {"lfs", "install", "--local", "--skip-repo"}, "enabling git-lfs in " + dir)
          .status());
  int attempts = std::max(1, o.retry.max_attempts);
  Status last;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    DC_RETURN_IF_ERROR(s.lfs_git
                           ->RunNetwork(dir, {"lfs", "pull", "origin"},
                                        "downloading LFS objects from " + s.remote.url)
                           .status());
    std::vector<const LfsFile*> bad;
    for (const auto& f : files) {
      Status v = VerifyLfsFile(dir, f);
      if (v.ok()) continue;
      if (v.code() != StatusCode::kDataLoss) return v;
      LogWarn(std::string(v.message()));
      last = v;
      bad.push_back(&f);
    }
    if (bad.empty()) return files;
    for (const LfsFile* f : bad) DC_RETURN_IF_ERROR(ResetLfsFile(dir, git_dir, *f));
  }
  return Status(last.code(), std::string(last.message()) + " (after " + std::to_string(attempts) +
                                 " downloads)");
}

std::string KindName(RefKind k) {
  switch (k) {
    case RefKind::kBranch:
      return "branch";
    case RefKind::kTag:
      return "tag";
    case RefKind::kCommit:
      return "commit";
    case RefKind::kOther:
      return "ref";
  }
  return "ref";
}

}  // namespace

Result<std::string> RepoDirIn(const std::string& parent, const std::string& url) {
  DC_ASSIGN_OR_RETURN(GitRemote remote, ParseGitRemote(url, ""));
  std::string base = parent;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  return base + "/" + remote.repo_name;
}

Result<GitCloneResult> CloneOrUpdate(const GitSourceOptions& o, const std::string& dir) {
  if (o.depth < 0) return InvalidArgumentError("git: depth must be 0 (full) or positive");
  if (dir.empty()) return InvalidArgumentError("git: no directory to clone into");
  std::error_code ec;
  std::string repo_dir = std::filesystem::absolute(dir, ec).lexically_normal().string();
  while (repo_dir.size() > 1 && repo_dir.back() == '/') repo_dir.pop_back();
  struct stat st;
  if (::lstat(repo_dir.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
    return FailedPreconditionError(
        repo_dir + (S_ISLNK(st.st_mode) ? " is a symbolic link" : " is not a directory") +
        "; clone into a real directory");
  }
  DC_RETURN_IF_ERROR(internal::CheckBeneathVolume(o.volume_root, repo_dir, true));
  DC_ASSIGN_OR_RETURN(GitSession s, internal::OpenSession(o));

  GitCloneResult result;
  result.repo_dir = repo_dir;
  result.url = s.remote.url;
  DC_ASSIGN_OR_RETURN(result.cloned, PrepareRepository(s, repo_dir));
  DC_ASSIGN_OR_RETURN(ResolvedRef ref, Resolve(s, repo_dir, o.ref));
  if (ref.fell_back) LogWarn(ref.message);
  DC_ASSIGN_OR_RETURN(std::string rev, Fetch(s, repo_dir, ref, o.depth));
  DC_ASSIGN_OR_RETURN(result.commit, CommitOf(*s.git, repo_dir, rev));
  DC_ASSIGN_OR_RETURN(std::string note, Checkout(s, repo_dir, ref, result.commit));
  DC_ASSIGN_OR_RETURN(result.shallow, IsShallow(*s.git, repo_dir));
  if (s.lfs) {
    DC_ASSIGN_OR_RETURN(std::vector<LfsFile> files, FetchAndVerifyLfs(s, repo_dir, o));
    for (const auto& f : files) {
      result.lfs_files.push_back({f.path, f.pointer.size, f.pointer.oid});
      result.lfs_bytes += f.pointer.size;
    }
  }
  result.kind = ref.kind;
  result.ref_name = ref.name;
  result.fell_back = ref.fell_back;
  result.message = std::string(result.cloned ? "cloned " : "updated ") + s.remote.url + " (" +
                   KindName(ref.kind) + " " + ref.name + ", commit " + result.commit.substr(0, 12) +
                   (result.shallow ? ", shallow" : "") + ")";
  if (!result.lfs_files.empty()) {
    result.message += "; " + std::to_string(result.lfs_files.size()) + " LFS files (" +
                      FormatBytes(result.lfs_bytes) + ") verified against their SHA-256";
  }
  if (ref.fell_back) result.message += "; " + ref.message;
  if (!note.empty()) result.message += "; " + note;
  return result;
}

}  // namespace datacube::git
