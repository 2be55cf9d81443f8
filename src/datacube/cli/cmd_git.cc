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
  DC_RETURN_IF_ERROR(transfer::CheckGitCredential(source, token));
  return token;
}

}  // namespace

Status FillGitOptions(const TransferFlags& flags, transfer::GitOptions* o) {
  const auto& f = Flags();
  DC_ASSIGN_OR_RETURN(o->token, ReadToken());
  if (!f.username.empty()) {
    DC_RETURN_IF_ERROR(transfer::CheckGitCredential("--git-username", f.username));
  }
  o->username = f.username;
  o->ca_file = f.ca_file;
  o->lfs = !f.no_lfs;
  o->depth = f.depth;
  o->branch = f.branch;
  if (!f.stall_timeout.empty()) {
    DC_ASSIGN_OR_RETURN(o->stall_timeout,
                        transfer::ParseGitTimeLimit("--git-stall-timeout", f.stall_timeout));
  }
  if (!f.timeout.empty()) {
    DC_ASSIGN_OR_RETURN(o->timeout, transfer::ParseGitTimeLimit("--git-timeout", f.timeout));
  }
  (void)flags;  // --retries reaches git through the transfer options
  return Status();
}

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

}  // namespace datacube::cli
