// The environment and configuration every git child runs with.
//
// A clone in a volume may have been prepared by someone else, and git obeys a repository's own
// configuration: hooks, core.fsmonitor, filter and diff drivers, core.sshCommand, credential
// helpers and url rewrites can all start programs. Every git child therefore runs with:
//   - no inherited environment: PATH, HOME, proxies and TLS settings come from the caller's
//     environment lookup (a DataCube's executor.env applies without touching our own process
//     environment);
//   - no system or user configuration (GIT_CONFIG_NOSYSTEM, GIT_CONFIG_GLOBAL=/dev/null): only
//     what datacube passes and the repository's own file, which repo_guard.h vets first;
//   - command-line configuration (GIT_CONFIG_COUNT/KEY/VALUE, which wins over every file, and is
//     never written to .git/config or argv) that switches off everything that could run a
//     program: hooks (core.hooksPath=/dev/null), fsmonitor, ssh, pager, editors, askpass, the
//     git-lfs filter unless datacube enables it, and protocols other than https (and http when
//     the remote is http);
//   - credential.helper reset (a user's "store" helper must not save our token) and one helper
//     scoped to the remote's URL, which answers only when git asks about exactly that host, reads
//     the answer from a private file (0600 in a 0700 directory) and stops offering it once the
//     server refused it. The token is never in an environment variable: git hands its
//     environment to every child it starts (remote helpers, git-lfs, filters).
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
  // Credentials are offered to this remote only; null = no credentials. The remote's scheme
  // also decides whether http is allowed next to https.
  const GitRemote* remote = nullptr;
  // The private file holding the helper's answer ("username=...\npassword=...\n"), written by
  // the caller (git_session.h). Empty: no credential helper.
  std::string credential_file;
  // Transfers slower than 1 byte/s for this long are aborted by git and git-lfs.
  std::chrono::seconds stall_timeout{300};
  // Configure the git-lfs filter (requires git-lfs on PATH). Without it, the filter is switched
  // off even where the repository configures it.
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
  // More configuration for this operation only, e.g. {"remote.datacube-push.url", url}.
  std::vector<std::pair<std::string, std::string>> extra_config;
};

// Names of caller environment variables passed to git unchanged.
const std::vector<std::string>& PassThroughEnvNames();

// The configuration datacube passes to every git command (GIT_CONFIG_KEY/VALUE pairs).
std::vector<std::pair<std::string, std::string>> GitConfigOverrides(const GitEnvOptions& options);

// The child environment as "NAME=value" entries.
std::vector<std::string> BuildGitEnv(const GitEnvOptions& options);

// The credential helper (a shell function run by git, "!" prefixed) that answers `get` for
// `scheme`://`host` only, with the contents of `credential_file`; `erase` creates
// `rejected_marker` (when not empty), after which it answers nothing. It contains no secret.
std::string CredentialHelperScript(const std::string& scheme, const std::string& host,
                                   const std::string& credential_file,
                                   const std::string& rejected_marker);

// `s` as one single-quoted shell word.
std::string ShellQuote(const std::string& s);

}  // namespace datacube::git
