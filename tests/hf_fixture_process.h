// The Hugging Face Hub fixture (testing/hf_fixture) as a child process on free loopback ports, for
// tests that drive the datacube binary or the official JavaScript client. Each instance has its
// own repositories and random tokens; seeding, faults, corruption and the request log go through
// its /_fixture/ endpoints.
#pragma once

#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "testing/test_util/test_util.h"

#ifndef DATACUBE_HF_FIXTURE_BIN
#error "DATACUBE_HF_FIXTURE_BIN must name the datacube-hf-fixture binary"
#endif

namespace datacube::testing {

struct HfFixtureOptions {
  size_t tree_page_size = 1000;
  uint64_t multipart_threshold = 20ull << 20;
  uint64_t multipart_chunk = 8ull << 20;
};

class HfFixtureProcess {
 public:
  explicit HfFixtureProcess(HfFixtureOptions o = HfFixtureOptions()) {
    write_token = "hf_e2ew_" + RandomHex();
    read_token = "hf_e2er_" + RandomHex();
    std::string ready = dir_.path() + "/ready";
    pid_ = SpawnCommand(
        {DATACUBE_HF_FIXTURE_BIN, "--root", dir_.path() + "/root", "--hub-port", "0",
         "--storage-port", "0", "--token", write_token + "=dc-ci:" + org + ",user", "--token",
         read_token + "=dc-reader:ro", "--tree-page-size", std::to_string(o.tree_page_size),
         "--multipart-threshold", std::to_string(o.multipart_threshold), "--multipart-chunk",
         std::to_string(o.multipart_chunk), "--ready-file", ready},
        dir_.path() + "/out", dir_.path() + "/err");
    for (int i = 0; i < 200 && !std::filesystem::exists(ready); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    std::ifstream in(ready);
    std::string line;
    std::getline(in, line);
    size_t h = line.find("hub="), s = line.find(" storage=");
    if (h == std::string::npos || s == std::string::npos) return;
    hub = line.substr(h + 4, s - h - 4);
    storage = line.substr(s + 9);
  }

  ~HfFixtureProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      WaitCommand(pid_);
    }
  }

  bool ok() const { return !hub.empty(); }
  std::string log() const { return ReadFile(dir_.path() + "/err"); }

  // POST /_fixture/<what>; the answer's JSON (null on failure).
  nlohmann::json Control(const std::string& what, const nlohmann::json& body) const {
    httplib::Client c(hub);
    auto r = c.Post(("/_fixture/" + what).c_str(), body.dump(), "application/json");
    if (!r || r->status != 200) return nullptr;
    return nlohmann::json::parse(r->body, nullptr, false);
  }

  nlohmann::json Requests() const {
    httplib::Client c(hub);
    auto r = c.Get("/_fixture/requests");
    if (!r || r->status != 200) return nlohmann::json::array();
    return nlohmann::json::parse(r->body, nullptr, false);
  }
  void ClearRequests() const { Control("requests/clear", nlohmann::json::object()); }

  // Seeds `id` (created when missing) with files: {"path", "content"} or {"path",
  // "random_size", "seed"}, optional "lfs". Returns the answer: {"commit", "files": [...]}.
  nlohmann::json Seed(const std::string& id, const nlohmann::json& files,
                      const std::string& type = "model") const {
    return Control("seed", {{"type", type}, {"id", id}, {"files", files}});
  }

  // Environment for a datacube (or node) child process talking to this Hub.
  std::map<std::string, std::string> Env(const std::string& token) const {
    std::map<std::string, std::string> env = {{"HF_ENDPOINT", hub},
                                              {"HF_HOME", dir_.path() + "/hf-home"}};
    if (!token.empty()) env["HF_TOKEN"] = token;
    return env;
  }

  std::string hub;
  std::string storage;
  std::string write_token;
  std::string read_token;
  const std::string org = "dc-test";

 private:
  static std::string RandomHex() {
    std::random_device rd;
    char buf[33];
    std::snprintf(buf, sizeof buf, "%08x%08x%08x%08x", rd(), rd(), rd(), rd());
    return buf;
  }
  TempDir dir_;
  int pid_ = -1;
};

// Header value of a recorded request ("" when absent).
inline std::string RecordedHeader(const nlohmann::json& request, const std::string& name) {
  for (const auto& h : request["headers"]) {
    if (h[0] == name) return h[1];
  }
  return "";
}

}  // namespace datacube::testing
