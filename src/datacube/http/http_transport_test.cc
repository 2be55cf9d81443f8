#include "datacube/http/http_transport.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "datacube/base/cancel.h"
#include "datacube/http/testing/mock_http_transport.h"

namespace datacube::http {
namespace {

// An in-process server on a free loopback port.
class LocalServer {
 public:
  LocalServer() {
    server_.Get("/hello", [](const httplib::Request&, httplib::Response& res) {
      res.set_header("X-Custom", "  value  ");
      res.set_content("hello body", "text/plain");
    });
    server_.Put("/upload", [this](const httplib::Request& req, httplib::Response& res) {
      last_body_ = req.body;
      last_auth_ = req.get_header_value("Authorization");
      res.status = 200;
    });
    server_.Get("/missing", [](const httplib::Request&, httplib::Response& res) {
      res.status = 404;
      res.set_content("<Error><Code>NoSuchKey</Code></Error>", "application/xml");
    });
    server_.Get("/redirect", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("/hello");
    });
    server_.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("text/plain", [](size_t, httplib::DataSink& sink) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        return sink.write("x", 1);
      });
    });
    server_.Get("/to-file", [](const httplib::Request&, httplib::Response& res) {
      res.status = 302;
      res.set_header("Location", "file:///etc/passwd");
    });
    server_.Get("/to-gopher", [](const httplib::Request&, httplib::Response& res) {
      res.status = 301;
      res.set_header("Location", "gopher://127.0.0.1:70/x");
    });
    // Headers never come: a request stalled on the network, which no progress callback sees.
    server_.Get("/stall", [this](const httplib::Request&, httplib::Response& res) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::seconds(30), [&] { return released_; });
      res.set_content("late", "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~LocalServer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      released_ = true;
      cv_.notify_all();
    }
    server_.stop();
    thread_.join();
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::string last_body_, last_auth_;

 private:
  httplib::Server server_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;  // guarded by mu_
  int port_ = 0;
  std::thread thread_;
};

TEST(CurlTransportTest, GetStreamsBodyAndParsesHeaders) {
  LocalServer server;
  auto t = MakeCurlTransport({});
  io::StringSink sink;
  HttpRequest req;
  req.url = server.Url("/hello");
  auto r = t->Send(req, nullptr, &sink);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(sink.str(), "hello body");
  EXPECT_EQ(r->Header("x-custom"), "value");
  EXPECT_EQ(r->Header("X-CUSTOM"), "value");
  EXPECT_TRUE(r->body.empty());
}

TEST(CurlTransportTest, PutSendsBodyAndHeaders) {
  LocalServer server;
  auto t = MakeCurlTransport({});
  HttpRequest req;
  req.method = "PUT";
  req.url = server.Url("/upload");
  req.headers = {{"Authorization", "Bearer abc"}};
  req.content_length = 7;
  io::SpanSource body(std::string_view("payload"));
  auto r = t->Send(req, &body, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(server.last_body_, "payload");
  EXPECT_EQ(server.last_auth_, "Bearer abc");
}

TEST(CurlTransportTest, ErrorBodiesAreCapturedNotStreamed) {
  LocalServer server;
  auto t = MakeCurlTransport({});
  io::StringSink sink;
  HttpRequest req;
  req.url = server.Url("/missing");
  auto r = t->Send(req, nullptr, &sink);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(sink.str(), "");
  EXPECT_NE(r->body.find("NoSuchKey"), std::string::npos);
}

TEST(CurlTransportTest, RedirectsOnlyWhenAsked) {
  LocalServer server;
  auto t = MakeCurlTransport({});
  HttpRequest req;
  req.url = server.Url("/redirect");
  auto r = t->Send(req, nullptr, nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 302);
  req.follow_redirects = true;
  r = t->Send(req, nullptr, nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello body");
  EXPECT_EQ(r->effective_url, server.Url("/hello"));
}

TEST(CurlTransportTest, ConnectionRefusedIsRetryable) {
  auto t = MakeCurlTransport({});
  HttpRequest req;
  req.url = "http://127.0.0.1:1/x";
  auto r = t->Send(req, nullptr, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(IsRetryable(r.status()));
}

TEST(CurlTransportTest, StopTokenCancelsAStreamingBody) {
  LocalServer server;
  auto t = MakeCurlTransport({});
  std::stop_source stop;
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    stop.request_stop();
  });
  CancellationScope scope(stop.get_token());
  HttpRequest req;
  req.url = server.Url("/slow");
  io::StringSink sink;
  auto start = std::chrono::steady_clock::now();
  auto r = t->Send(req, nullptr, &sink);
  stopper.join();
  EXPECT_EQ(r.status().code(), StatusCode::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST(CurlTransportTest, StopEndsARequestStalledBeforeAnyByteWithinMilliseconds) {
  LocalServer server;
  auto t = MakeCurlTransport({});
  std::stop_source stop;
  CancellationScope scope(stop.get_token());
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop.request_stop();
  });
  HttpRequest req;
  req.url = server.Url("/stall");
  auto start = std::chrono::steady_clock::now();
  auto r = t->Send(req, nullptr, nullptr);
  auto took = std::chrono::steady_clock::now() - start;
  stopper.join();
  EXPECT_EQ(r.status().code(), StatusCode::kCancelled);
  EXPECT_LT(took, std::chrono::milliseconds(600));
}

TEST(CurlTransportTest, RequestsKeepWorkingAfterACancelledOne) {
  LocalServer server;
  auto t = MakeCurlTransport({});
  {
    std::stop_source stop;
    stop.request_stop();
    CancellationScope scope(stop.get_token());
    HttpRequest req;
    req.url = server.Url("/hello");
    EXPECT_EQ(t->Send(req, nullptr, nullptr).status().code(), StatusCode::kCancelled);
  }
  for (int i = 0; i < 3; ++i) {
    HttpRequest req;
    req.url = server.Url("/hello");
    auto r = t->Send(req, nullptr, nullptr);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->body, "hello body");
  }
}

