// Runs git subcommands for one transfer: the environment, timeouts, cancellation, logging and
// retries that every call shares, and the mapping of failures to Status (git_errors.h).
//
// Local commands (rev-parse, checkout, ...) run once. Network commands (ls-remote, fetch, push,
// lfs pull/push) are retried with backoff while the failure is transient (kUnavailable,
// kDeadlineExceeded from a stall, kDataLoss from a corrupt LFS download); a wrong token or a
// rejected push fails at once.
//
// Thread-compatible: one runner per transfer.
#pragma once

#include <chrono>
#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "datacube/base/result.h"
#include "datacube/git/subprocess.h"
#include "datacube/retry/retry.h"

namespace datacube::git {

struct GitRunnerOptions {
  // Child environment (git_env.h).
  std::vector<std::string> env;
  // The git program; a name is looked up in the PATH of `env`.
  std::string git = "git";
  // host[:port] of the remote, for messages.
  std::string host;
  std::chrono::milliseconds stall_timeout{std::chrono::minutes(5)};
  // Limit for one git command (0 = none).
  std::chrono::milliseconds timeout{0};
  RetryPolicy retry;
  std::stop_token stop;
  // Called with the pid of every git child we start (tests read its /proc/<pid>/cmdline).
  std::function<void(pid_t)> on_child_start;
};

class GitRunner {
 public:
  explicit GitRunner(GitRunnerOptions options) : options_(std::move(options)) {}

  // Runs `git -C dir --git-dir=dir/.git --work-tree=dir ARGS` once (plain `git ARGS` when `dir`
  // is empty). `action` names the step in errors ("checking out main"). A
  // non-zero exit is returned as a classified Status unless `allow_failure`, in which case the
  // ProcessResult is returned as is.
  Result<ProcessResult> Run(const std::string& dir, const std::vector<std::string>& args,
                            const std::string& action, bool allow_failure = false,
                            const std::string& stdin_data = "") const;

  // Runs a command that talks to the remote, with the stall watchdog and retries.
  Result<ProcessResult> RunNetwork(const std::string& dir, const std::vector<std::string>& args,
                                   const std::string& action,
                                   const std::vector<std::string>& extra_env = {}) const;

  // First line of stdout, trimmed, or the error.
  Result<std::string> Output(const std::string& dir, const std::vector<std::string>& args,
                             const std::string& action) const;

  const GitRunnerOptions& options() const { return options_; }

 private:
  Result<ProcessResult> RunOnce(const std::string& dir, const std::vector<std::string>& args,
                                const std::string& action, bool network,
                                const std::string& stdin_data,
                                const std::vector<std::string>& extra_env) const;

  GitRunnerOptions options_;
};

}  // namespace datacube::git
