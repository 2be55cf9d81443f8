#include "datacube/git/git_runner.h"

#include "datacube/base/log.h"
#include "datacube/base/secret.h"
#include "datacube/base/units.h"
#include "datacube/git/git_errors.h"

namespace datacube::git {
namespace {

std::string FirstLine(std::string_view s) {
  size_t nl = s.find('\n');
  std::string line(s.substr(0, nl));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

// Progress meters are refreshed many times a second; the log gets the other lines.
bool IsMeter(std::string_view line) {
  return line.find('%') != std::string_view::npos &&
         (line.find('(') != std::string_view::npos || line.find('|') != std::string_view::npos);
}

// `git [-C DIR --git-dir=DIR/.git --work-tree=DIR] ARGS`. The explicit directories keep git from
// searching parent directories for a repository or following a "gitdir:" file.
std::vector<std::string> Argv(const std::string& git, const std::string& dir,
                              const std::vector<std::string>& args) {
  std::vector<std::string> argv = {git};
  if (!dir.empty()) {
    argv.insert(argv.end(), {"-C", dir, "--git-dir=" + dir + "/.git", "--work-tree=" + dir});
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

}  // namespace

Result<ProcessResult> GitRunner::RunOnce(const std::string& dir,
                                         const std::vector<std::string>& args,
                                         const std::string& action, bool network,
                                         const std::string& stdin_data,
                                         const std::vector<std::string>& extra_env) const {
  ProcessOptions p;
  p.argv = Argv(options_.git, dir, args);
  p.env = options_.env;
  p.env.insert(p.env.end(), extra_env.begin(), extra_env.end());
  p.stdin_data = stdin_data;
  p.stop = options_.stop;
  p.timeout = options_.timeout;
  if (network) p.stall_timeout = options_.stall_timeout;
  p.on_start = options_.on_child_start;
  p.on_stderr_line = [](std::string_view line) {
    if (!IsMeter(line)) LogDebug("git: " + Redact(line));
  };
  LogDebug("running git " + Redact(args.empty() ? "" : args[0]) + " (" + action + ")");
  DC_ASSIGN_OR_RETURN(ProcessResult r, RunProcess(p));
  if (r.success()) return r;
  GitFailureContext c{action, options_.host,
                      FormatDuration(std::chrono::duration_cast<std::chrono::milliseconds>(
                          options_.stall_timeout))};
  // `git push --porcelain` reports rejected refs on stdout.
  ProcessResult for_errors = r;
  for_errors.stderr_data += "\n" + r.stdout_data.substr(0, 16 << 10);
  return ClassifyGitFailure(for_errors, c);
}

Result<ProcessResult> GitRunner::Run(const std::string& dir, const std::vector<std::string>& args,
                                     const std::string& action, bool allow_failure,
                                     const std::string& stdin_data) const {
  if (!allow_failure) return RunOnce(dir, args, action, false, stdin_data, {});
  ProcessOptions p;
  p.argv = Argv(options_.git, dir, args);
  p.env = options_.env;
  p.stdin_data = stdin_data;
  p.stop = options_.stop;
  p.timeout = options_.timeout;
  p.on_start = options_.on_child_start;
  return RunProcess(p);
}

Result<ProcessResult> GitRunner::RunNetwork(const std::string& dir,
                                            const std::vector<std::string>& args,
                                            const std::string& action,
                                            const std::vector<std::string>& extra_env) const {
  Result<ProcessResult> last = UnknownError("not run");
  Status s = RetryStatus(
      options_.retry, options_.stop,
      [&](int) {
        last = RunOnce(dir, args, action, true, "", extra_env);
        return last.status();
      },
      nullptr,
      [&](int attempt, const Status& error, std::chrono::milliseconds delay) {
        LogWarn("retrying after attempt " + std::to_string(attempt) + " failed: " +
                Redact(error.message()) + " (next try in " + FormatDuration(delay) + ")");
      });
  if (!s.ok()) return s;
  return last;
}

Result<std::string> GitRunner::Output(const std::string& dir, const std::vector<std::string>& args,
                                      const std::string& action) const {
  DC_ASSIGN_OR_RETURN(ProcessResult r, Run(dir, args, action));
  return FirstLine(r.stdout_data);
}

}  // namespace datacube::git
