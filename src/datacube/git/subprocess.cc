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
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
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

Result<pid_t> Spawn(const ProcessOptions& o, const std::string& program, int in_fd, int out_fd,
                    int err_fd) {
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
  posix_spawn_file_actions_adddup2(&s.actions, in_fd, 0);
  posix_spawn_file_actions_adddup2(&s.actions, out_fd, 1);
  posix_spawn_file_actions_adddup2(&s.actions, err_fd, 2);
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
  std::string path = EnvValue(o.env, "PATH");
  if (path.empty()) path = "/usr/local/bin:/usr/bin:/bin";
  std::string program = FindInPath(o.argv[0], path);
  if (program.empty()) {
    return NotFoundError("program \"" + o.argv[0] + "\" not found in PATH (" + path + ")");
  }
  // stdin is a socket so that writing to a child that stopped reading fails with EPIPE
  // (MSG_NOSIGNAL) instead of raising SIGPIPE in our process.
  int in_pair[2], out_pipe[2], err_pipe[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_pair) != 0) {
    return ErrnoToStatus(errno, "socketpair");
  }
  Fd in_child(in_pair[0]), in_parent(in_pair[1]);
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return ErrnoToStatus(errno, "pipe");
  Fd out_parent(out_pipe[0]), out_child(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) return ErrnoToStatus(errno, "pipe");
  Fd err_parent(err_pipe[0]), err_child(err_pipe[1]);

  auto start = Clock::now();
  DC_ASSIGN_OR_RETURN(pid_t pid,
                      Spawn(o, program, in_child.get(), out_child.get(), err_child.get()));
  if (o.on_start) o.on_start(pid);
  in_child.Reset();
  out_child.Reset();
  err_child.Reset();
  if (o.stdin_data.empty())
    in_parent.Reset();
  else
    SetNonBlocking(in_parent.get());
  SetNonBlocking(out_parent.get());
  SetNonBlocking(err_parent.get());

  ProcessResult result;
  StderrCollector err(o);
  size_t in_off = 0;
  int wait_status = 0;
  bool reaped = false;
  bool overflow = false;
  auto last_output = start;
  std::optional<Clock::time_point> exited_at;
  char buf[65536];

  while (true) {
    if (!reaped && ::waitpid(pid, &wait_status, WNOHANG) == pid) {
      reaped = true;
      exited_at = Clock::now();
    }
    bool out_open = out_parent.get() >= 0, err_open = err_parent.get() >= 0;
    if (reaped && (!out_open && !err_open)) break;
    if (reaped && Clock::now() - *exited_at > kDrainAfterExit) break;  // grandchild holds a pipe

    auto now = Clock::now();
    bool kill = false;
    if (o.stop.stop_requested())
      kill = result.cancelled = true;
    else if (o.timeout.count() > 0 && now - start > o.timeout)
      kill = result.timed_out = true;
    else if (o.stall_timeout.count() > 0 && now - last_output > o.stall_timeout) {
      kill = result.stalled = true;
    } else if (overflow) {
      kill = true;
    }
    if (kill && !reaped) {
      KillGroup(pid, &wait_status, &reaped);
      break;
    }
    if (kill) break;

    pollfd fds[3];
    int n = 0;
    int out_idx = -1, err_idx = -1, in_idx = -1;
    if (out_open) {
      out_idx = n;
      fds[n++] = {out_parent.get(), POLLIN, 0};
    }
    if (err_open) {
      err_idx = n;
      fds[n++] = {err_parent.get(), POLLIN, 0};
    }
    if (in_parent.get() >= 0) {
      in_idx = n;
      fds[n++] = {in_parent.get(), POLLOUT, 0};
    }
    int rc = ::poll(fds, n, kPollMs);
    if (rc < 0 && errno != EINTR) break;
    if (rc <= 0) continue;
    if (out_idx >= 0 && fds[out_idx].revents) {
      ssize_t r = ::read(out_parent.get(), buf, sizeof buf);
      if (r > 0) {
        last_output = Clock::now();
        if (result.stdout_data.size() + r > o.max_stdout)
          overflow = true;
        else
          result.stdout_data.append(buf, r);
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        out_parent.Reset();
      }
    }
    if (err_idx >= 0 && fds[err_idx].revents) {
      ssize_t r = ::read(err_parent.get(), buf, sizeof buf);
      if (r > 0) {
        last_output = Clock::now();
        err.Add(std::string_view(buf, r));
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        err_parent.Reset();
      }
    }
    if (in_idx >= 0 && fds[in_idx].revents) {
      ssize_t w = ::send(in_parent.get(), o.stdin_data.data() + in_off,
                         o.stdin_data.size() - in_off, MSG_NOSIGNAL);
      if (w > 0) in_off += w;
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || in_off == o.stdin_data.size()) {
        in_parent.Reset();
      }
    }
  }
  if (!reaped) {
    // Only reached when poll failed; make sure nothing is left.
    KillGroup(pid, &wait_status, &reaped);
  }
  // Grandchildren that outlived the leader (and still held its pipes) are not left running.
  ::kill(-pid, SIGKILL);

  result.elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  result.stderr_data = err.Finish();
  if (WIFEXITED(wait_status)) {
    result.exit_code = WEXITSTATUS(wait_status);
  } else if (WIFSIGNALED(wait_status)) {
    result.exit_code = -1;
    result.term_signal = WTERMSIG(wait_status);
  }
  if (result.stalled || result.timed_out || result.cancelled) result.exit_code = -1;
  if (overflow) {
    return ResourceExhaustedError(o.argv[0] + " wrote more than " + std::to_string(o.max_stdout) +
                                  " bytes to stdout");
  }
  return result;
}

}  // namespace datacube::git
