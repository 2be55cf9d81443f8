// Sends the requests of one bucket: signs every attempt afresh (a retry after a long backoff
// needs a new x-amz-date), retries what may be retried, follows a region correction from the
// server once, and turns failures into Status values through S3ResponseToStatus.
//
// Retrying here covers requests the engine does not retry itself (HEAD, listings, deletes,
// multipart bookkeeping). Requests that stream a body in or out are sent once: their bytes
// cannot be replayed from here, and the engine retries the whole part instead.
//
// Thread-safe: many threads call Send concurrently.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "datacube/http/http_transport.h"
#include "datacube/storage/s3/s3_errors.h"
#include "datacube/storage/s3/s3_options.h"
#include "datacube/storage/s3/s3_request_builder.h"

namespace datacube::storage::s3 {

class S3Client {
 public:
  explicit S3Client(S3StoreOptions options);

  struct Call {
    S3Request request;
    // Verb for messages: "reading", "listing", "writing", ...
    std::string action;
    // A body held in memory; resent on every attempt.
    std::span<const uint8_t> body;
    // A streamed body (request.content_length must be set); the call is sent once.
    io::ByteSource* stream = nullptr;
    // Receives a 2xx response body as it arrives; the call is then sent once.
    io::ByteSink* sink = nullptr;
    bool retry = true;
    // CompleteMultipartUpload and CopyObject may answer 200 with an <Error> body.
    bool error_in_2xx = false;
    // Error codes ("NoSuchKey") and statuses (404) that are an expected answer here, returned
    // as a response instead of an error: deleting a missing key, say.
    std::vector<std::string> ok_codes;
    std::vector<int> ok_statuses;
  };

  // The 2xx response, or the mapped failure. A non-2xx status the caller wants to look at
  // itself (404 on HEAD, say) is still an error here: callers test the Status code.
  Result<http::HttpResponse> Send(const Call& call);

  // The current endpoint (its region may have been corrected by the server).
  S3Endpoint endpoint() const;
  const S3StoreOptions& options() const { return options_; }
  // "s3://bucket/key" (or cw://, gs://).
  std::string UrlFor(std::string_view key) const;
  S3ErrorContext Context(std::string_view action, std::string_view key) const;
  std::chrono::system_clock::time_point Now() const;

 private:
  // One attempt, with at most one region correction.
  Result<http::HttpResponse> SendOnce(const Call& call);
  // Switches to `region` when the server names another one; false if nothing changed.
  bool CorrectRegion(const std::string& region);

  const S3StoreOptions options_;
  const std::shared_ptr<http::HttpTransport> transport_;
  mutable std::mutex mu_;
  S3Endpoint endpoint_;  // guarded by mu_
};

}  // namespace datacube::storage::s3
