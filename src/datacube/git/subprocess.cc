#include "datacube/git/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

namespace datacube::git {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How long the group gets between SIGTERM and SIGKILL.
constexpr milliseconds kKillGrace{2000};
// Poll granularity: bounds how late a stop request or deadline is noticed.
constexpr int kPollMs = 50;
// After the child exited, how long grandchildren still holding its pipes may keep writing.
constexpr milliseconds kDrainAfterExit{1000};

// Owns a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void Reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// Owns posix_spawn's attribute and file-action objects.
struct SpawnSetup {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  SpawnSetup() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

std::string EnvValue(const std::vector<std::string>& env, std::string_view name) {
  for (const auto& e : env) {
    if (e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=') {
      return e.substr(name.size() + 1);
    }
  }
  return "";
}

void SetNonBlocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Signals the whole group, waits for the leader up to the grace period, then kills the group.
void KillGroup(pid_t pgid, int* wait_status, bool* reaped) {
  ::kill(-pgid, SIGTERM);
  auto deadline = Clock::now() + kKillGrace;
  while (!*reaped && Clock::now() < deadline) {
    if (::waitpid(pgid, wait_status, WNOHANG) == pgid)
      *reaped = true;
    else
      ::usleep(20'000);
  }
  ::kill(-pgid, SIGKILL);
  if (!*reaped && ::waitpid(pgid, wait_status, 0) == pgid) *reaped = true;
}

// Collects stderr, keeping only the tail and handing complete lines to the callback.
class StderrCollector {
 public:
  StderrCollector(const ProcessOptions& o) : options_(o) {}
  void Add(std::string_view data) {
    tail_.append(data);
    if (tail_.size() > 2 * options_.stderr_tail) {
      tail_.erase(0, tail_.size() - options_.stderr_tail);
    }
    if (!options_.on_stderr_line) return;
    line_.append(data);
    size_t start = 0;
    for (size_t i = 0; i < line_.size(); ++i) {
      if (line_[i] == '\n' || line_[i] == '\r') {
        if (i > start) options_.on_stderr_line(std::string_view(line_).substr(start, i - start));
        start = i + 1;
      }
    }
    line_.erase(0, start);
  }
  std::string Finish() {
    if (options_.on_stderr_line && !line_.empty()) options_.on_stderr_line(line_);
    if (tail_.size() > options_.stderr_tail) {
      tail_.erase(0, tail_.size() - options_.stderr_tail);
    }
    return std::move(tail_);
  }

 private:
  const ProcessOptions& options_;
  std::string tail_;
  std::string line_;
};

// The child's stdin, stdout and stderr: each a pair of descriptors, ours and the child's.
struct ChildPipes {
  Fd in_child, in_parent;
  Fd out_parent, out_child;
  Fd err_parent, err_child;

  // stdin is a socket so that writing to a child that stopped reading fails with EPIPE
  // (MSG_NOSIGNAL) instead of raising SIGPIPE in our process.
  Status Open() {
    int in_pair[2], out_pipe[2], err_pipe[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_pair) != 0) {
      return ErrnoToStatus(errno, "socketpair");
    }
    in_child.Reset(in_pair[0]);
    in_parent.Reset(in_pair[1]);
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) return ErrnoToStatus(errno, "pipe");
    out_parent.Reset(out_pipe[0]);
    out_child.Reset(out_pipe[1]);
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) return ErrnoToStatus(errno, "pipe");
    err_parent.Reset(err_pipe[0]);
    err_child.Reset(err_pipe[1]);
    return Status();
  }

  // Once the child runs: only it holds its ends (so end-of-file arrives when it exits), and ours
  // never block. Without stdin data the child reads end-of-file at once.
  void ChildStarted(bool feed_stdin) {
    in_child.Reset();
    out_child.Reset();
    err_child.Reset();
    if (feed_stdin)
      SetNonBlocking(in_parent.get());
    else
      in_parent.Reset();
    SetNonBlocking(out_parent.get());
    SetNonBlocking(err_parent.get());
  }
};

