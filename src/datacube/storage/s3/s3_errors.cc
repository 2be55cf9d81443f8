#include "datacube/storage/s3/s3_errors.h"

#include <set>

namespace datacube::storage::s3 {
namespace {

// Codes AWS and compatible servers use for "slow down" besides 503 SlowDown.
const std::set<std::string>& ThrottlingCodes() {
  static const std::set<std::string> codes = {"SlowDown",
                                              "Throttling",
                                              "ThrottlingException",
                                              "RequestLimitExceeded",
                                              "TooManyRequests",
                                              "RequestThrottled",
                                              "BandwidthLimitExceeded",
                                              "ServiceUnavailable",
                                              "TooManyRequestsException"};
  return codes;
}

std::string Suffix(int status, const std::string& code, const std::string& request_id,
                   const S3ErrorContext& ctx) {
  std::string s = " (HTTP " + std::to_string(status);
  if (!code.empty()) s += " " + code;
  if (!request_id.empty()) s += ", request id " + request_id;
  if (!ctx.endpoint.empty()) s += ", endpoint " + ctx.endpoint;
  return s + ")";
}

std::string Clip(std::string s) {
  constexpr size_t kMaxServerMessage = 300;  // enough for any S3 message, bounded for logs
  if (s.size() > kMaxServerMessage) s = s.substr(0, kMaxServerMessage) + "...";
  return s;
}

}  // namespace

std::optional<std::string> WrongRegionHint(const http::HttpResponse& r) {
  auto doc = ParseErrorDocument(r.body);
  std::string code = doc ? doc->code : "";
  bool redirect = r.status == 301 || r.status == 307 || code == "PermanentRedirect" ||
                  code == "TemporaryRedirect";
  bool malformed =
      code == "AuthorizationHeaderMalformed" || code == "IllegalLocationConstraintException";
  // A HEAD has no body: a 301 or 400 with x-amz-bucket-region is the only clue.
  bool head_hint = (r.status == 400 || r.status == 403) && !doc;
  if (!redirect && !malformed && !head_hint) return std::nullopt;
  if (auto h = r.Header("x-amz-bucket-region"); h && !h->empty()) return *h;
  if (doc && !doc->region.empty()) return doc->region;
  return std::nullopt;
}

Status S3TransportErrorToStatus(const Status& error, const S3ErrorContext& ctx) {
  if (error.ok()) return error;
  std::string hint;
  if (error.code() == StatusCode::kUnavailable)
    hint = " (will retry; check that the endpoint is reachable)";
  if (error.code() == StatusCode::kFailedPrecondition) {
    hint =
        " (TLS: set --ca-bundle or AWS_CA_BUNDLE to the CA that signed the server's certificate)";
  }
  return Status(error.code(), ctx.action + " " + ctx.url + " at " + ctx.endpoint + ": " +
                                  std::string(error.message()) + hint);
}

Status S3ResponseToStatus(const http::HttpResponse& r, const S3ErrorContext& ctx) {
  std::optional<S3ErrorDocument> doc;
  if (!r.body.empty()) doc = ParseErrorDocument(r.body);
  if (r.ok() && !doc) return Status();

  const int status = r.status;
  const std::string code = doc ? doc->code : "";
  std::string request_id = doc ? doc->request_id : "";
  if (request_id.empty()) request_id = r.Header("x-amz-request-id").value_or("");
  const std::string server_message = doc ? Clip(doc->message) : "";
  const std::string head = ctx.action + " " + ctx.url + ": ";
  const std::string tail = Suffix(status, code, request_id, ctx);
  auto make = [&](StatusCode c, const std::string& what) { return Status(c, head + what + tail); };
  const std::string creds =
      ctx.credentials_source.empty() ? std::string() : " (from " + ctx.credentials_source + ")";

  // Throttling and transient server trouble: retried.
  if (ThrottlingCodes().count(code) || status == 429) {
    return make(StatusCode::kUnavailable,
                "the server is throttling requests; retrying with exponential backoff");
  }
  if (code == "RequestTimeout" || status == 408) {
    return make(StatusCode::kUnavailable, "the server timed out waiting for the request; retrying");
  }
  if (code == "IncompleteBody") {
    return make(StatusCode::kUnavailable, "the server received a truncated body; retrying");
  }
  if (code == "BadDigest" || code == "XAmzContentSHA256Mismatch") {
    return make(StatusCode::kDataLoss,
                "the server computed a different checksum for the bytes it received: they were "
                "corrupted on the way; sending them again");
  }
  if (code == "InternalError" || (status >= 500 && status != 501 && code != "NotImplemented")) {
    return make(StatusCode::kUnavailable,
                "server error; retrying" + (server_message.empty() ? "" : ": " + server_message));
  }
  if (code == "NotImplemented" || status == 501) {
    return make(StatusCode::kUnimplemented,
                "the server does not implement this operation" +
                    (server_message.empty() ? std::string() : ": " + server_message));
  }

  // Credentials and permissions: fail at once.
  if (code == "InvalidAccessKeyId") {
    return make(StatusCode::kUnauthenticated,
                "the access key id" + creds +
                    " is not known to this server; check the "
                    "credentials and that --endpoint points at the right service");
  }
  if (code == "SignatureDoesNotMatch") {
    return make(StatusCode::kUnauthenticated,
                "the server rejected the request signature: the secret access key" + creds +
                    " is wrong (or a proxy altered the request)");
  }
  if (code == "ExpiredToken" || code == "TokenRefreshRequired" || code == "ExpiredTokenException") {
    return make(StatusCode::kUnauthenticated,
                "the session token" + creds +
                    " has expired; refresh the temporary credentials (AWS_SESSION_TOKEN)");
  }
  if (code == "InvalidToken") {
    return make(StatusCode::kUnauthenticated,
                "the session token" + creds + " is invalid; refresh the temporary credentials");
  }
  if (code == "RequestTimeTooSkewed") {
    std::string server_time = r.Header("date").value_or("");
    return make(StatusCode::kFailedPrecondition,
                "clock skew: this machine's clock differs from the server's by more than 15 "
                "minutes" +
                    (server_time.empty() ? "" : " (server time: " + server_time + ")") +
                    "; fix the clock (e.g. enable NTP)");
  }
  if (auto region = WrongRegionHint(r); region && *region != ctx.region) {
    return make(StatusCode::kFailedPrecondition, "wrong region: bucket is in " + *region +
                                                     ", not " + ctx.region + "; use --region " +
                                                     *region);
  }
  if (status == 301 || status == 307 || code == "PermanentRedirect" ||
      code == "TemporaryRedirect") {
    std::string where = doc && !doc->endpoint.empty() ? doc->endpoint : "";
    if (ctx.path_style) {
      return make(StatusCode::kFailedPrecondition,
                  "virtual-hosted addressing required: the server redirects path-style requests" +
                      (where.empty() ? std::string() : " to " + where) +
                      "; use --s3-addressing virtual");
    }
    return make(StatusCode::kFailedPrecondition,
                "the bucket must be addressed at another endpoint" +
                    (where.empty() ? std::string() : " (" + where + ")") +
                    "; check --endpoint and --region");
  }
  if (code == "SecondLevelDomainForbidden" || code == "UnsupportedPathStyle") {
    return make(StatusCode::kFailedPrecondition,
                "virtual-hosted addressing required; use --s3-addressing virtual");
  }
  if (code == "AccessDenied" || code == "AllAccessDisabled" || code == "AccountProblem") {
    return make(StatusCode::kPermissionDenied,
                "access denied: the credentials" + creds +
                    " lack permission for this (check the bucket policy and the key's rights: "
                    "s3:GetObject, s3:PutObject, s3:ListBucket, s3:DeleteObject)");
  }
  if (status == 403 && !doc) {
    return make(StatusCode::kPermissionDenied,
                "access denied (the response has no details: wrong credentials" + creds +
                    ", wrong region, or missing s3:GetObject/s3:ListBucket permission)");
  }

  // Things that do not exist.
  if (code == "NoSuchBucket") {
    return make(StatusCode::kNotFound,
                "bucket \"" + ctx.bucket + "\" does not exist at " + ctx.endpoint);
  }
  if (code == "NoSuchKey") return make(StatusCode::kNotFound, "no such object");
  if (code == "NoSuchUpload") {
    return make(StatusCode::kNotFound,
                "the multipart upload no longer exists (completed or aborted elsewhere)");
  }
  if (status == 404) {
    return make(StatusCode::kNotFound, ctx.key.empty()
                                           ? "bucket \"" + ctx.bucket + "\" does not exist"
                                           : "no such object (or no such bucket)");
  }

  // Writes the server refused.
  if (code == "BucketAlreadyExists") {
    return make(StatusCode::kAlreadyExists, "the bucket name \"" + ctx.bucket +
                                                "\" is taken by another account; choose "
                                                "another name");
  }
  if (code == "BucketAlreadyOwnedByYou") {
    return make(StatusCode::kAlreadyExists, "you already own this bucket");
  }
  if (code == "PreconditionFailed" || status == 412) {
    return make(StatusCode::kFailedPrecondition,
                "precondition failed: the object changed while it was being read, or it "
                "already exists");
  }
  if (code == "InvalidRange" || status == 416) {
    return make(StatusCode::kOutOfRange, "the range starts past the end of the object");
  }
  if (code == "EntityTooSmall") {
    return make(StatusCode::kFailedPrecondition,
                "a part is smaller than the server's minimum part size (5 MiB on S3)");
  }
  if (code == "EntityTooLarge") {
    return make(StatusCode::kFailedPrecondition,
                "the object or part is larger than the server "
                "accepts in one request");
  }
  if (code == "InvalidPart" || code == "InvalidPartOrder") {
    return make(StatusCode::kFailedPrecondition,
                "the server does not have the parts this upload expects; it will start over");
  }
  if (code == "InvalidBucketName" || code == "KeyTooLongError") {
    return make(StatusCode::kInvalidArgument,
                server_message.empty() ? "the server refused the name" : server_message);
  }
  if (code == "QuotaExceeded" || code == "TooManyBuckets") {
    return make(StatusCode::kResourceExhausted, "quota exceeded");
  }
  if (code == "OperationAborted") {
    return make(StatusCode::kUnavailable, "a conflicting operation is in progress; retrying");
  }

  std::string what = "the server refused the request" +
                     (server_message.empty() ? std::string() : ": " + server_message);
  switch (status) {
    case 401:
      return make(StatusCode::kUnauthenticated, what);
    case 403:
      return make(StatusCode::kPermissionDenied, what);
    case 409:
      return make(StatusCode::kAborted, what);
    default:
      if (status >= 200 && status < 300) return make(StatusCode::kUnknown, what);
      return make(
          status >= 400 && status < 500 ? StatusCode::kFailedPrecondition : StatusCode::kUnknown,
          what);
  }
}

}  // namespace datacube::storage::s3
