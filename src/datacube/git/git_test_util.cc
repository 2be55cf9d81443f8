#include "datacube/git/git_test_util.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "datacube/crypto/sha256.h"
#include "datacube/git/lfs.h"

namespace datacube::git::testing {
namespace fs = std::filesystem;

namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

const std::string& SetupHome() {
  static const std::string home = [] {
    char tmpl[] = "/tmp/dc-git-home-XXXXXX";
    std::string h = ::mkdtemp(tmpl);
    std::ofstream(h + "/.gitconfig") << "[user]\n\tname = Test\n\temail = t@example.test\n"
                                        "[init]\n\tdefaultBranch = main\n"
                                        "[advice]\n\tdetachedHead = false\n";
    return h;
  }();
  return home;
}

}  // namespace

std::optional<GitServer> ServerFromEnv() {
  GitServer s;
  s.url = Env("DATACUBE_TEST_GIT_URL");
  s.host = Env("DATACUBE_TEST_GIT_HOST");
  s.token = Env("DATACUBE_TEST_GIT_TOKEN");
  s.ca = Env("DATACUBE_TEST_GIT_CA");
  s.repos = Env("DATACUBE_TEST_GIT_REPOS");
  s.lfs_root = Env("DATACUBE_TEST_GIT_LFS_ROOT");
  s.access_log = Env("DATACUBE_TEST_GIT_ACCESS_LOG");
  if (s.url.empty() || s.token.empty() || s.repos.empty()) return std::nullopt;
  return s;
}

std::string Sh(const std::string& command) {
  std::string out_file = SetupHome() + "/out." + std::to_string(::getpid());
  std::string full = "export HOME='" + SetupHome() +
                     "' GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0; set -e; " + command + " >'" +
                     out_file + "'";
  int rc = ::system(full.c_str());
  EXPECT_EQ(rc, 0) << "set-up command failed: " << command;
  std::string out = ReadAll(out_file);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string CommitToBare(const std::string& bare, const std::string& branch,
                         const std::string& text) {
  std::string work = bare + ".work";
  Sh("rm -rf '" + work + "' && git clone -q -b " + branch + " '" + bare + "' '" + work +
     "' && cd '" + work + "' && printf '%s\\n' '" + text +
     "' > README && git commit -qam 'README " + text + "' && git push -q origin " + branch);
  std::string sha = Sh("git -C '" + bare + "' rev-parse refs/heads/" + branch);
  Sh("rm -rf '" + work + "'");
  return sha;
}

FixtureRepo CreateFixtureRepository(const GitServer& server, const std::string& name) {
  FixtureRepo r;
  r.name = name;
  r.bare = server.repos + "/" + name + ".git";
  std::string work = server.repos + "/" + name + ".work";
  // 300 KB of deterministic bytes.
  std::string weights;
  uint64_t x = std::hash<std::string>{}(name) | 1;
  for (int i = 0; i < 300000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    weights.push_back(static_cast<char>(x));
  }
  r.weights = weights;
  r.weights_oid = crypto::Sha256Hex(weights);
  // The LFS object goes straight into the server's storage; git stores the pointer.
  std::string obj_dir = server.lfs_root + "/" + name + ".git/" + r.weights_oid.substr(0, 2);
  fs::create_directories(obj_dir);
  std::ofstream(obj_dir + "/" + r.weights_oid, std::ios::binary) << weights;
  std::string pointer = FormatLfsPointer({r.weights_oid, weights.size()});

  Sh("rm -rf '" + r.bare + "' '" + work + "' && git init -q --bare -b main '" + r.bare +
     "' && git -C '" + r.bare + "' config http.receivepack true && git init -q -b main '" + work +
     "'");
  std::ofstream(work + "/.gitattributes") << "*.bin filter=lfs diff=lfs merge=lfs -text\n";
  std::ofstream(work + "/weights.bin") << pointer;
  std::ofstream(work + "/README") << "v1\n";
  Sh("cd '" + work + "' && git add -A && git commit -qm c1 && git tag -a v1 -m 'release 1'");
  r.c1 = Sh("git -C '" + work + "' rev-parse HEAD");
  Sh("cd '" + work +
     "' && git checkout -qb dev && echo dev > dev.txt && git add dev.txt && "
     "git commit -qm dev && git checkout -q main && echo v2 > README && git commit -qam c2");
  r.c2 = Sh("git -C '" + work + "' rev-parse main");
  r.dev = Sh("git -C '" + work + "' rev-parse dev");
  Sh("cd '" + work + "' && git push -q --tags '" + r.bare + "' main dev && rm -rf '" + work + "'");
  return r;
}

GitSourceOptions SourceOptions(const GitServer& server, const std::string& repo_name) {
  GitSourceOptions o;
  o.url = server.url + "/" + repo_name + ".git";
  o.token = server.token;
  o.ca_file = server.ca;
  o.stall_timeout = std::chrono::seconds(20);
  o.retry.initial_delay = std::chrono::milliseconds(50);
  o.retry.max_delay = std::chrono::milliseconds(200);
  o.getenv = [](const std::string& n) -> std::optional<std::string> {
    if (n == "PATH") return std::string("/usr/local/bin:/usr/bin:/bin");
    if (n == "HOME") return SetupHome();
    return std::nullopt;
  };
  return o;
}

ArgvScanner::ArgvScanner(std::string needle) : needle_(std::move(needle)) {
  thread_ = std::thread([this] { Run(); });
}
ArgvScanner::~ArgvScanner() { Stop(); }
void ArgvScanner::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void ArgvScanner::Run() {
  while (!stop_) {
    // Processes come and go while /proc is read: every error just ends this pass (an exception
    // escaping this thread would abort the test).
    try {
      std::error_code ec;
      fs::directory_iterator it("/proc", ec), end;
      for (; !ec && it != end; it.increment(ec)) {
        std::string pid = it->path().filename();
        if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
        std::string cmd = ReadAll("/proc/" + pid + "/cmdline");
        if (cmd.empty()) continue;
        if (cmd.find(needle_) != std::string::npos) hits_.push_back(cmd);
        if (cmd.find("git") != std::string::npos) seen_.insert(pid + ":" + cmd);
      }
    } catch (const std::exception&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

std::vector<std::string> FilesContaining(const std::string& dir, const std::string& needle) {
  std::vector<std::string> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    if (ReadAll(it->path()).find(needle) != std::string::npos) out.push_back(it->path());
  }
  EXPECT_FALSE(ec) << "listing " << dir << ": " << ec.message();
  return out;
}

size_t FileSize(const std::string& path) {
  std::error_code ec;
  auto n = fs::file_size(path, ec);
  return ec ? 0 : n;
}

size_t CountLogLines(const std::string& log, size_t from, const std::string& needle,
                     const std::string& also) {
  std::string text = ReadAll(log);
  if (from > text.size()) from = text.size();
  std::istringstream in(text.substr(from));
  size_t n = 0;
  for (std::string line; std::getline(in, line);) {
    n += line.find(needle) != std::string::npos && line.find(also) != std::string::npos;
  }
  return n;
}

}  // namespace datacube::git::testing
