#include "datacube/storage/s3/s3_request_builder.h"

namespace datacube::storage::s3 {

std::string EncodeQuery(const QueryParams& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += UriEncode(name, false);
    if (!value.empty()) out += "=" + UriEncode(value, false);
  }
  return out;
}

namespace {

SigV4Config ConfigFor(const S3Endpoint& endpoint) {
  SigV4Config c;
  c.region = endpoint.region;
  c.service = "s3";
  return c;
}

}  // namespace

http::HttpRequest BuildSignedRequest(const S3Request& r, const S3Endpoint& endpoint,
                                     const AwsCredentials& credentials,
                                     std::chrono::system_clock::time_point now,
                                     SigV4Signature* signature) {
  const std::string query = EncodeQuery(r.query);
  http::HttpRequest out;
  out.method = r.method;
  out.url = endpoint.UrlFor(r.bucket, r.key, query);
  out.content_length = r.content_length;
  out.headers = r.headers;
  if (credentials.anonymous()) return out;

  SigV4Request to_sign;
  to_sign.method = r.method;
  to_sign.path = endpoint.PathFor(r.bucket, r.key);
  to_sign.query = query;
  to_sign.payload_hash =
      r.payload_sha256.empty() ? std::string(kEmptyPayloadSha256) : r.payload_sha256;
  to_sign.headers = r.headers;
  // The host curl sends (with :port when not the default), and the payload hash header.
  to_sign.headers.emplace_back("host", endpoint.HostFor(r.bucket));
  to_sign.headers.emplace_back("x-amz-content-sha256", to_sign.payload_hash);
  SigV4Signature sig = SignHeaders(to_sign, credentials, ConfigFor(endpoint), FormatAmzDate(now));
  // Send what was signed, except host, which curl derives from the URL.
  out.headers.clear();
  for (auto& [k, v] : to_sign.headers) {
    if (k != "host") out.headers.emplace_back(k, v);
  }
  out.headers.emplace_back("authorization", AuthorizationHeader(sig, credentials.access_key_id));
  if (signature != nullptr) *signature = std::move(sig);
  return out;
}

Result<std::string> BuildPresignedUrl(std::string_view method, std::string_view bucket,
                                      std::string_view key, const S3Endpoint& endpoint,
                                      const AwsCredentials& credentials,
                                      std::chrono::system_clock::time_point now,
                                      int64_t expires_seconds) {
  if (credentials.anonymous()) {
    return FailedPreconditionError(
        "cannot presign a URL without credentials (--no-sign-request is set); a public object's "
        "plain URL is " +
        endpoint.UrlFor(bucket, key, ""));
  }
  SigV4Request r;
  r.method = std::string(method);
  r.path = endpoint.PathFor(bucket, key);
  r.headers = {{"host", endpoint.HostFor(bucket)}};
  // The body of a presigned upload is whatever the holder sends.
  r.payload_hash = std::string(kUnsignedPayload);
  DC_ASSIGN_OR_RETURN(std::string query, PresignQuery(r, credentials, ConfigFor(endpoint),
                                                      FormatAmzDate(now), expires_seconds));
  return endpoint.UrlFor(bucket, key, query);
}

}  // namespace datacube::storage::s3