// Starts `program` in a process group of its own, with the child's ends of `pipes` as its stdin,
// stdout and stderr, default signal handling and nothing blocked.
Result<pid_t> Spawn(const ProcessOptions& o, const std::string& program, const ChildPipes& pipes) {
  SpawnSetup s;
  short flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  posix_spawnattr_setflags(&s.attr, flags);
  posix_spawnattr_setpgroup(&s.attr, 0);  // a new group led by the child
  sigset_t none, defaults;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&s.attr, &none);
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigdefault(&s.attr, &defaults);
  posix_spawn_file_actions_adddup2(&s.actions, pipes.in_child.get(), 0);
  posix_spawn_file_actions_adddup2(&s.actions, pipes.out_child.get(), 1);
  posix_spawn_file_actions_adddup2(&s.actions, pipes.err_child.get(), 2);
  // Descriptors other threads opened without O_CLOEXEC must not leak into git.
  posix_spawn_file_actions_addclosefrom_np(&s.actions, 3);
  if (!o.cwd.empty()) posix_spawn_file_actions_addchdir_np(&s.actions, o.cwd.c_str());

  std::vector<char*> argv, envp;
  for (const auto& a : o.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : o.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, program.c_str(), &s.actions, &s.attr, argv.data(), envp.data());
  if (rc != 0) return ErrnoToStatus(rc, "starting " + o.argv[0]);
  return pid;
}

// Moves bytes between us and a running child: feeds its stdin, collects its stdout (up to
// max_stdout) and stderr, and notes when it last wrote anything.
class ChildIo {
 public:
  // `start`: when the child was started, the stall timer's origin.
  ChildIo(const ProcessOptions& o, ChildPipes& pipes, ProcessResult& result,
          Clock::time_point start)
      : options_(o), pipes_(pipes), result_(result), stderr_(o), last_output_(start) {}

  bool output_open() const { return pipes_.out_parent.get() >= 0 || pipes_.err_parent.get() >= 0; }
  bool overflowed() const { return overflow_; }
  Clock::time_point last_output() const { return last_output_; }

  // Waits up to kPollMs for a pipe to be ready, then serves the ready ones. False when poll
  // failed.
  bool Pump() {
    pollfd fds[3];
    int n = 0;
    int out_idx = -1, err_idx = -1, in_idx = -1;
    if (pipes_.out_parent.get() >= 0) {
      out_idx = n;
      fds[n++] = {pipes_.out_parent.get(), POLLIN, 0};
    }
    if (pipes_.err_parent.get() >= 0) {
      err_idx = n;
      fds[n++] = {pipes_.err_parent.get(), POLLIN, 0};
    }
    if (pipes_.in_parent.get() >= 0) {
      in_idx = n;
      fds[n++] = {pipes_.in_parent.get(), POLLOUT, 0};
    }
    int rc = ::poll(fds, n, kPollMs);
    if (rc < 0 && errno != EINTR) return false;
    if (rc <= 0) return true;
    if (out_idx >= 0 && fds[out_idx].revents) ReadStdout();
    if (err_idx >= 0 && fds[err_idx].revents) ReadStderr();
    if (in_idx >= 0 && fds[in_idx].revents) WriteStdin();
    return true;
  }

  std::string FinishStderr() { return stderr_.Finish(); }

 private:
  void ReadStdout() {
    ssize_t r = ::read(pipes_.out_parent.get(), buf_, sizeof buf_);
    if (r > 0) {
      last_output_ = Clock::now();
      if (result_.stdout_data.size() + r > options_.max_stdout)
        overflow_ = true;
      else
        result_.stdout_data.append(buf_, r);
    } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
      pipes_.out_parent.Reset();
    }
  }

  void ReadStderr() {
    ssize_t r = ::read(pipes_.err_parent.get(), buf_, sizeof buf_);
    if (r > 0) {
      last_output_ = Clock::now();
      stderr_.Add(std::string_view(buf_, r));
    } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
      pipes_.err_parent.Reset();
    }
  }

  void WriteStdin() {
    const std::string& data = options_.stdin_data;
    ssize_t w = ::send(pipes_.in_parent.get(), data.data() + stdin_written_,
                       data.size() - stdin_written_, MSG_NOSIGNAL);
    if (w > 0) stdin_written_ += w;
    if ((w < 0 && errno != EAGAIN && errno != EINTR) || stdin_written_ == data.size()) {
      pipes_.in_parent.Reset();
    }
  }

  const ProcessOptions& options_;
  ChildPipes& pipes_;
  ProcessResult& result_;
  StderrCollector stderr_;
  size_t stdin_written_ = 0;
  bool overflow_ = false;
  Clock::time_point last_output_;
  char buf_[65536];
};