TEST(CurlTransportTest, RedirectToAnotherProtocolIsRefusedByName) {
  LocalServer server;
  auto t = MakeCurlTransport({});
  for (const char* path : {"/to-file", "/to-gopher"}) {
    HttpRequest req;
    req.url = server.Url(path);
    req.follow_redirects = true;
    io::StringSink sink;
    auto r = t->Send(req, nullptr, &sink);
    ASSERT_FALSE(r.ok()) << path;
    EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied) << r.status().ToString();
    EXPECT_NE(r.status().message().find("refused redirect to "), std::string_view::npos)
        << r.status().ToString();
    EXPECT_NE(r.status().message().find(": only http and https are allowed"),
              std::string_view::npos)
        << r.status().ToString();
    EXPECT_EQ(sink.str(), "");
  }
  HttpRequest req;
  req.url = server.Url("/to-file");
  req.follow_redirects = true;
  auto r = t->Send(req, nullptr, nullptr);
  EXPECT_NE(r.status().message().find("refused redirect to file:///etc/passwd"),
            std::string_view::npos)
      << r.status().ToString();
  EXPECT_EQ(r.status().message().find("root:"), std::string_view::npos);
}

TEST(CurlTransportTest, OnlyHttpAndHttpsUrlsAreSent) {
  auto t = MakeCurlTransport({});
  for (const char* url : {"file:///etc/passwd", "ftp://127.0.0.1/x", "dict://127.0.0.1/x"}) {
    HttpRequest req;
    req.url = url;
    auto r = t->Send(req, nullptr, nullptr);
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
    EXPECT_NE(r.status().message().find("only http and https are allowed"), std::string_view::npos)
        << r.status().ToString();
  }
}

TEST(HttpStatusTest, Mapping) {
  EXPECT_EQ(HttpStatusToStatus(403, "GET x").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(HttpStatusToStatus(503, "GET x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(HttpStatusToStatus(429, "GET x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(HttpStatusToStatus(404, "GET x", "no such repo").message(),
            "GET x: HTTP 404 no such repo");
  EXPECT_TRUE(HttpStatusToStatus(204, "x").ok());
}

TEST(UrlTest, Parse) {
  UrlParts u;
  ASSERT_TRUE(ParseUrl("https://bucket.s3.amazonaws.com:8443/a%20b/c?x=1&y", &u));
  EXPECT_EQ(u.scheme, "https");
  EXPECT_EQ(u.host, "bucket.s3.amazonaws.com");
  EXPECT_EQ(u.port, 8443);
  EXPECT_EQ(u.path, "/a%20b/c");
  EXPECT_EQ(u.query, "x=1&y");
  EXPECT_EQ(u.HostHeader(), "bucket.s3.amazonaws.com:8443");
  ASSERT_TRUE(ParseUrl("http://127.0.0.1", &u));
  EXPECT_EQ(u.path, "/");
  EXPECT_EQ(u.HostHeader(), "127.0.0.1");
  EXPECT_FALSE(ParseUrl("no-scheme", &u));
}

TEST(TransportOptionsTest, ProxiesFromEnvironmentMap) {
  std::map<std::string, std::string> env = {{"HTTPS_PROXY", "http://127.0.0.1:3128"},
                                            {"no_proxy", "localhost"}};
  auto o = TransportOptionsFromEnv([&](const std::string& k) -> std::optional<std::string> {
    auto it = env.find(k);
    if (it == env.end()) return std::nullopt;
    return it->second;
  });
  EXPECT_EQ(o.https_proxy, "http://127.0.0.1:3128");
  EXPECT_EQ(o.http_proxy, "");
  EXPECT_EQ(o.no_proxy, "localhost");
}

TEST(MockTransportTest, RecordsAndAnswers) {
  MockHttpTransport mock;
  mock.Respond("GET http://h/a", MakeResponse(200, "A"));
  HttpRequest req;
  req.url = "http://h/a";
  io::StringSink sink;
  auto r = mock.Send(req, nullptr, &sink);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(sink.str(), "A");
  req.url = "http://h/b";
  EXPECT_EQ(mock.Send(req, nullptr, nullptr)->status, 404);
  ASSERT_EQ(mock.requests().size(), 2u);
  EXPECT_EQ(mock.requests()[1].request.url, "http://h/b");
}

}  // namespace
}  // namespace datacube::http
