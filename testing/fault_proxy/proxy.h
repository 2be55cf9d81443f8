// The fault proxy's behaviour: forward HTTP/1.1 requests to an upstream (reverse mode) or to the
// origin named in the request (forward mode, including CONNECT tunnels), and misbehave on
// purpose for the requests chosen by the configuration. See README.md for the command line.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>

#include "testing/fault_proxy/socket_io.h"

namespace fault_proxy {

struct FaultConfig {
  // Reverse mode: every request goes to this origin; the Host header is passed unchanged, so
  // signatures that cover it (S3 SigV4) stay valid. Empty host: forward proxy mode.
  std::string upstream_host;
  int upstream_port = 0;
  // Only requests whose "METHOD target" contains this text count for faults ("" = all).
  std::string match;
  // Answer the first N matching requests with `fail_status` and an S3-style XML error body.
  int fail_first = 0;
  int fail_status = 503;
  std::string fail_code = "SlowDown";
  // For the first N matching responses that have a body: send `cut_after` bytes of it, then
  // reset the connection.
  int cut_first = 0;
  uint64_t cut_after = 1024;
  // For the first N matching responses that have a body: flip the byte at `corrupt_offset`.
  int corrupt_first = 0;
  uint64_t corrupt_offset = 0;
  // Aggregate rate for all bodies in both directions, bytes per second; 0 = unlimited.
  uint64_t rate = 0;
  // Wait this long before forwarding each matching request.
  int delay_ms = 0;
  // Forward mode: connect to the right-hand address instead of the left-hand one
  // ("github.com:443" -> "127.0.0.1:7510"), so a client can use a real host name in its URL
  // and still reach a loopback test server. Applies to CONNECT and absolute-form requests.
  std::map<std::string, std::string> host_map;
};

// A token bucket shared by every connection. Thread-safe.
class RateGate {
 public:
  explicit RateGate(uint64_t rate) : rate_(rate) {}
  // Blocks until `n` more bytes fit under the rate.
  void Acquire(uint64_t n);
  // Read size that keeps pacing smooth: about 1/20 s of data, 1 KiB to 64 KiB.
  size_t ChunkSize() const;

 private:
  const uint64_t rate_;
  std::mutex mu_;
  // When the bytes granted so far will have drained at the rate; guarded by mu_.
  std::chrono::steady_clock::time_point next_{};
};

class Proxy {
 public:
  // `log` receives one JSON line per request (the proxy flushes after each); not owned.
  Proxy(FaultConfig config, std::FILE* log);

  // Serves one client connection until it closes. Thread-safe: one call per connection.
  void Serve(Conn client, const std::string& peer);

 private:
  struct Exchange;  // one request/response, for logging
  // Returns false when the client connection must be closed.
  bool HandleRequest(Conn& client, const Head& request, Exchange& x);
  bool HandleConnect(Conn& client, const Head& request, Exchange& x);
  bool HandleControl(Conn& client, const std::string& target, Exchange& x);
  bool Fail(Conn& client, const Head& request, Exchange& x);
  void Log(const Exchange& x);
  std::string StatsJson() const;
  void ResetCounters();
  // Applies host_map to "host:port".
  void MapHost(std::string& host, int& port) const;

  const FaultConfig config_;
  std::FILE* const log_;
  std::mutex log_mu_;
  RateGate gate_;

  std::atomic<int> requests_{0};
  std::atomic<int> matched_{0};
  std::atomic<int> failed_{0};
  std::atomic<int> cut_{0};
  std::atomic<int> corrupted_{0};
};

}  // namespace fault_proxy
