// Turns one S3 operation (method, bucket, key, query parameters, headers, body hash) into a
// signed HttpRequest for the resolved endpoint, or into a presigned URL.
//
// Every signed request carries x-amz-date and x-amz-content-sha256 (S3 requires the latter on
// every SigV4 request; its value is the real SHA-256 of the body, so the server verifies the
// bytes as part of the signature), plus x-amz-security-token for temporary credentials.
// Anonymous credentials produce unsigned requests.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "datacube/http/http_transport.h"
#include "datacube/storage/s3/s3_endpoint.h"
#include "datacube/storage/s3/sigv4_signer.h"

namespace datacube::storage::s3 {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

struct S3Request {
  std::string method = "GET";
  std::string bucket;
  // Raw object key; empty addresses the bucket.
  std::string key;
  // Raw (unencoded) query parameters in the order they are sent; an empty value is sent as the
  // bare name ("uploads", "delete").
  QueryParams query;
  // Extra headers (range, content-type, content-md5, x-amz-meta-*, x-amz-checksum-*, ...).
  http::Headers headers;
  // Hex SHA-256 of the body; empty means no body (the empty string's hash).
  std::string payload_sha256;
  std::optional<uint64_t> content_length;
};

// "a=1&b=x%2Fy&uploads": names and values percent-encoded strictly.
std::string EncodeQuery(const QueryParams& params);

// The request to send. `signature` (optional) receives the signing steps, for tests and for
// debugging SignatureDoesNotMatch.
http::HttpRequest BuildSignedRequest(const S3Request& request, const S3Endpoint& endpoint,
                                     const AwsCredentials& credentials,
                                     std::chrono::system_clock::time_point now,
                                     SigV4Signature* signature = nullptr);

// A URL granting `method` on `key` for `expires_seconds` (1..7 days) to anyone holding it, e.g.
// for curl. kFailedPrecondition with anonymous credentials; kInvalidArgument for a bad expiry.
Result<std::string> BuildPresignedUrl(std::string_view method, std::string_view bucket,
                                      std::string_view key, const S3Endpoint& endpoint,
                                      const AwsCredentials& credentials,
                                      std::chrono::system_clock::time_point now,
                                      int64_t expires_seconds);

}  // namespace datacube::storage::s3