// Whether the child must be stopped now: a stop request, the overall timeout, a stall, or too
// much stdout. Sets the flag of `result` that says why (none for an overflow, which RunProcess
// reports as an error).
bool MustStop(const ProcessOptions& o, Clock::time_point start, const ChildIo& io,
              ProcessResult& result) {
  auto now = Clock::now();
  if (o.stop.stop_requested()) return result.cancelled = true;
  if (o.timeout.count() > 0 && now - start > o.timeout) return result.timed_out = true;
  if (o.stall_timeout.count() > 0 && now - io.last_output() > o.stall_timeout) {
    return result.stalled = true;
  }
  return io.overflowed();
}

// Serves the child's pipes until it has exited and closed them (or grandchildren kept them open
// past kDrainAfterExit), stopping its group when MustStop says so. Returns its wait status.
int Supervise(const ProcessOptions& o, pid_t pid, Clock::time_point start, ChildIo& io,
              ProcessResult& result) {
  int wait_status = 0;
  bool reaped = false;
  std::optional<Clock::time_point> exited_at;
  while (true) {
    if (!reaped && ::waitpid(pid, &wait_status, WNOHANG) == pid) {
      reaped = true;
      exited_at = Clock::now();
    }
    if (reaped && !io.output_open()) break;
    if (reaped && Clock::now() - *exited_at > kDrainAfterExit) break;  // grandchild holds a pipe
    if (MustStop(o, start, io, result)) {
      if (!reaped) KillGroup(pid, &wait_status, &reaped);
      break;
    }
    if (!io.Pump()) break;
  }
  if (!reaped) {
    // Only reached when poll failed; make sure nothing is left.
    KillGroup(pid, &wait_status, &reaped);
  }
  return wait_status;
}

// The exit code and signal of `wait_status`; -1 for a child we stopped.
void RecordExit(int wait_status, ProcessResult& result) {
  if (WIFEXITED(wait_status)) {
    result.exit_code = WEXITSTATUS(wait_status);
  } else if (WIFSIGNALED(wait_status)) {
    result.exit_code = -1;
    result.term_signal = WTERMSIG(wait_status);
  }
  if (result.stalled || result.timed_out || result.cancelled) result.exit_code = -1;
}

// argv[0] as a path to run: itself when it holds a '/', else found in the PATH of `env`.
Result<std::string> ResolveProgram(const ProcessOptions& o) {
  std::string path = EnvValue(o.env, "PATH");
  if (path.empty()) path = "/usr/local/bin:/usr/bin:/bin";
  std::string program = FindInPath(o.argv[0], path);
  if (program.empty()) {
    return NotFoundError("program \"" + o.argv[0] + "\" not found in PATH (" + path + ")");
  }
  return program;
}

}  // namespace

std::string FindInPath(const std::string& program, std::string_view path) {
  if (program.find('/') != std::string::npos) {
    return ::access(program.c_str(), X_OK) == 0 ? program : "";
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string_view::npos) end = path.size();
    std::string dir(path.substr(start, end - start));
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return "";
}

Result<ProcessResult> RunProcess(const ProcessOptions& o) {
  if (o.argv.empty()) return InvalidArgumentError("RunProcess: empty argv");
  DC_ASSIGN_OR_RETURN(std::string program, ResolveProgram(o));
  ChildPipes pipes;
  DC_RETURN_IF_ERROR(pipes.Open());

  auto start = Clock::now();
  DC_ASSIGN_OR_RETURN(pid_t pid, Spawn(o, program, pipes));
  if (o.on_start) o.on_start(pid);
  pipes.ChildStarted(!o.stdin_data.empty());

  ProcessResult result;
  ChildIo io(o, pipes, result, start);
  const int wait_status = Supervise(o, pid, start, io, result);
  // Grandchildren that outlived the leader (and still held its pipes) are not left running.
  ::kill(-pid, SIGKILL);

  result.elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  result.stderr_data = io.FinishStderr();
  RecordExit(wait_status, result);
  if (io.overflowed()) {
    return ResourceExhaustedError(o.argv[0] + " wrote more than " + std::to_string(o.max_stdout) +
                                  " bytes to stdout");
  }
  return result;
}

}  // namespace datacube::git
