#include "datacube/storage/http/http_store.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>

#include "datacube/base/secret.h"
#include "datacube/crypto/sha256.h"

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
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FileServer() {
    server_.stop();
    thread_.join();
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
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

}  // namespace
}  // namespace datacube::storage
