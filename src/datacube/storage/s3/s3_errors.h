// The one place where an S3 response becomes a Status (TensorStore's AwsHttpResponseToStatus).
// The cases are rows of a table, tried in order (s3_error_table.cc).
//
// The code decides retrying, through IsRetryable (base/status.h):
//   retried     5xx except 501, 429, 408, SlowDown, RequestTimeout, throttling codes, and
//               transport failures (connection refused/reset, timeouts): kUnavailable or
//               kDeadlineExceeded; BadDigest / XAmzContentSHA256Mismatch: kDataLoss (the body
//               was corrupted on the way; the engine sends it again)
//   not retried AccessDenied (kPermissionDenied); InvalidAccessKeyId, SignatureDoesNotMatch,
//               ExpiredToken (kUnauthenticated); RequestTimeTooSkewed, wrong region or
//               addressing (kFailedPrecondition); NoSuchBucket, NoSuchKey, NoSuchUpload
//               (kNotFound); 416 (kOutOfRange); 501 (kUnimplemented); ...
//
// Messages name the action, the object URL and the endpoint, then the server's code and request
// id, and say what to do: "reading s3://b/k: the secret access key is wrong ... (HTTP 403
// SignatureDoesNotMatch, request id tx00..., endpoint http://127.0.0.1:7480)".
#pragma once

#include <optional>
#include <string>

#include "datacube/http/http_transport.h"
#include "datacube/storage/s3/s3_xml.h"

namespace datacube::storage::s3 {

// What the failed request was about.
struct S3ErrorContext {
  std::string action;  // "reading", "listing", "writing", ...
  std::string url;     // "s3://bucket/key"
  std::string bucket;
  std::string key;
  std::string endpoint;  // S3Endpoint::Display()
  std::string region;
  bool path_style = false;
  std::string credentials_source;
};

// Maps a non-2xx response (or a 2xx whose body is an <Error>, as CompleteMultipartUpload and
// CopyObject may send) to a Status. A 2xx without an error body is OK.
Status S3ResponseToStatus(const http::HttpResponse& response, const S3ErrorContext& context);

// Adds context to a transport failure (the code, and thus retrying, is kept).
Status S3TransportErrorToStatus(const Status& error, const S3ErrorContext& context);

// The region the server says the bucket lives in (x-amz-bucket-region, or <Region> of an
// AuthorizationHeaderMalformed error), when the response is a wrong-region refusal.
std::optional<std::string> WrongRegionHint(const http::HttpResponse& response);

}  // namespace datacube::storage::s3
