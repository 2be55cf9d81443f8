// The DataCube git source and sink (docs/git.md, docs/datacube-spec.md): clone or update a
// repository in a volume,
// and push a repository from a volume. This is the entry point for `datacube run` and for
// `datacube cp git+https://...`.
//
// Both operations run the git CLI (and git-lfs) without a shell; see docs/git.md for why, and
// for the guarantees:
//   - the token never reaches argv, any environment, .git/config, the stored remote URL, logs,
//     errors or results: it is stripped from the URL, registered for redaction (with its encoded
//     forms), and handed to git by a credential helper that reads it from a private file;
//   - nothing a repository found in the volume says can run a program: hooks, fsmonitor, ssh,
//     pagers, editors and foreign filters are switched off on every command line, and a
//     repository whose configuration holds anything else that could (url rewrites, includes,
//     drivers, helpers...) is refused before git runs in it (repo_guard.h);
//   - every LFS file of the checked-out commit is hashed and compared with its SHA-256 oid;
//   - transient network failures are retried with backoff; a wrong token is not;
//   - a stall (no progress for `stall_timeout`), the overall `timeout` or the stop token kill the
//     git child and everything it started (its process group).
//
// Thread-safety: the functions may run concurrently on different directories.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "datacube/base/result.h"
#include "datacube/git/git_env.h"
#include "datacube/git/git_refs.h"
#include "datacube/retry/retry.h"

