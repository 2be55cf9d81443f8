// fault_proxy: an HTTP/1.1 proxy on loopback that misbehaves on purpose, for tests.
// Usage and examples: testing/fault_proxy/README.md.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <thread>

#include "testing/fault_proxy/proxy.h"

namespace {

// Binds `host:port` (port 0 = any free port) and returns the listening socket, or -1.
int Listen(const std::string& host, int port, int& bound_port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1 ||
      ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 128) != 0) {
    ::close(fd);
    return -1;
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  bound_port = ntohs(addr.sin_port);
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  fault_proxy::FaultConfig config;
  std::string listen = "127.0.0.1:0";
  std::string upstream;
  std::string port_file;
  std::string log_path;
  CLI::App app{
      "fault_proxy: an HTTP proxy on loopback that fails, cuts, corrupts or throttles "
      "chosen requests (for tests)"};
  app.add_option("--listen", listen, "Address to listen on (IPv4 HOST:PORT; port 0 = any)");
  app.add_option("--upstream", upstream,
                 "Reverse proxy to this origin (http://HOST:PORT); without it, a forward proxy");
  app.add_option("--port-file", port_file, "Write the bound port here once listening");
  app.add_option("--log", log_path, "Append one JSON line per request here (default stderr)");
  app.add_option("--match", config.match, "Only requests whose 'METHOD target' contains this");
  app.add_option("--fail-first", config.fail_first, "Fail the first N matching requests");
  app.add_option("--fail-status", config.fail_status, "HTTP status of failures (default 503)");
  app.add_option("--fail-code", config.fail_code, "S3 error code in failures (default SlowDown)");
  app.add_option("--cut-first", config.cut_first,
                 "Reset the connection mid-body in the first N matching responses");
  app.add_option("--cut-after", config.cut_after, "Body bytes sent before a cut (default 1024)");
  app.add_option("--corrupt-first", config.corrupt_first,
                 "Flip a body byte in the first N matching responses");
  app.add_option("--corrupt-offset", config.corrupt_offset, "Offset of that byte (default 0)");
  app.add_option("--rate", config.rate, "Aggregate body rate limit, bytes per second");
  app.add_option("--delay-ms", config.delay_ms, "Delay before forwarding matching requests");
  std::vector<std::string> maps;
  app.add_option("--map", maps,
                 "Forward mode: connect to TO instead of FROM, as FROM_HOST:PORT=TO_HOST:PORT "
                 "(repeatable)");
  CLI11_PARSE(app, argc, argv);
  for (const auto& m : maps) {
    size_t eq = m.find('=');
    if (eq == std::string::npos) {
      std::fprintf(stderr, "fault_proxy: --map \"%s\" is not FROM_HOST:PORT=TO_HOST:PORT\n",
                   m.c_str());
      return 2;
    }
    config.host_map[m.substr(0, eq)] = m.substr(eq + 1);
  }

  if (!upstream.empty()) {
    std::string hostport = upstream;
    if (hostport.rfind("http://", 0) == 0) hostport = hostport.substr(7);
    while (!hostport.empty() && hostport.back() == '/') hostport.pop_back();
    if (!fault_proxy::SplitHostPort(hostport, 80, config.upstream_host, config.upstream_port)) {
      std::fprintf(stderr, "fault_proxy: --upstream \"%s\" is not http://HOST:PORT\n",
                   upstream.c_str());
      return 2;
    }
  }
  std::string host;
  int port = 0;
  if (!fault_proxy::SplitHostPort(listen, 0, host, port)) {
    std::fprintf(stderr, "fault_proxy: --listen \"%s\" is not HOST:PORT\n", listen.c_str());
    return 2;
  }
  std::FILE* log = stderr;
  if (!log_path.empty()) {
    log = std::fopen(log_path.c_str(), "a");
    if (log == nullptr) {
      std::perror(("fault_proxy: " + log_path).c_str());
      return 2;
    }
  }
  std::signal(SIGPIPE, SIG_IGN);
  int bound = 0;
  int fd = Listen(host, port, bound);
  if (fd < 0) {
    std::perror("fault_proxy: listen");
    return 1;
  }
  if (!port_file.empty()) {
    // Written to a temporary name and renamed, so a waiting test never reads a partial number.
    std::ofstream(port_file + ".tmp") << bound << "\n";
    std::rename((port_file + ".tmp").c_str(), port_file.c_str());
  }
  std::printf("fault_proxy listening on %s:%d\n", host.c_str(), bound);
  std::fflush(stdout);

  static fault_proxy::Proxy proxy(config, log);
  while (true) {
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    int client = ::accept(fd, reinterpret_cast<sockaddr*>(&peer), &len);
    if (client < 0) continue;
    char addr[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &peer.sin_addr, addr, sizeof addr);
    std::string name = std::string(addr) + ":" + std::to_string(ntohs(peer.sin_port));
    std::thread([client, name] { proxy.Serve(fault_proxy::Conn(client), name); }).detach();
  }
}
