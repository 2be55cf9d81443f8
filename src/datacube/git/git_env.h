// The environment every git child runs with.
//
// Nothing is inherited wholesale: the child gets PATH, HOME, proxies and TLS settings from the
// caller's environment lookup (a DataCube's executor.env applies without touching our own
// process environment), plus configuration passed as GIT_CONFIG_COUNT/KEY/VALUE variables. That
// configuration is never written to .git/config and never appears on a command line:
//   - credential.helper is reset (a user's "store" helper must not save our token) and a helper
//     scoped to the remote's URL prints the token from DATACUBE_GIT_TOKEN, and only when git asks
//     about exactly that host: a redirect to another host gets no credentials; once the server
//     refuses the token, the helper stops offering it (no retry storm);
//   - stall limits for git's HTTP layer and for git-lfs;
//   - the git-lfs filter, so LFS works without `git lfs install` having been run.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "datacube/git/git_remote.h"

namespace datacube::git {

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

struct GitEnvOptions {
  // Environment of the transfer (proxies, HOME, CA bundles); unset = the process environment.
  EnvLookup getenv;
  // Credentials are offered to this remote only; null = no credentials.
  const GitRemote* remote = nullptr;
  // Transfers slower than 1 byte/s for this long are aborted by git and git-lfs.
  std::chrono::seconds stall_timeout{300};
  // Configure the git-lfs filter (requires git-lfs on PATH).
  bool lfs = true;
  // Skip LFS downloads during checkout; LFS objects are then fetched and verified in a step of
  // their own.
  bool skip_smudge = true;
  // A CA bundle (PEM) for the server's certificate, in addition to GIT_SSL_CAINFO from env.
  std::string ca_file;
  // A path (that does not exist yet) where the credential helper records that the server refused
  // the token; from then on it offers no credentials, so nothing resubmits a wrong token. One per
  // operation. Empty: no marker.
  std::string rejected_marker;
  // More configuration for this operation only, e.g. {"safe.directory", dir}.
  std::vector<std::pair<std::string, std::string>> extra_config;
};

// Names of caller environment variables passed to git unchanged.
const std::vector<std::string>& PassThroughEnvNames();

// The child environment as "NAME=value" entries.
std::vector<std::string> BuildGitEnv(const GitEnvOptions& options);

// The credential helper script (a shell function run by git); it contains no secret.
std::string CredentialHelperScript();

}  // namespace datacube::git