namespace datacube::git {

// Settings both directions share. The token and user name must be single lines of printable
// characters (CheckCredentialText in git_remote.h).
struct GitCommonOptions {
  // https://[TOKEN@]host/owner/repo.git, as in the DataCube `url` option. User information is
  // stripped (see git_remote.h).
  std::string url;
  // The DataCube `token` option; wins over a token embedded in `url`. May be empty (public repo).
  std::string token;
  // HTTP user name sent with the token; empty = the one in `url`, else "git".
  std::string username;
  // Fetch/push LFS objects with git-lfs and verify them (DataCube option `lfs`, default true).
  bool lfs = true;
  // Extra CA bundle (PEM) for the server certificate (option `ca-file`); GIT_SSL_CAINFO from the
  // environment also works.
  std::string ca_file;
  // A git command that makes no progress for this long is killed and retried (option
  // `stall-timeout`). Also the "unreachable host" limit.
  std::chrono::seconds stall_timeout{300};
  // Limit for each git command (option `timeout`; 0 = none). activeDeadlineSeconds is enforced
  // through `stop` instead.
  std::chrono::seconds timeout{0};
  // Attempts for network commands (option `retries`).
  RetryPolicy retry{4, std::chrono::milliseconds(500), std::chrono::milliseconds(15'000), 0.5};
  // Environment of the transfer: proxies (HTTPS_PROXY, NO_PROXY...), HOME, GIT_SSL_CAINFO. Unset =
  // the process environment. A DataCube's executor.env goes here.
  EnvLookup getenv;
  // Cancels the transfer; unset = CurrentStopToken().
  std::stop_token stop;
  // The volume (a PVC's directory) the repository directory lies in, or empty. Every directory
  // between it and the repository must be a real directory: a symbolic link planted in the
  // volume would otherwise take the clone (or the push's source) outside it. The directories are
  // created one by one beneath it, never through a link.
  std::string volume_root;
  // Test hook: called with the pid of every git child started.
  std::function<void(pid_t)> on_child_start;
};

struct GitSourceOptions : GitCommonOptions {
  // Branch, tag, commit id (7-40 hex) or full ref name (option `ref`). Empty means "master";
  // "master" that the remote lacks falls back to the remote's default branch (and says so in
  // GitCloneResult::message).
  std::string ref;
  // Shallow clone with this many commits (option `depth`, 1 to 2147483647); 0 = full history
  // (the option left out).
  int depth = 0;
};

struct LfsFileInfo {
  std::string path;  // relative to the repository directory
  uint64_t size = 0;
  std::string sha256;
};

struct GitCloneResult {
  std::string repo_dir;
  std::string url;     // token-free
  std::string commit;  // the checked-out commit id
  RefKind kind = RefKind::kBranch;
  std::string ref_name;  // "main", "v1.0", or the commit id as given
  bool cloned = false;   // true: new clone; false: an existing clone was fetched and updated
  bool shallow = false;
  bool fell_back = false;
  // One line for status messages: what was checked out, and the fallback note if any.
  std::string message;
  std::vector<LfsFileInfo> lfs_files;  // verified LFS files
  uint64_t lfs_bytes = 0;
};

// Clones `url` into `repo_dir` (created if missing; must be empty or hold a clone of the same
// repository), or, when it already holds one, fetches and checks out `ref`. A local branch is
// fast-forwarded; a local branch that is ahead is kept, one that diverged is kFailedPrecondition,
// as are local modifications of tracked files. Errors: kInvalidArgument (options), kNotFound
// (repository or ref), kUnauthenticated ("authentication failed for HOST"), kPermissionDenied,
// kDataLoss (an LFS file does not match its oid after the retries), kDeadlineExceeded,
// kUnavailable, kCancelled. No message contains the token.
Result<GitCloneResult> CloneOrUpdate(const GitSourceOptions& options, const std::string& repo_dir);

struct GitSinkOptions : GitCommonOptions {
  // Local branch to push to the branch of the same name (option `branch`); empty = the checked-out
  // branch.
  std::string branch;
};

struct GitPushResult {
  std::string repo_dir;
  std::string url;  // token-free
  std::string branch;
  std::string commit;       // the pushed commit id
  bool up_to_date = false;  // the remote already had it
  std::string message;
};

// Pushes `branch` of the repository at `dir` to `url` (LFS objects first, through git-lfs).
// `dir` may be the repository itself or, as a DataCube git download lays it out, a directory
// holding the repository under the name of the repository in `url` (".../dev/git/" + "repo").

// The repository's own remotes are not used or changed. A push the server refuses
// (non-fast-forward, protected branch, hook) is kFailedPrecondition quoting the server's words.
Result<GitPushResult> PushRepository(const GitSinkOptions& options, const std::string& dir);

// The directory the DataCube source clones into: `parent/<repository name from url>`, so that a
// download and an upload with the same url and PVC path meet (the sink pushes that directory).
Result<std::string> RepoDirIn(const std::string& parent, const std::string& url);

// Limits of the `timeout` and `stall-timeout` options (and the --git-timeout and
// --git-stall-timeout flags): below a second a git command cannot even start; beyond a day a
// limit means nothing.
inline constexpr std::chrono::milliseconds kMinGitTimeout{1000};
inline constexpr std::chrono::milliseconds kMaxGitTimeout{24LL * 3600 * 1000};

// Parses a duration for a git time limit; errors (kInvalidArgument) start with `what` (the option
// or flag name) and give the accepted range.
Result<std::chrono::seconds> ParseGitTimeout(std::string_view what, std::string_view text);

// Whether `value` is acceptable for the DataCube git option `name` (either direction): the
// check GitSourceOptionsFromMap and GitSinkOptionsFromMap apply to every value, for
// `validate-cube` to use on literal values. Unknown names are accepted here (the caller knows the
// option table). Errors name the option and never quote a token.
Status CheckGitOptionValue(std::string_view name, const std::string& value);

// Builds options from DataCube options by name: url (required), token, ref, depth, lfs
// ("true"/"false"), username, ca-file, stall-timeout and timeout (durations from 1s to 24h,
// e.g. "30s"), retries (1 to 100). Unknown names are kInvalidArgument naming the option. `getenv`
// and `stop` are left for the caller.
Result<GitSourceOptions> GitSourceOptionsFromMap(const std::map<std::string, std::string>& opts);
// The same for the sink: url (required), token, branch, lfs, username, ca-file, stall-timeout,
// timeout, retries.
Result<GitSinkOptions> GitSinkOptionsFromMap(const std::map<std::string, std::string>& opts);

}  // namespace datacube::git
