// HttpStore: one file behind a plain http(s):// URL, read only (docs/cli.md#locations): a
// release asset, a pre-signed S3/GCS/Azure URL, a file on a web server.
//
// The store holds exactly one object, named by the last segment of the URL's path. Its size
// (and ETag, and SHA-256 when the server sends x-amz-meta-sha256) come from a GET of the first
// byte rather than HEAD: a pre-signed URL is signed for GET only. Reads are ranged GETs, so the
// engine fetches large files as parallel parts and checks every part comes from the same
// version (ETag).
//
// The query string of a pre-signed URL is a credential: it is registered for redaction and never
// appears in messages (UrlFor drops it).
//
// Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "datacube/http/http_transport.h"
#include "datacube/location/location.h"
#include "datacube/storage/object_store.h"
#include "datacube/storage/store_config.h"

namespace datacube::storage {

class HttpStore final : public ObjectStore {
 public:
  // `url` is the full URL including its query; `transport` sends the requests.
  HttpStore(std::string url, std::shared_ptr<http::HttpTransport> transport);

  // The object's key: the last path segment of the URL ("file" for an empty path).
  const std::string& object_key() const { return key_; }

  Capabilities capabilities() const override;
  std::string UrlFor(std::string_view key) const override;
  Result<ObjectInfo> Stat(std::string_view key) override;
  Result<ListPage> List(const ListRequest& request) override;
  Status Read(std::string_view key, ByteRange range, io::ByteSink& sink,
              const ReadOptions& options) override;
  Result<ObjectInfo> Put(std::string_view key, io::ByteSource& data,
                         const WriteOptions& options) override;
  Status Delete(std::string_view key) override;

 private:
  Status CheckKey(std::string_view key) const;
  // Sends `req` and follows up to 10 redirects itself, refusing any to a scheme other than http
  // and https (kFailedPrecondition "refused redirect to ...").
  Result<http::HttpResponse> SendFollowing(http::HttpRequest req, io::ByteSink* sink) const;
  // The absolute URL a Location header sends `from` to.
  Result<std::string> RedirectTarget(const std::string& from, const std::string& location) const;
  // Maps a non-2xx answer to a Status naming the URL (and the server's error code, if any).
  Status ErrorFor(const http::HttpResponse& response, std::string_view action) const;

  const std::string url_;
  const std::string display_url_;  // without the query
  const std::string key_;
  std::shared_ptr<http::HttpTransport> transport_;
};

// Opens an http(s):// location for reading; writing is kInvalidArgument (read only).
Result<StoreRef> OpenHttpLocation(const Location& location, const StoreConfig& config,
                                  OpenMode mode);

}  // namespace datacube::storage
