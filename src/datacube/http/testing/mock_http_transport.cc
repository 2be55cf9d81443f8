#include "datacube/http/testing/mock_http_transport.h"

namespace datacube::http {

HttpResponse MakeResponse(int status, std::string body, Headers headers) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

void MockHttpTransport::Respond(const std::string& key, Result<HttpResponse> response) {
  std::lock_guard<std::mutex> lock(mu_);
  table_[key].push_back(std::move(response));
}

void MockHttpTransport::SetHandler(
    std::function<Result<HttpResponse>(const HttpRequest&, const std::string&)> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  handler_ = std::move(fn);
}

Result<HttpResponse> MockHttpTransport::Send(const HttpRequest& request, io::ByteSource* body,
                                             io::ByteSink* response_body) {
  std::string sent;
  if (body != nullptr) {
    io::StringSink sink;
    uint8_t buf[1 << 14];
    DC_ASSIGN_OR_RETURN(uint64_t n, io::Pump(*body, sink, buf));
    (void)n;
    sent = std::move(sink.str());
  }
  Result<HttpResponse> answer = MakeResponse(404);
  {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back({request, sent});
    auto it = table_.find(request.method + " " + request.url);
    if (it != table_.end() && !it->second.empty()) {
      answer = it->second.front();
      if (it->second.size() > 1) it->second.pop_front();
    } else if (handler_) {
      auto handler = handler_;
      mu_.unlock();
      answer = handler(request, sent);
      mu_.lock();
    }
  }
  if (!answer.ok()) return answer;
  if (response_body != nullptr && answer->ok()) {
    DC_RETURN_IF_ERROR(response_body->Write(io::AsBytes(answer->body)));
    answer->body.clear();
  }
  return answer;
}

std::vector<RecordedRequest> MockHttpTransport::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

}  // namespace datacube::http
