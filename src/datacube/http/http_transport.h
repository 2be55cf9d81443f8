// HTTP requests as plain values, and the transport that sends them.
//
// Backends (S3, Hugging Face, Azure, ...) build HttpRequests and hand them to an HttpTransport;
// tests swap in MockHttpTransport (testing/mock_http_transport.h, a test-only library) to check
// exactly what was sent. The real transport is libcurl (curl_transport.cc): keep-alive
// connections reused across requests, HTTP/2 where the server offers it over TLS, proxies,
// timeouts, and cancellation through the thread's stop token (base/cancel.h).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "datacube/base/result.h"
#include "datacube/io/byte_stream.h"

namespace datacube::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD, PUT, POST, DELETE
  std::string url;             // absolute, already percent-encoded
  Headers headers;
  // Size of the request body when a body source is given (sent as Content-Length).
  std::optional<uint64_t> content_length;
  // Whole-request limit; 0 = none (large bodies are bounded by the stall limit instead).
  std::chrono::milliseconds timeout{0};
  std::chrono::milliseconds connect_timeout{10'000};
  // Follow 3xx redirects (up to 10). When false, a 3xx is returned to the caller.
  bool follow_redirects = false;
};

struct HttpResponse {
  int status = 0;
  // Header names are lower-case; values are trimmed. Repeated headers appear repeatedly.
  Headers headers;
  // The body, when the caller passed no sink or the status is not 2xx (error documents are
  // always captured here, up to 1 MiB, so they can be parsed and reported).
  std::string body;
  // Final URL after redirects.
  std::string effective_url;

  // First value of header `name` (case-insensitive), if present.
  std::optional<std::string> Header(std::string_view name) const;
  bool ok() const { return status >= 200 && status < 300; }
};

// Where proxies and TLS settings come from. Built by the caller from its environment (a
// DataCube's executor.env applies here), never read from the process environment behind its back.
struct TransportOptions {
  std::string http_proxy;   // HTTP_PROXY / http_proxy
  std::string https_proxy;  // HTTPS_PROXY / https_proxy
  std::string no_proxy;     // NO_PROXY / no_proxy: comma-separated hosts/domains
  // PEM bundle of trusted CAs; empty = the system store.
  std::string ca_file;
  // Skip TLS verification (tests against self-signed loopback servers only).
  bool insecure = false;
  std::string user_agent = "datacube";
  // A transfer slower than this many bytes/s for stall_time is aborted as a timeout.
  long stall_bytes_per_second = 1;
  std::chrono::seconds stall_time{60};
};

// Fills proxy settings from `getenv` (upper- and lower-case names, lower-case wins like curl).
TransportOptions TransportOptionsFromEnv(
    const std::function<std::optional<std::string>(const std::string&)>& getenv);

// Thread-safe: many threads may Send concurrently.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;

  // Sends `request`. `body` (nullable) supplies the request body; `response_body` (nullable)
  // receives a 2xx response body as it streams (otherwise it lands in HttpResponse::body).
  // Transport failures are Status values: kUnavailable (connection refused/reset, DNS, TLS
  // handshake trouble), kDeadlineExceeded (timeouts, stalls), kCancelled (the thread's stop
  // token fired), kFailedPrecondition (certificate verification failed). An HTTP error status
  // is *not* a transport failure: it is returned in HttpResponse for the caller to map.
  virtual Result<HttpResponse> Send(const HttpRequest& request, io::ByteSource* body,
                                    io::ByteSink* response_body) = 0;
};

// The libcurl transport.
std::shared_ptr<HttpTransport> MakeCurlTransport(const TransportOptions& options);

// Maps an HTTP status to a Status for protocols without a richer error document:
// 400 kInvalidArgument, 401 kUnauthenticated, 403 kPermissionDenied, 404 kNotFound,
// 409 kAlreadyExists, 412 kFailedPrecondition, 416 kOutOfRange, 408/429/5xx kUnavailable
// (retryable), others kUnknown. The message is "<context>: HTTP <code> <detail>".
Status HttpStatusToStatus(int status, std::string_view context, std::string_view detail = {});

// Parses "https://host:port/path?query" into its parts (for signing). Returns false when the
// URL has no scheme or host.
struct UrlParts {
  std::string scheme;
  std::string host;   // without port
  int port = 0;       // 0 = default for the scheme
  std::string path;   // starts with '/', still percent-encoded
  std::string query;  // without '?'
  // "host" or "host:port" as the Host header carries it.
  std::string HostHeader() const;
};
bool ParseUrl(std::string_view url, UrlParts* out);

}  // namespace datacube::http
