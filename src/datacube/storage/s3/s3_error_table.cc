#include "datacube/storage/s3/s3_error_table.h"

#include <optional>

namespace datacube::storage::s3 {
namespace {

constexpr bool kRetried = true;
constexpr bool kFinal = false;

// 5xx but 501 (not implemented, which no retry changes).
bool IsServerError(const ErrorFacts& f) {
  const int status = f.response.status;
  return status >= 500 && status != 501 && f.code != "NotImplemented";
}

// A refused HEAD: no body says why.
bool IsForbiddenWithoutDetails(const ErrorFacts& f) {
  return f.response.status == 403 && !f.has_document;
}

bool InAnotherRegion(const ErrorFacts& f) {
  auto region = WrongRegionHint(f.response);
  return region && *region != f.context.region;
}

std::string DescribeWrongRegion(const ErrorFacts& f) {
  const std::string region = WrongRegionHint(f.response).value_or("");
  return "wrong region: bucket is in " + region + ", not " + f.context.region + "; use --region " +
         region;
}

std::string DescribeRedirect(const ErrorFacts& f) {
  const std::string& where = f.server_endpoint;
  if (f.context.path_style) {
    return "virtual-hosted addressing required: the server redirects path-style requests" +
           (where.empty() ? std::string() : " to " + where) + "; use --s3-addressing virtual";
  }
  return "the bucket must be addressed at another endpoint" +
         (where.empty() ? std::string() : " (" + where + ")") + "; check --endpoint and --region";
}

// A 404 without a telling code: a bucket request names the bucket, an object request cannot
// say which of the two is missing.
std::string DescribeNotFound(const ErrorFacts& f) {
  return f.context.key.empty() ? "bucket \"" + f.context.bucket + "\" does not exist"
                               : "no such object (or no such bucket)";
}

std::string DescribeRefusedName(const ErrorFacts& f) {
  return f.server_message.empty() ? "the server refused the name" : f.server_message;
}

}  // namespace

const std::vector<ErrorRule>& ErrorRules() {
  using enum StatusCode;
  static const std::vector<ErrorRule> rules = {
      // Throttling and transient server trouble.
      {{"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests",
        "RequestThrottled", "BandwidthLimitExceeded", "ServiceUnavailable",
        "TooManyRequestsException"},
       {429},
       kUnavailable,
       kRetried,
       "the server is throttling requests; retrying with exponential backoff"},
      {{"RequestTimeout"},
       {408},
       kUnavailable,
       kRetried,
       "the server timed out waiting for the request; retrying"},
      {{"IncompleteBody"},
       {},
       kUnavailable,
       kRetried,
       "the server received a truncated body; retrying"},
      {{"BadDigest", "XAmzContentSHA256Mismatch"},
       {},
       kDataLoss,
       kRetried,
       "the server computed a different checksum for the bytes it received: they were corrupted "
       "on the way; sending them again"},
      {{"InternalError"},
       {},
       kUnavailable,
       kRetried,
       "server error; retrying{: server_message}",
       IsServerError},
      {{"NotImplemented"},
       {501},
       kUnimplemented,
       kFinal,
       "the server does not implement this operation{: server_message}"},

      // Credentials and permissions.
      {{"InvalidAccessKeyId"},
       {},
       kUnauthenticated,
       kFinal,
       "the access key id{creds} is not known to this server; check the credentials and that "
       "--endpoint points at the right service"},
      {{"SignatureDoesNotMatch"},
       {},
       kUnauthenticated,
       kFinal,
       "the server rejected the request signature: the secret access key{creds} is wrong (or a "
       "proxy altered the request)"},
      {{"ExpiredToken", "TokenRefreshRequired", "ExpiredTokenException"},
       {},
       kUnauthenticated,
       kFinal,
       "the session token{creds} has expired; refresh the temporary credentials "
       "(AWS_SESSION_TOKEN)"},
      {{"InvalidToken"},
       {},
       kUnauthenticated,
       kFinal,
       "the session token{creds} is invalid; refresh the temporary credentials"},
      {{"RequestTimeTooSkewed"},
       {},
       kFailedPrecondition,
       kFinal,
       "clock skew: this machine's clock differs from the server's by more than 15 "
       "minutes{server_time}; fix the clock (e.g. enable NTP)"},
      {{}, {}, kFailedPrecondition, kFinal, "", InAnotherRegion, DescribeWrongRegion},
      {{"PermanentRedirect", "TemporaryRedirect"},
       {301, 307},
       kFailedPrecondition,
       kFinal,
       "",
       nullptr,
       DescribeRedirect},
      {{"SecondLevelDomainForbidden", "UnsupportedPathStyle"},
       {},
       kFailedPrecondition,
       kFinal,
       "virtual-hosted addressing required; use --s3-addressing virtual"},
      {{"AccessDenied", "AllAccessDisabled", "AccountProblem"},
       {},
       kPermissionDenied,
       kFinal,
       "access denied: the credentials{creds} lack permission for this (check the bucket policy "
       "and the key's rights: s3:GetObject, s3:PutObject, s3:ListBucket, s3:DeleteObject)"},
      {{},
       {},
       kPermissionDenied,
       kFinal,
       "access denied (the response has no details: wrong credentials{creds}, wrong region, or "
       "missing s3:GetObject/s3:ListBucket permission)",
       IsForbiddenWithoutDetails},

      // Things that do not exist.
      {{"NoSuchBucket"}, {}, kNotFound, kFinal, "bucket \"{bucket}\" does not exist at {endpoint}"},
      {{"NoSuchKey"}, {}, kNotFound, kFinal, "no such object"},
      {{"NoSuchUpload"},
       {},
       kNotFound,
       kFinal,
       "the multipart upload no longer exists (completed or aborted elsewhere)"},
      {{}, {404}, kNotFound, kFinal, "", nullptr, DescribeNotFound},

      // Writes the server refused.
      {{"BucketAlreadyExists"},
       {},
       kAlreadyExists,
       kFinal,
       "the bucket name \"{bucket}\" is taken by another account; choose another name"},
      {{"BucketAlreadyOwnedByYou"}, {}, kAlreadyExists, kFinal, "you already own this bucket"},
      {{"PreconditionFailed"},
       {412},
       kFailedPrecondition,
       kFinal,
       "precondition failed: the object changed while it was being read, or it already exists"},
      {{"InvalidRange"}, {416}, kOutOfRange, kFinal, "the range starts past the end of the object"},
      {{"EntityTooSmall"},
       {},
       kFailedPrecondition,
       kFinal,
       "a part is smaller than the server's minimum part size (5 MiB on S3)"},
      {{"EntityTooLarge"},
       {},
       kFailedPrecondition,
       kFinal,
       "the object or part is larger than the server accepts in one request"},
      {{"InvalidPart", "InvalidPartOrder"},
       {},
       kFailedPrecondition,
       kFinal,
       "the server does not have the parts this upload expects; it will start over"},
      {{"InvalidBucketName", "KeyTooLongError"},
       {},
       kInvalidArgument,
       kFinal,
       "",
       nullptr,
       DescribeRefusedName},
      {{"QuotaExceeded", "TooManyBuckets"}, {}, kResourceExhausted, kFinal, "quota exceeded"},
      {{"OperationAborted"},
       {},
       kUnavailable,
       kRetried,
       "a conflicting operation is in progress; retrying"},
  };
  return rules;
}

std::string ExpandErrorMessage(std::string_view message, const ErrorFacts& f) {
  const S3ErrorContext& ctx = f.context;
  auto placeholder = [&](std::string_view name) -> std::optional<std::string> {
    if (name == "creds") {
      if (ctx.credentials_source.empty()) return std::string();
      return " (from " + ctx.credentials_source + ")";
    }
    if (name == "bucket") return ctx.bucket;
    if (name == "endpoint") return ctx.endpoint;
    if (name == ": server_message") {
      return f.server_message.empty() ? std::string() : ": " + f.server_message;
    }
    if (name == "server_time") {
      const std::string date = f.response.Header("date").value_or("");
      return date.empty() ? std::string() : " (server time: " + date + ")";
    }
    return std::nullopt;
  };
  // One pass from left to right: what a placeholder stands for (a server's text) is never
  // expanded itself.
  std::string out;
  size_t pos = 0;
  while (pos < message.size()) {
    const size_t open = message.find('{', pos);
    const size_t close = open == std::string_view::npos ? open : message.find('}', open);
    if (close == std::string_view::npos) break;
    out.append(message.substr(pos, open - pos));
    auto value = placeholder(message.substr(open + 1, close - open - 1));
    out.append(value ? *value : std::string(message.substr(open, close - open + 1)));
    pos = close + 1;
  }
  out.append(message.substr(pos));
  return out;
}

}  // namespace datacube::storage::s3
