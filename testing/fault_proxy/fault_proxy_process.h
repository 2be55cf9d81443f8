// FaultProxyProcess: starts the fault_proxy binary for a test and stops it afterwards.
//
//   FaultProxyProcess proxy(FAULT_PROXY_BIN, {"--upstream", "http://127.0.0.1:9000",
//                                             "--fail-first", "2"});
//   ASSERT_TRUE(proxy.ok()) << proxy.error();
//   use proxy.url() ("http://127.0.0.1:PORT"); proxy.LogLines() after the requests
//
// Header-only so that any test target can use it with only datacube_testing_util linked.
#pragma once

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "testing/test_util/test_util.h"

namespace datacube::testing {

class FaultProxyProcess {
 public:
  FaultProxyProcess(const std::string& binary, std::vector<std::string> args) {
    std::string port_file = dir_ / "port";
    log_path_ = dir_ / "requests.jsonl";
    std::vector<std::string> argv = {binary, "--port-file", port_file, "--log", log_path_};
    argv.insert(argv.end(), args.begin(), args.end());
    pid_ = SpawnCommand(argv, dir_ / "stdout", dir_ / "stderr");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Exists(port_file)) {
        port_ = std::stoi(ReadFile(port_file));
        return;
      }
      int status = 0;
      if (pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    error_ = "fault_proxy did not start: " + ReadFile(dir_ / "stderr");
  }
  ~FaultProxyProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      WaitCommand(pid_);
    }
  }
  FaultProxyProcess(const FaultProxyProcess&) = delete;
  FaultProxyProcess& operator=(const FaultProxyProcess&) = delete;

  bool ok() const { return port_ > 0; }
  const std::string& error() const { return error_; }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& log_path() const { return log_path_; }

  // The request log, one JSON object per line. A line is written just after its response is
  // sent, so pass `at_least` to wait (up to 5 s) until that many requests are logged.
  std::vector<std::string> LogLines(size_t at_least = 0) const {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    std::vector<std::string> lines = ReadLog();
    while (lines.size() < at_least && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      lines = ReadLog();
    }
    return lines;
  }

 private:
  std::vector<std::string> ReadLog() const {
    std::vector<std::string> lines;
    std::string text = Exists(log_path_) ? ReadFile(log_path_) : "";
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      if (end > start) lines.push_back(text.substr(start, end - start));
      start = end + 1;
    }
    return lines;
  }

  TempDir dir_;
  std::string log_path_;
  int pid_ = -1;
  int port_ = 0;
  std::string error_;
};

}  // namespace datacube::testing
