// MockHttpTransport: answers requests from a table and records what was sent, so request
// building (signatures, headers, query strings) can be tested exactly (TensorStore's
// DefaultMockHttpTransport pattern).
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "datacube/http/http_transport.h"

namespace datacube::http {

struct RecordedRequest {
  HttpRequest request;
  std::string body;
};

class MockHttpTransport final : public HttpTransport {
 public:
  // Responses for "METHOD url" (the URL exactly as sent, including the query). Each call
  // consumes the next queued answer; the last one repeats.
  void Respond(const std::string& method_and_url, Result<HttpResponse> response);
  // Fallback for requests without a queued answer (default: 404 with an empty body).
  void SetHandler(std::function<Result<HttpResponse>(const HttpRequest&, const std::string&)> fn);

  Result<HttpResponse> Send(const HttpRequest& request, io::ByteSource* body,
                            io::ByteSink* response_body) override;

  std::vector<RecordedRequest> requests() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::deque<Result<HttpResponse>>> table_;  // guarded by mu_
  std::function<Result<HttpResponse>(const HttpRequest&, const std::string&)> handler_;
  std::vector<RecordedRequest> requests_;  // guarded by mu_
};

// Convenience: a response with `status`, `body` and headers.
HttpResponse MakeResponse(int status, std::string body = "", Headers headers = {});

}  // namespace datacube::http
