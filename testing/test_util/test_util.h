// Helpers for tests that drive the datacube binary and real files: temporary directories,
// running a command with captured output, and writing test data quickly.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace datacube::testing {

// A fresh directory under /tmp, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  std::string out;
  std::string err;
};

struct CommandOptions {
  // Extra environment variables (the rest is inherited).
  std::map<std::string, std::string> env;
  std::optional<std::chrono::milliseconds> timeout;
  std::string stdin_data;
};

// Runs argv[0] (searched on PATH) with argv, capturing stdout and stderr. No shell.
CommandResult RunCommand(const std::vector<std::string>& argv, const CommandOptions& options = {});

// Starts a command in the background; returns its pid (stdout/stderr go to the given files).
int SpawnCommand(const std::vector<std::string>& argv, const std::string& stdout_path,
                 const std::string& stderr_path, const CommandOptions& options = {});
// Waits for a spawned pid; returns the exit code (-1 if signalled).
int WaitCommand(int pid);

// The datacube binary under test (env DATACUBE_BIN).
std::string DatacubeBin();

// Writes `size` pseudo-random bytes (deterministic for `seed`) quickly; returns their SHA-256.
std::string WriteRandomFile(const std::string& path, uint64_t size, uint64_t seed);
void WriteFile(const std::string& path, const std::string& content);
std::string ReadFile(const std::string& path);
std::string Sha256OfFile(const std::string& path);
bool Exists(const std::string& path);
// Every file below `dir` (relative paths, hidden ones included), sorted.
std::vector<std::string> ListFilesRecursive(const std::string& dir);

// True when an environment variable is set and non-empty.
std::optional<std::string> Env(const char* name);
// For tests that need a server: when DATACUBE_REQUIRE_SERVERS=1 (make test) a missing variable
// is a failure; otherwise the caller skips.
bool ServersRequired();

}  // namespace datacube::testing
