// Running a child program without a shell, with a deadline and a kill switch.
//
// Git, git-remote-https and git-lfs are separate processes; a transfer that is cancelled or runs
// past its deadline must not leave any of them behind. Each child therefore starts in a process
// group of its own (posix_spawn with POSIX_SPAWN_SETPGROUP) and is stopped by signalling the
// whole group: SIGTERM, a short grace period, then SIGKILL.
//
// Secrets never go into argv (which any local user can read through /proc/<pid>/cmdline); pass
// them in `env`, which only the same user and root can read.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "datacube/base/result.h"

namespace datacube::git {

struct ProcessOptions {
  // argv[0] is an absolute path or a program name looked up in the PATH of `env`.
  std::vector<std::string> argv;
  // The child's complete environment as "NAME=value" entries; nothing is inherited.
  std::vector<std::string> env;
  // Working directory of the child; empty = ours.
  std::string cwd;
  // Written to the child's stdin, which is then closed. Empty: stdin reads end-of-file.
  std::string stdin_data;
  // Kill the child when it has written nothing to stdout or stderr for this long (0 = never).
  // Commands that move data are run with progress output on, so silence means a stall.
  std::chrono::milliseconds stall_timeout{0};
  // Kill the child when it runs longer than this (0 = no limit).
  std::chrono::milliseconds timeout{0};
  // Kill the child when stop is requested.
  std::stop_token stop;
  // The child fails with kResourceExhausted when its stdout exceeds this many bytes.
  size_t max_stdout = size_t{256} << 20;
  // How much of the end of stderr is kept for error messages.
  size_t stderr_tail = size_t{64} << 10;
  // Called for each line (split at '\n' or '\r') the child writes to stderr, e.g. to log it.
  std::function<void(std::string_view line)> on_stderr_line;
  // Called once with the child's pid (also its process group id) right after it started.
  std::function<void(pid_t pid)> on_start;
};

struct ProcessResult {
  // The exit status, or -1 when the child ended by a signal.
  int exit_code = -1;
  int term_signal = 0;
  // Set when we killed the child; the reason is in the matching flag.
  bool stalled = false;
  bool timed_out = false;
  bool cancelled = false;
  std::string stdout_data;
  // The last ProcessOptions::stderr_tail bytes of stderr.
  std::string stderr_data;
  std::chrono::milliseconds elapsed{0};

  bool success() const { return exit_code == 0; }
};

// Starts the child, feeds stdin, collects stdout and stderr, and waits for it and its process
// group. Returns an error only when the child could not be started (kNotFound for a missing
// program, kInternal otherwise) or overflowed max_stdout; a child that ran and failed, stalled,
// timed out or was cancelled is a ProcessResult whose flags say so. On return no process of the
// child's group is left running.
Result<ProcessResult> RunProcess(const ProcessOptions& options);

// Finds `program` in the colon-separated `path`; empty when absent or not executable.
std::string FindInPath(const std::string& program, std::string_view path);

}  // namespace datacube::git
