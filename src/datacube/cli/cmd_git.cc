// cp to and from git+https:// locations (git_copy.h).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "datacube/base/log.h"
#include "datacube/base/secret.h"
#include "datacube/base/units.h"
#include "datacube/cli/git_copy.h"
#include "datacube/engine/manifest.h"
#include "datacube/git/git_remote.h"
#include "datacube/git/git_transfer.h"

namespace datacube::cli {
namespace {

struct GitFlags {
  int depth = 0;
  bool no_lfs = false;
  std::string token_file;
  std::string branch;
  std::string username;
  std::string ca_file;
  std::string stall_timeout;
  std::string timeout;
};

constexpr off_t kMaxTokenFile = 64 << 10;

GitFlags& Flags() {
  static GitFlags flags;
  return flags;
}

std::string RemoteUrl(const Location& loc) {
  return std::string(loc.tls ? "https://" : "http://") + loc.authority + "/" + loc.repo;
}

// The token, from --git-token-file or DATACUBE_GIT_TOKEN. Only a final line break is dropped;
// any other control character is refused naming where the token came from.
Result<std::string> ReadToken() {
  const auto& f = Flags();
  std::string token;
  std::string source;
  if (!f.token_file.empty()) {
    source = "--git-token-file " + f.token_file;
    struct stat st;
    int fd = ::open(f.token_file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return ErrnoToStatus(errno, "--git-token-file: cannot read " + f.token_file);
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > kMaxTokenFile) {
      ::close(fd);
      return InvalidArgumentError("--git-token-file: " + f.token_file +
                                  " is not a regular file of at most 64 KiB");
    }
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0 && token.size() <= kMaxTokenFile) {
      token.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    if (token.empty())
      return InvalidArgumentError("--git-token-file: " + f.token_file + " is empty");
  } else if (const char* env = std::getenv("DATACUBE_GIT_TOKEN")) {
    source = "DATACUBE_GIT_TOKEN";
    token = env;
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  }
  RegisterSecretForRedaction(token);
  DC_RETURN_IF_ERROR(git::CheckCredentialText(source, token));
  return token;
}

// Settings shared by both directions.
Status FillCommon(const Location& remote, const TransferFlags& flags, std::stop_token stop,
                  git::GitCommonOptions* o) {
  const auto& f = Flags();
  o->url = RemoteUrl(remote);
  DC_ASSIGN_OR_RETURN(o->token, ReadToken());
  if (!f.username.empty())
    DC_RETURN_IF_ERROR(git::CheckCredentialText("--git-username", f.username));
  o->username = f.username;
  o->ca_file = f.ca_file;
  o->lfs = !f.no_lfs;
  o->retry.max_attempts = flags.retries;
  o->stop = stop;
  if (!f.stall_timeout.empty()) {
    DC_ASSIGN_OR_RETURN(o->stall_timeout,
                        git::ParseGitTimeout("--git-stall-timeout", f.stall_timeout));
  }
  if (!f.timeout.empty()) {
    DC_ASSIGN_OR_RETURN(o->timeout, git::ParseGitTimeout("--git-timeout", f.timeout));
  }
  return Status();
}

Result<std::string> LocalPath(const Location& loc) {
  if (loc.scheme == Scheme::kFile) return loc.path.empty() ? std::string(".") : loc.path;
  return storage::PvcLocalPath(loc, MakeStoreConfig());
}

// The PVC's own directory for a pvc:// location (the repository must stay beneath it); empty
// for a local path.
std::string VolumeRoot(const Location& loc, const std::string& path) {
  if (loc.scheme == Scheme::kFile) return "";
  if (loc.path.empty()) return path;
  return path.substr(0, path.size() - loc.path.size() - 1);
}

int Clone(const Location& src, const Location& dst, const TransferFlags& flags,
          std::stop_token stop) {
  git::GitSourceOptions o;
  Status s = FillCommon(src, flags, stop, &o);
  if (!s.ok()) return ReportError(s);
  o.ref = src.revision;
  o.depth = Flags().depth;
  auto dir = LocalPath(dst);
  if (!dir.ok()) return ReportError(dir.status());
  o.volume_root = VolumeRoot(dst, *dir);
  if (flags.dry_run) {
    std::printf("clone %s%s into %s\n", o.url.c_str(), o.ref.empty() ? "" : ("@" + o.ref).c_str(),
                dir->c_str());
    return kExitOk;
  }
  auto r = git::CloneOrUpdate(o, *dir);
  if (!r.ok()) return ReportError(r.status());
  if (!flags.manifest_out.empty()) {
    std::vector<engine::ManifestEntry> entries;
    for (const auto& f : r->lfs_files) entries.push_back({f.path, f.size, f.sha256});
    Status m = engine::WriteManifestFile(flags.manifest_out, std::move(entries));
    if (!m.ok()) return ReportError(m.WithContext("--manifest-out"));
  }
  if (!Globals().quiet) LogInfo(r->message);
  return kExitOk;
}

int Push(const Location& src, const Location& dst, const TransferFlags& flags,
         std::stop_token stop) {
  git::GitSinkOptions o;
  Status s = FillCommon(dst, flags, stop, &o);
  if (!s.ok()) return ReportError(s);
  o.branch = !Flags().branch.empty() ? Flags().branch : dst.revision;
  auto dir = LocalPath(src);
  if (!dir.ok()) return ReportError(dir.status());
  o.volume_root = VolumeRoot(src, *dir);
  if (flags.dry_run) {
    std::printf("push %s from %s to %s\n",
                o.branch.empty() ? "the current branch" : o.branch.c_str(), dir->c_str(),
                o.url.c_str());
    return kExitOk;
  }
  auto r = git::PushRepository(o, *dir);
  if (!r.ok()) return ReportError(r.status());
  if (!Globals().quiet) LogInfo(r->message);
  return kExitOk;
}

}  // namespace

void AddGitFlags(CLI::App& app) {
  auto& f = Flags();
  app.add_option("--depth", f.depth, "git: shallow clone with this many commits (default: full)")
      ->check(CLI::Range(1, INT_MAX));
  app.add_flag("--no-lfs", f.no_lfs, "git: do not fetch or push Git LFS files");
  app.add_option("--git-token-file", f.token_file,
                 "git: file holding the access token (default: env DATACUBE_GIT_TOKEN)");
  app.add_option("--git-branch", f.branch,
                 "git: local branch to push (default: the checked-out branch)");
  app.add_option("--git-username", f.username, "git: user name sent with the token (default git)");
  app.add_option("--git-ca-file", f.ca_file, "git: CA bundle (PEM) for the server certificate");
  app.add_option("--git-stall-timeout", f.stall_timeout,
                 "git: give up on a command with no progress for this long (1s to 24h, "
                 "default 5m)");
  app.add_option("--git-timeout", f.timeout,
                 "git: limit for each git command (1s to 24h, default none)");
}

int RunGitCopy(const Location& src, const Location& dst, const TransferFlags& flags,
               bool delete_extra, std::stop_token stop) {
  if (delete_extra) {
    return ReportError(InvalidArgumentError(
        "sync does not work with git repositories; use cp (it fetches and checks out, or "
        "pushes)"));
  }
  if (src.scheme == Scheme::kGit && dst.is_local()) return Clone(src, dst, flags, stop);
  if (src.is_local() && dst.scheme == Scheme::kGit) return Push(src, dst, flags, stop);
  return ReportError(
      InvalidArgumentError("git repositories are copied to or from a local path or pvc:// only (" +
                           src.ToString() + " -> " + dst.ToString() + ")"));
}

}  // namespace datacube::cli
