// Helpers for the git integration tests: the test server from testing/servers/git.sh, fixture
// repositories written straight on disk (no token needed to set them up, so the only processes
// that ever hold the token are the ones under test), and a scanner of every process's argv.
#pragma once

#include <atomic>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "datacube/git/git_transfer.h"

namespace datacube::git::testing {

struct GitServer {
  std::string url;   // https://127.0.0.1:PORT
  std::string host;  // 127.0.0.1:PORT
  std::string token;
  std::string ca;
  std::string repos;  // bare repositories
  std::string lfs_root;
  std::string access_log;
};

// The server from git.env, or nullopt (the caller skips, or fails under
// DATACUBE_REQUIRE_SERVERS=1).
std::optional<GitServer> ServerFromEnv();

// Runs a shell command for test set-up with a private HOME; fails the test on error. Returns
// stdout.
std::string Sh(const std::string& command);

// A fixture repository:
//   main: c1 (README "v1", weights.bin in LFS), c2 (README "v2"); HEAD -> main
//   dev:  c1 + dev.txt;   tag v1 (annotated) -> c1
struct FixtureRepo {
  std::string name;  // "<name>.git" under the server's repos
  std::string bare;  // path of the bare repository
  std::string c1, c2, dev;
  std::string weights;  // content of weights.bin
  std::string weights_oid;
};
FixtureRepo CreateFixtureRepository(const GitServer& server, const std::string& name);

// Adds a commit changing README to `text` on `branch` of the bare repository directly.
std::string CommitToBare(const std::string& bare, const std::string& branch,
                         const std::string& text);

// Options for `server` with the right token and CA.
GitSourceOptions SourceOptions(const GitServer& server, const std::string& repo_name);

// Polls /proc/*/cmdline of every process until stopped; records the command lines that contain
// `needle` and how many distinct git-related processes were seen.
class ArgvScanner {
 public:
  explicit ArgvScanner(std::string needle);
  ~ArgvScanner();
  void Stop();
  std::vector<std::string> hits() const { return hits_; }
  size_t git_processes_seen() const { return seen_.size(); }

 private:
  void Run();
  std::string needle_;
  std::atomic<bool> stop_{false};
  std::vector<std::string> hits_;
  std::set<std::string> seen_;  // "pid:cmdline" of git processes
  std::thread thread_;
};

// Every file under `dir` (including .git) whose content contains `needle`.
std::vector<std::string> FilesContaining(const std::string& dir, const std::string& needle);

// Number of lines in `log` after byte offset `from` that contain both `needle` and `also`.
size_t CountLogLines(const std::string& log, size_t from, const std::string& needle,
                     const std::string& also);
size_t FileSize(const std::string& path);

}  // namespace datacube::git::testing
