#include "datacube/storage/http/http_store.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <thread>

#include "datacube/base/secret.h"
#include "datacube/crypto/sha256.h"
#include "datacube/http/testing/mock_http_transport.h"

namespace datacube::storage {
namespace {

const std::string kBody = "0123456789abcdefghijklmnopqrstuvwxyz";

// Serves one file, honouring Range; /signed/model.bin demands ?sig=good like a pre-signed URL.
class FileServer {
 public:
  FileServer() {
    // cpp-httplib answers Range requests itself (206 and Content-Range) from set_content.
    auto serve = [](const httplib::Request&, httplib::Response& res) {
      res.set_header("ETag", "\"v1\"");
      res.set_header("x-amz-meta-sha256", crypto::Sha256Hex(kBody));
      res.set_content(kBody, "application/octet-stream");
    };
    server_.Get("/files/model.bin", serve);
    server_.Get("/signed/model.bin", [serve](const httplib::Request& req, httplib::Response& res) {
      if (req.get_param_value("sig") != "good") {
        res.status = 403;
        res.body = "<Error><Code>SignatureDoesNotMatch</Code></Error>";
        return;
      }
      serve(req, res);
    });
    server_.set_logger([this](const httplib::Request&, const httplib::Response&) { ++requests_; });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FileServer() {
    server_.stop();
    thread_.join();
  }
  int requests() const { return requests_.load(); }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::atomic<int> requests_{0};
  std::thread thread_;
};

Result<StoreRef> Open(const std::string& url, OpenMode mode = OpenMode::kRead) {
  DC_ASSIGN_OR_RETURN(Location loc, ParseLocation(url));
  return OpenHttpLocation(loc, StoreConfig(), mode);
}

TEST(HttpStoreTest, StatReadsSizeEtagAndShaFromTheFirstByte) {
  FileServer server;
  auto ref = Open(server.Url("/files/model.bin"));
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  EXPECT_EQ(ref->key, "model.bin");
  auto st = ref->store->Stat(ref->key);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->size, kBody.size());
  EXPECT_EQ(st->etag, "v1");
  EXPECT_EQ(st->sha256, crypto::Sha256Hex(kBody));
  EXPECT_EQ(ref->store->Stat("other").status().code(), StatusCode::kNotFound);
}

TEST(HttpStoreTest, RangedAndWholeReads) {
  FileServer server;
  auto ref = Open(server.Url("/files/model.bin"));
  ASSERT_TRUE(ref.ok());
  io::StringSink part;
  ASSERT_TRUE(ref->store->Read(ref->key, {10, 5}, part, {}).ok());
  EXPECT_EQ(part.str(), "abcde");
  io::StringSink all;
  ASSERT_TRUE(ref->store->Read(ref->key, ByteRange::All(), all, {}).ok());
  EXPECT_EQ(all.str(), kBody);
  io::StringSink none;
  ReadOptions changed;
  changed.if_match = "v0";
  EXPECT_EQ(ref->store->Read(ref->key, {0, 4}, none, changed).code(),
            StatusCode::kFailedPrecondition);
  auto list = ref->store->List({});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->objects.size(), 1u);
  EXPECT_EQ(list->objects[0].key, "model.bin");
}

TEST(HttpStoreTest, BadSignatureIsPermissionDeniedAndTheQueryNeverPrints) {
  FileServer server;
  auto good = Open(server.Url("/signed/model.bin?sig=good&X-Amz-Signature=abcdef123456"));
  ASSERT_TRUE(good.ok());
  EXPECT_TRUE(good->store->Stat(good->key).ok());
  auto bad = Open(server.Url("/signed/model.bin?sig=bad&X-Amz-Signature=feedface9876"));
  ASSERT_TRUE(bad.ok());
  auto st = bad->store->Stat(bad->key);
  EXPECT_EQ(st.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(st.status().message().find("feedface9876"), std::string_view::npos);
  // (The test server slices even error bodies to the requested range, so the server's error
  // code is checked on a whole read.)
  io::StringSink sink;
  Status read = bad->store->Read(bad->key, ByteRange::All(), sink, {});
  EXPECT_EQ(read.code(), StatusCode::kPermissionDenied);
  std::string msg(read.message());
  EXPECT_NE(msg.find("SignatureDoesNotMatch"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("feedface9876"), std::string::npos) << msg;
  EXPECT_EQ(bad->store->UrlFor(bad->key).find('?'), std::string::npos);
  // A query that slipped into free text is redacted.
  EXPECT_EQ(Redact("see sig=bad&X-Amz-Signature=feedface9876").find("feedface9876"),
            std::string::npos);
}

TEST(HttpStoreTest, MissingFileAndWritesAreRefused) {
  FileServer server;
  auto missing = Open(server.Url("/files/nope.bin"));
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->store->Stat(missing->key).status().code(), StatusCode::kNotFound);
  auto write = Open(server.Url("/files/model.bin"), OpenMode::kWriteFile);
  EXPECT_EQ(write.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(write.status().message().find("read only"), std::string_view::npos);
}

TEST(HttpStoreTest, RedirectsAreFollowedOnlyToHttpAndHttps) {
  for (const std::string target : {"file:///etc/passwd", "FILE:///etc/passwd", "ftp://h/x",
                                   "gopher://h/x", "data:text/plain,hi"}) {
    auto mock = std::make_shared<http::MockHttpTransport>();
    mock->Respond("GET https://h.test/a/model.bin?sig=s3cr3t",
                  http::MakeResponse(302, "", {{"location", target + "?sig=leak"}}));
    HttpStore store("https://h.test/a/model.bin?sig=s3cr3t", mock);
    auto st = store.Stat("model.bin");
    EXPECT_EQ(st.status().code(), StatusCode::kFailedPrecondition) << st.status().ToString();
    std::string msg(st.status().message());
    std::string shown = target.substr(0, target.find(':'));
    EXPECT_NE(msg.find("refused redirect to "), std::string::npos) << msg;
    EXPECT_NE(msg.find("(only http/https)"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("leak"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("s3cr3t"), std::string::npos) << msg;
    io::StringSink sink;
    EXPECT_EQ(store.Read("model.bin", ByteRange::All(), sink, {}).code(),
              StatusCode::kFailedPrecondition);
    EXPECT_TRUE(sink.str().empty());
    for (const auto& r : mock->requests()) {
      EXPECT_EQ(r.request.url.rfind("https://h.test/", 0), 0u) << "sent " << r.request.url;
      EXPECT_FALSE(r.request.follow_redirects) << "the store checks every hop itself";
    }
  }
  // http(s) targets, absolute or relative, are followed; a loop ends.
  auto mock = std::make_shared<http::MockHttpTransport>();
  mock->Respond("GET https://h.test/a/model.bin",
                http::MakeResponse(302, "", {{"location", "/b/model.bin"}}));
  mock->Respond("GET https://h.test/b/model.bin",
                http::MakeResponse(307, "", {{"location", "http://cdn.test/c/model.bin?sig=1"}}));
  mock->Respond("GET http://cdn.test/c/model.bin?sig=1",
                http::MakeResponse(206, "0", {{"content-range", "bytes 0-0/36"}}));
  HttpStore store("https://h.test/a/model.bin", mock);
  auto st = store.Stat("model.bin");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->size, 36u);
  auto looping = std::make_shared<http::MockHttpTransport>();
  looping->Respond("GET https://h.test/loop/x", http::MakeResponse(302, "", {{"location", "x"}}));
  HttpStore loop("https://h.test/loop/x", looping);
  EXPECT_NE(loop.Stat("x").status().message().find("more than 10 redirects"), std::string::npos);
}

TEST(HttpStoreTest, MalformedSizesAreRefused) {
  for (const std::string total : {"-5", "abc", "", "18446744073709551616", "12abc", "*"}) {
    auto mock = std::make_shared<http::MockHttpTransport>();
    mock->Respond("GET https://h.test/f.bin",
                  http::MakeResponse(206, "0", {{"content-range", "bytes 0-0/" + total}}));
    HttpStore store("https://h.test/f.bin", mock);
    auto st = store.Stat("f.bin");
    EXPECT_EQ(st.status().code(), StatusCode::kFailedPrecondition) << total;
    EXPECT_NE(st.status().message().find("Content-Range"), std::string::npos)
        << st.status().ToString();
  }
  for (const std::string length : {"-1", "x", "99999999999999999999999"}) {
    auto mock = std::make_shared<http::MockHttpTransport>();
    mock->Respond("GET https://h.test/f.bin",
                  http::MakeResponse(200, "", {{"content-length", length}}));
    HttpStore store("https://h.test/f.bin", mock);
    auto st = store.Stat("f.bin");
    EXPECT_EQ(st.status().code(), StatusCode::kFailedPrecondition) << length;
    EXPECT_NE(st.status().message().find("malformed Content-Length"), std::string::npos)
        << st.status().ToString();
  }
}

TEST(HttpStoreTest, ControlCharactersInTheUrlAreRefusedWithoutShowingIt) {
  FileServer server;
  auto good = *ParseLocation(server.Url("/files/model.bin"));
  struct Case {
    std::string path, query;
  };
  for (const auto& c : std::vector<Case>{{"files/model.bin", "sig=abc\r\nX-Injected: 1"},
                                         {"files/model.bin", "sig=abc%0d%0a\nX-Injected: 1"},
                                         {"files/mo\tdel.bin", ""},
                                         {"files/model.bin", std::string("sig=abc\0", 8)},
                                         {"files/model.bin", "sig=abc X-Injected"}}) {
    Location loc = good;
    loc.path = c.path;
    loc.query = c.query;
    auto ref = OpenHttpLocation(loc, StoreConfig(), OpenMode::kRead);
    ASSERT_FALSE(ref.ok()) << c.path << "?" << c.query;
    EXPECT_EQ(ref.status().code(), StatusCode::kInvalidArgument) << ref.status().ToString();
    std::string msg(ref.status().message());
    EXPECT_NE(msg.find(c.query.empty() ? "the path" : "the query string"), std::string::npos)
        << msg;
    EXPECT_EQ(msg.find("X-Injected"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("sig=abc"), std::string::npos) << msg;
  }
  EXPECT_EQ(server.requests(), 0) << "nothing may be sent";
}

}  // namespace
}  // namespace datacube::storage
