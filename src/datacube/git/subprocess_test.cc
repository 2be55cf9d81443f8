#include "datacube/git/subprocess.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace datacube::git {
namespace {

using namespace std::chrono_literals;

ProcessOptions Sh(const std::string& script) {
  ProcessOptions o;
  o.argv = {"sh", "-c", script};
  o.env = {"PATH=/usr/bin:/bin"};
  return o;
}

// True while a process of group `pgid` is running (zombies waiting for init to reap them do not
// count: they hold no resources and run no code).
bool GroupAlive(pid_t pgid) {
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    std::ifstream in(e.path() / "stat");
    std::string stat;
    if (!std::getline(in, stat)) continue;
    size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    char state;
    long ppid, pgrp;
    if (rest >> state >> ppid >> pgrp && pgrp == pgid && state != 'Z') return true;
  }
  return false;
}

TEST(Subprocess, CollectsOutputAndExitCode) {
  auto o = Sh("echo out; echo err >&2; exit 3");
  auto r = RunProcess(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->stdout_data, "out\n");
  EXPECT_EQ(r->stderr_data, "err\n");
}

TEST(Subprocess, FeedsStdinLargerThanAPipe) {
  ProcessOptions o;
  o.argv = {"wc", "-c"};
  o.env = {"PATH=/usr/bin:/bin"};
  o.stdin_data = std::string(1 << 20, 'x');
  auto r = RunProcess(o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::stoul(r->stdout_data), 1u << 20);
}

TEST(Subprocess, EnvironmentIsExactlyWhatWasGiven) {
  auto o = Sh("env");
  o.env.push_back("ONLY_THIS=1");
  auto r = RunProcess(o);
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->stdout_data.find("ONLY_THIS=1"), std::string::npos);
  EXPECT_EQ(r->stdout_data.find("HOME="), std::string::npos);
}

TEST(Subprocess, MissingProgramIsNotFound) {
  ProcessOptions o;
  o.argv = {"no-such-program-datacube"};
  o.env = {"PATH=/usr/bin:/bin"};
  auto r = RunProcess(o);
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

TEST(Subprocess, StallKillsTheWholeGroup) {
  // The child starts a grandchild that would outlive it; both must be gone afterwards.
  auto o = Sh("sleep 30 & sleep 30");
  o.stall_timeout = 300ms;
  pid_t pgid = 0;
  o.on_start = [&](pid_t p) { pgid = p; };
  auto start = std::chrono::steady_clock::now();
  auto r = RunProcess(o);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->stalled);
  EXPECT_FALSE(r->success());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  ASSERT_GT(pgid, 0);
  EXPECT_FALSE(GroupAlive(pgid));
}

TEST(Subprocess, OutputKeepsAStalledWatchdogQuiet) {
  auto o = Sh("for i in 1 2 3 4 5 6; do echo tick >&2; sleep 0.1; done");
  o.stall_timeout = 400ms;
  auto r = RunProcess(o);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->stalled);
  EXPECT_EQ(r->exit_code, 0);
}

TEST(Subprocess, StopTokenCancelsPromptly) {
  std::stop_source stop;
  auto o = Sh("sleep 30");
  o.stop = stop.get_token();
  pid_t pgid = 0;
  o.on_start = [&](pid_t p) { pgid = p; };
  std::jthread canceller([&] {
    std::this_thread::sleep_for(200ms);
    stop.request_stop();
  });
  auto start = std::chrono::steady_clock::now();
  auto r = RunProcess(o);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->cancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
  EXPECT_FALSE(GroupAlive(pgid));
}

TEST(Subprocess, OverallTimeout) {
  auto o = Sh("while true; do echo busy; sleep 0.05; done");
  o.timeout = 300ms;
  auto r = RunProcess(o);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->timed_out);
}

TEST(Subprocess, StderrLinesAreReported) {
  auto o = Sh("printf 'a\\rb\\nc' >&2");
  std::vector<std::string> lines;
  o.on_stderr_line = [&](std::string_view l) { lines.emplace_back(l); };
  ASSERT_TRUE(RunProcess(o).ok());
  EXPECT_EQ(lines, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(Subprocess, FindInPath) {
  EXPECT_EQ(FindInPath("sh", "/nonexistent:/bin"), "/bin/sh");
  EXPECT_EQ(FindInPath("no-such-program-datacube", "/bin:/usr/bin"), "");
}

}  // namespace
}  // namespace datacube::git
