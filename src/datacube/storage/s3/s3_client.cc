#include "datacube/storage/s3/s3_client.h"

#include <algorithm>

#include "datacube/base/cancel.h"
#include "datacube/base/log.h"

namespace datacube::storage::s3 {

S3Client::S3Client(S3StoreOptions options)
    : options_(std::move(options)),
      transport_(options_.transport_override ? options_.transport_override
                                             : http::MakeCurlTransport(options_.transport)),
      endpoint_(options_.endpoint) {}

S3Endpoint S3Client::endpoint() const {
  std::lock_guard<std::mutex> lock(mu_);
  return endpoint_;
}

std::string S3Client::UrlFor(std::string_view key) const {
  return std::string(SchemeName(options_.scheme)) + "://" + options_.bucket + "/" +
         std::string(key);
}

S3ErrorContext S3Client::Context(std::string_view action, std::string_view key) const {
  S3Endpoint e = endpoint();
  S3ErrorContext c;
  c.action = std::string(action);
  c.url = key.empty() ? std::string(SchemeName(options_.scheme)) + "://" + options_.bucket
                      : UrlFor(key);
  c.bucket = options_.bucket;
  c.key = std::string(key);
  c.endpoint = e.Display();
  c.region = e.region;
  c.path_style = !e.virtual_hosted;
  c.credentials_source = options_.credentials_source;
  return c;
}

std::chrono::system_clock::time_point S3Client::Now() const {
  return options_.clock ? options_.clock() : std::chrono::system_clock::now();
}

bool S3Client::CorrectRegion(const std::string& region) {
  std::lock_guard<std::mutex> lock(mu_);
  if (region.empty() || region == endpoint_.region) return false;
  LogWarn("bucket " + options_.bucket + " is in region " + region + ", not " + endpoint_.region +
          "; switching (set --region " + region + " to skip this round trip)");
  endpoint_ = AwsEndpointForRegion(endpoint_, region);
  return true;
}

namespace {

// Every header value sent is one line: a CR or LF from anywhere (an ETag or metadata a server
// sent, a content type) would otherwise start a header of its own. The value is never shown.
bool HasControl(std::string_view s) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

Status CheckHeaders(const http::Headers& headers, const std::string& url) {
  for (const auto& [name, value] : headers) {
    if (HasControl(name)) {
      return InternalError("refusing to send a header whose name holds a control character to " +
                           url);
    }
    if (HasControl(value)) {
      return InternalError("refusing to send header \"" + name + "\" to " + url +
                           ": its value holds a control character (such as CR or LF)");
    }
  }
  return Status();
}

}  // namespace

Result<http::HttpResponse> S3Client::SendOnce(const Call& call) {
  for (int round = 0;; ++round) {
    S3Endpoint e = endpoint();
    http::HttpRequest req = BuildSignedRequest(call.request, e, options_.credentials, Now());
    io::SpanSource memory_body(call.body);
    io::ByteSource* body = call.stream;
    if (body == nullptr && (!call.body.empty() || call.request.content_length)) {
      body = &memory_body;
    }
    auto resp = transport_->Send(req, body, call.sink);
    const S3ErrorContext ctx = Context(call.action, call.request.key);
    if (!resp.ok()) return S3TransportErrorToStatus(resp.status(), ctx);
    if (resp->ok() && !call.error_in_2xx) return resp;
    Status s = S3ResponseToStatus(*resp, ctx);
    if (s.ok()) return resp;
    // The server names the bucket's region: re-sign for it, once. (A streamed request body is
    // gone; an error response never reached the response sink.)
    if (round == 0 && call.stream == nullptr) {
      if (auto region = WrongRegionHint(*resp); region && CorrectRegion(*region)) continue;
    }
    if (std::find(call.ok_statuses.begin(), call.ok_statuses.end(), resp->status) !=
        call.ok_statuses.end()) {
      return resp;
    }
    if (!call.ok_codes.empty()) {
      auto doc = ParseErrorDocument(resp->body);
      if (doc &&
          std::find(call.ok_codes.begin(), call.ok_codes.end(), doc->code) != call.ok_codes.end()) {
        return resp;
      }
    }
    return s;
  }
}

Result<http::HttpResponse> S3Client::Send(const Call& call) {
  DC_RETURN_IF_ERROR(CheckHeaders(call.request.headers, UrlFor(call.request.key)));
  const bool retry = call.retry && call.stream == nullptr && call.sink == nullptr;
  if (!retry) return SendOnce(call);
  Result<http::HttpResponse> last = UnknownError("not sent");
  Status s = RetryStatus(
      options_.retry, CurrentStopToken(),
      [&](int) -> Status {
        last = SendOnce(call);
        return last.status();
      },
      nullptr,
      [&](int attempt, const Status& error, std::chrono::milliseconds delay) {
        LogDebug(
            "retrying after: " + std::string(error.message()),
            {{"attempt", std::to_string(attempt)}, {"delay_ms", std::to_string(delay.count())}});
      });
  if (!s.ok()) return s;
  return last;
}

}  // namespace datacube::storage::s3
