// datacube-hf-fixture: the Hugging Face Hub fixture (hub_fixture.h) as a standalone server, for
// testing/servers/hf.sh, end-to-end tests of the binary, the fidelity tests with the official
// JavaScript client, and bench/hf.sh.
//
//   datacube-hf-fixture --root DIR [--host 127.0.0.1] [--hub-port N] [--storage-port N]
//       [--token TOKEN=user[:org1,org2][:ro]]... [--tree-page-size N]
//       [--multipart-threshold BYTES] [--multipart-chunk BYTES] [--ready-file PATH]
//
// Prints "hub=URL storage=URL" once listening (and writes it to --ready-file), then serves until
// SIGINT or SIGTERM. Seeding, faults and corruption are driven over HTTP at /_fixture/ on the
// hub (see hub_fixture.h).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "testing/hf_fixture/hub_fixture.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

int Usage(const std::string& why) {
  std::fprintf(stderr, "datacube-hf-fixture: %s\n", why.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace datacube::testing::hf;
  FixtureOptions o;
  std::string ready_file;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--root")
      o.root = value();
    else if (a == "--host")
      o.host = value();
    else if (a == "--hub-port")
      o.hub_port = std::atoi(value().c_str());
    else if (a == "--storage-port")
      o.storage_port = std::atoi(value().c_str());
    else if (a == "--tree-page-size")
      o.tree_page_size = std::strtoull(value().c_str(), nullptr, 10);
    else if (a == "--multipart-threshold")
      o.multipart_threshold = std::strtoull(value().c_str(), nullptr, 10);
    else if (a == "--multipart-chunk")
      o.multipart_chunk = std::strtoull(value().c_str(), nullptr, 10);
    else if (a == "--ready-file")
      ready_file = value();
    else if (a == "--token") {
      auto parsed = ParseTokenSpec(value());
      if (!parsed.ok()) return Usage(std::string(parsed.status().message()));
      o.tokens[parsed->first] = parsed->second;
    } else {
      return Usage("unknown argument " + a);
    }
  }
  if (o.root.empty()) return Usage("--root is required");
  auto fixture = HubFixture::Start(o);
  if (!fixture.ok()) return Usage(fixture.status().ToString());
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::string line = "hub=" + (*fixture)->hub_url() + " storage=" + (*fixture)->storage_url();
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
  if (!ready_file.empty()) {
    std::ofstream(ready_file + ".tmp") << line << "\n";
    std::rename((ready_file + ".tmp").c_str(), ready_file.c_str());
  }
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  (*fixture)->Stop();
  return 0;
}
