// The fault proxy against an in-process HTTP server: each fault does exactly what it says, and
// clean requests pass through byte for byte.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "testing/fault_proxy/fault_proxy_process.h"

namespace datacube::testing {
namespace {

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7) % 26);
  return s;
}

class Upstream {
 public:
  Upstream() {
    server_.Get("/data", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(body_, "application/octet-stream");
    });
    server_.Put("/upload", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      uploaded_ = req.body;
      res.set_content("ok", "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~Upstream() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& body() const { return body_; }
  std::string uploaded() {
    std::lock_guard<std::mutex> lock(mu_);
    return uploaded_;
  }

 private:
  httplib::Server server_;
  std::string body_ = Pattern(100'000);
  std::mutex mu_;
  std::string uploaded_;
  int port_ = 0;
  std::thread thread_;
};

TEST(FaultProxy, PassesRequestsThroughAndLogsThem) {
  Upstream up;
  FaultProxyProcess proxy(FAULT_PROXY_BIN, {"--upstream", up.url()});
  ASSERT_TRUE(proxy.ok()) << proxy.error();
  httplib::Client cli("127.0.0.1", proxy.port());
  auto res = cli.Get("/data");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, up.body());
  auto put = cli.Put("/upload", Pattern(70'000), "application/octet-stream");
  ASSERT_TRUE(put);
  EXPECT_EQ(up.uploaded(), Pattern(70'000));
  auto lines = proxy.LogLines(2);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("\"method\":\"GET\",\"target\":\"/data\",\"status\":200"),
            std::string::npos)
      << lines[0];
  EXPECT_NE(lines[1].find("\"request_bytes\":70000"), std::string::npos) << lines[1];
}

TEST(FaultProxy, ChunkedUploadsArriveWhole) {
  Upstream up;
  FaultProxyProcess proxy(FAULT_PROXY_BIN, {"--upstream", up.url()});
  ASSERT_TRUE(proxy.ok()) << proxy.error();
  httplib::Client cli("127.0.0.1", proxy.port());
  std::string data = Pattern(50'000);
  auto res = cli.Put(
      "/upload",
      [&](size_t offset, httplib::DataSink& sink) {
        if (offset >= data.size()) {
          sink.done();
          return true;
        }
        size_t n = std::min<size_t>(7000, data.size() - offset);
        sink.write(data.data() + offset, n);
        return true;
      },
      "application/octet-stream");
  ASSERT_TRUE(res);
  EXPECT_EQ(up.uploaded(), data);
}

TEST(FaultProxy, FailsTheFirstNMatchingRequestsWithSlowDown) {
  Upstream up;
  FaultProxyProcess proxy(FAULT_PROXY_BIN,
                          {"--upstream", up.url(), "--fail-first", "2", "--match", "GET /data"});
  ASSERT_TRUE(proxy.ok()) << proxy.error();
  httplib::Client cli("127.0.0.1", proxy.port());
  auto other = cli.Put("/upload", "x", "text/plain");  // does not match: not counted
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
  for (int i = 0; i < 2; ++i) {
    auto res = cli.Get("/data");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 503);
    EXPECT_NE(res->body.find("<Code>SlowDown</Code>"), std::string::npos);
  }
  auto res = cli.Get("/data");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, up.body());
  auto stats = cli.Get("/__fault_proxy/stats");
  ASSERT_TRUE(stats);
  EXPECT_NE(stats->body.find("\"failed\":2"), std::string::npos) << stats->body;
}

TEST(FaultProxy, CutsTheConnectionMidBody) {
  Upstream up;
  FaultProxyProcess proxy(FAULT_PROXY_BIN,
                          {"--upstream", up.url(), "--cut-first", "1", "--cut-after", "5000"});
  ASSERT_TRUE(proxy.ok()) << proxy.error();
  httplib::Client cli("127.0.0.1", proxy.port());
  auto cut = cli.Get("/data");
  EXPECT_FALSE(cut && cut->body.size() == up.body().size());
  auto res = cli.Get("/data");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, up.body());
  auto lines = proxy.LogLines(2);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_NE(lines[0].find("\"fault\":\"cut\""), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"response_bytes\":5000"), std::string::npos) << lines[0];
}

TEST(FaultProxy, CorruptsOneByte) {
  Upstream up;
  FaultProxyProcess proxy(FAULT_PROXY_BIN, {"--upstream", up.url(), "--corrupt-first", "1",
                                            "--corrupt-offset", "12345"});
  ASSERT_TRUE(proxy.ok()) << proxy.error();
  httplib::Client cli("127.0.0.1", proxy.port());
  auto bad = cli.Get("/data");
  ASSERT_TRUE(bad);
  ASSERT_EQ(bad->body.size(), up.body().size());
  size_t differences = 0;
  for (size_t i = 0; i < bad->body.size(); ++i) differences += bad->body[i] != up.body()[i];
  EXPECT_EQ(differences, 1u);
  EXPECT_NE(bad->body[12345], up.body()[12345]);
  auto good = cli.Get("/data");
  ASSERT_TRUE(good);
  EXPECT_EQ(good->body, up.body());
}

TEST(FaultProxy, ThrottlesBodies) {
  Upstream up;
  FaultProxyProcess proxy(FAULT_PROXY_BIN, {"--upstream", up.url(), "--rate", "100000"});
  ASSERT_TRUE(proxy.ok()) << proxy.error();
  httplib::Client cli("127.0.0.1", proxy.port());
  auto start = std::chrono::steady_clock::now();
  auto res = cli.Get("/data");  // 100,000 bytes at 100,000 B/s
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, up.body());
  EXPECT_GE(secs, 0.85);
  EXPECT_LE(secs, 3.0);
}

TEST(FaultProxy, ForwardProxyAndConnectTunnel) {
  Upstream up;
  FaultProxyProcess proxy(FAULT_PROXY_BIN, {});
  ASSERT_TRUE(proxy.ok()) << proxy.error();
  httplib::Client cli("127.0.0.1", up.port());
  cli.set_proxy("127.0.0.1", proxy.port());
  auto res = cli.Get("/data");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, up.body());
  auto lines = proxy.LogLines(1);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("\"target\":\"http://127.0.0.1:" + std::to_string(up.port()) + "/data\""),
            std::string::npos)
      << lines[0];

  // CONNECT: the proxy only relays bytes; speak HTTP through the tunnel by hand.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(proxy.port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::string target = "127.0.0.1:" + std::to_string(up.port());
  std::string req = "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n" +
                    "GET /data HTTP/1.1\r\nHost: " + target + "\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::send(fd, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
  std::string got;
  char buf[65536];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) got.append(buf, static_cast<size_t>(n));
  ::close(fd);
  EXPECT_EQ(got.rfind("HTTP/1.1 200 Connection established\r\n\r\nHTTP/1.1 200", 0), 0u)
      << got.substr(0, 200);
  EXPECT_EQ(got.substr(got.size() - up.body().size()), up.body());
}

TEST(FaultProxy, MapsHostsInForwardMode) {
  Upstream up;
  FaultProxyProcess proxy(FAULT_PROXY_BIN,
                          {"--map", "models.example:80=127.0.0.1:" + std::to_string(up.port())});
  ASSERT_TRUE(proxy.ok()) << proxy.error();
  httplib::Client cli("models.example", 80);
  cli.set_proxy("127.0.0.1", proxy.port());
  auto res = cli.Get("/data");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, up.body());
}

}  // namespace
}  // namespace datacube::testing
