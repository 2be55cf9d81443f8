#include "datacube/transfer/git_job.h"

#include <filesystem>
#include <fstream>

#include "datacube/crypto/sha256.h"
#include "datacube/engine/manifest.h"
#include "datacube/git/git_remote.h"
#include "datacube/git/git_transfer.h"
#include "datacube/transfer/registry.h"

namespace datacube::transfer {
namespace {

namespace fs = std::filesystem;

std::string RemoteUrl(const Location& loc) {
  return std::string(loc.tls ? "https://" : "http://") + loc.authority + "/" + loc.repo;
}

// The local directory of a file or pvc:// location, and the PVC's own directory (the repository
// may not leave it through a symbolic link; empty for a plain local path).
struct LocalSide {
  std::string dir;
  std::string volume_root;
};

Result<LocalSide> ResolveLocalSide(const Location& loc, const StoreConfig& config) {
  LocalSide side;
  if (loc.scheme == Scheme::kFile) {
    side.dir = loc.path.empty() ? std::string(".") : loc.path;
    return side;
  }
  DC_ASSIGN_OR_RETURN(side.dir, PvcLocalPath(loc, config));
  side.volume_root =
      loc.path.empty() ? side.dir : side.dir.substr(0, side.dir.size() - loc.path.size() - 1);
  return side;
}

// A DataCube's layout: the repository is <local path>/<repository name>, and that directory must
// not be a link out of the volume either, so it is resolved through the PVC jail again.
Result<std::string> CubeRepoDir(const Location& local, const LocalSide& side,
                                const StoreConfig& config, const std::string& url) {
  DC_ASSIGN_OR_RETURN(std::string repo_dir, git::RepoDirIn(side.dir, url));
  if (local.scheme != Scheme::kPvc) return repo_dir;
  Location repo_loc = local;
  std::string name = repo_dir.substr(repo_dir.rfind('/') + 1);
  while (!repo_loc.path.empty() && repo_loc.path.back() == '/') repo_loc.path.pop_back();
  repo_loc.path += (repo_loc.path.empty() ? "" : "/") + name;
  return PvcLocalPath(repo_loc, config);
}

// Common settings from the typed options (the command line).
void FillTyped(const Location& remote, const JobOptions& options, git::GitCommonOptions* o) {
  const GitOptions& g = options.git;
  o->url = RemoteUrl(remote);
  o->token = g.token;
  o->username = g.username;
  o->ca_file = g.ca_file;
  o->lfs = g.lfs;
  o->retry.max_attempts = options.transfer.retry.max_attempts;
  if (g.stall_timeout) o->stall_timeout = *g.stall_timeout;
  if (g.timeout) o->timeout = *g.timeout;
}

Result<JobReport> Clone(const Location& src, const Location& dst, const JobOptions& options,
                        std::stop_token stop) {
  const bool cube = options.git.cube_options.has_value();
  git::GitSourceOptions o;
  if (cube) {
    DC_ASSIGN_OR_RETURN(o, git::GitSourceOptionsFromMap(*options.git.cube_options));
    o.getenv = options.config.getenv;
  } else {
    FillTyped(src, options, &o);
    o.ref = src.revision;
    o.depth = options.git.depth;
  }
  o.stop = stop;
  DC_ASSIGN_OR_RETURN(LocalSide side, ResolveLocalSide(dst, options.config));
  o.volume_root = side.volume_root;
  std::string repo_dir = side.dir;
  if (cube) {
    DC_ASSIGN_OR_RETURN(repo_dir, CubeRepoDir(dst, side, options.config, o.url));
  }
  JobReport report;
  report.route = Route::kGitClone;
  if (options.transfer.dry_run) {
    report.message = "clone " + o.url + (o.ref.empty() ? "" : "@" + o.ref) + " into " + repo_dir;
    return report;
  }
  DC_ASSIGN_OR_RETURN(git::GitCloneResult r, git::CloneOrUpdate(o, repo_dir));
  report.message = r.message;
  report.commit = r.commit;
  for (const auto& f : r.lfs_files) {
    report.transfer.files.push_back({f.path, FileAction::kCopied, f.size, f.sha256, Status()});
  }
  if (options.summarize_local_side) {
    DC_ASSIGN_OR_RETURN(report.summary, AsDigest(WorkingTreeDigest(r.repo_dir)));
  }
  return report;
}

Result<JobReport> Push(const Location& src, const Location& dst, const JobOptions& options,
                       std::stop_token stop) {
  const bool cube = options.git.cube_options.has_value();
  git::GitSinkOptions o;
  if (cube) {
    DC_ASSIGN_OR_RETURN(o, git::GitSinkOptionsFromMap(*options.git.cube_options));
    o.getenv = options.config.getenv;
  } else {
    FillTyped(dst, options, &o);
    o.branch = !options.git.branch.empty() ? options.git.branch : dst.revision;
  }
  o.stop = stop;
  DC_ASSIGN_OR_RETURN(LocalSide side, ResolveLocalSide(src, options.config));
  o.volume_root = side.volume_root;
  JobReport report;
  report.route = Route::kGitPush;
  if (options.transfer.dry_run) {
    report.message = "push " + (o.branch.empty() ? std::string("the current branch") : o.branch) +
                     " from " + side.dir + " to " + o.url;
    return report;
  }
  DC_ASSIGN_OR_RETURN(git::GitPushResult r, git::PushRepository(o, side.dir));
  report.message = r.message;
  report.commit = r.commit;
  if (options.summarize_local_side) {
    DC_ASSIGN_OR_RETURN(report.summary, AsDigest(WorkingTreeDigest(r.repo_dir)));
  }
  return report;
}

}  // namespace

Result<LocalSummary> WorkingTreeDigest(const std::string& dir) {
  std::vector<ManifestEntry> entries;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, ec), end;
  if (ec) return ErrnoToStatus(ec.value(), "listing " + dir);
  std::vector<char> buffer(1 << 20);
  for (; it != end; it.increment(ec)) {
    if (ec) return ErrnoToStatus(ec.value(), "listing " + dir);
    if (it.depth() == 0 && it->path().filename() == ".git") {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
    std::ifstream in(it->path(), std::ios::binary);
    if (!in) return ErrnoToStatus(errno, "reading " + it->path().string());
    crypto::Sha256 hasher;
    uint64_t size = 0;
    while (in) {
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      std::streamsize n = in.gcount();
      if (n <= 0) break;
      hasher.Update(std::string_view(buffer.data(), static_cast<size_t>(n)));
      size += static_cast<uint64_t>(n);
    }
    entries.push_back({fs::relative(it->path(), dir).generic_string(), size, hasher.FinishHex()});
  }
  LocalSummary s;
  s.files = entries.size();
  for (const auto& e : entries) s.bytes += e.size;
  s.manifest_digest = "sha256:" + engine::ManifestDigest(std::move(entries));
  return s;
}

Result<JobReport> RunGitJob(const Location& source, const Location& sink, const JobOptions& options,
                            std::stop_token stop) {
  if (options.transfer.delete_extra) {
    return InvalidArgumentError(
        "sync does not work with git repositories; use cp (it fetches and checks out, or "
        "pushes)");
  }
  if (source.scheme == Scheme::kGit && sink.is_local()) return Clone(source, sink, options, stop);
  if (source.is_local() && sink.scheme == Scheme::kGit) return Push(source, sink, options, stop);
  return InvalidArgumentError(
      "git repositories are copied to or from a local path or pvc:// only (" + source.ToString() +
      " -> " + sink.ToString() + ")");
}

}  // namespace datacube::transfer
