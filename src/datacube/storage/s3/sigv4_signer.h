// AWS Signature Version 4, as S3 (and every S3-compatible store: CoreWeave, Ceph RGW, MinIO, GCS
// with HMAC keys) checks it. Pure functions over plain values: no I/O, no clock.
//
// Every step is exposed (canonical URI, query, headers, canonical request, string to sign) so the
// tests can compare each one with AWS's published test suite and the S3 worked examples
// (testdata/aws-sigv4-test-suite/). The algorithm: docs/protocols/s3.md, "Signature Version 4".
//
// Thread-safety: stateless; callable from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "datacube/base/result.h"
#include "datacube/base/secret.h"

namespace datacube::storage::s3 {

// SHA-256 of the empty string: the payload hash of every request without a body.
inline constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
// Payload hash for requests whose body is not covered by the signature (presigned URLs).
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
// S3 refuses presigned URLs valid for longer than seven days.
inline constexpr int64_t kMaxPresignSeconds = 7 * 24 * 3600;

// Keys that sign requests. Empty access_key_id means anonymous (requests go unsigned).
struct AwsCredentials {
  std::string access_key_id;
  Secret<> secret_access_key;
  // Temporary credentials (STS) carry a session token, sent as x-amz-security-token.
  Secret<> session_token;

  bool anonymous() const { return access_key_id.empty(); }
};

struct SigV4Config {
  // Region of the credential scope ("us-east-1", a CoreWeave zone "US-EAST-04A", GCS "auto").
  std::string region;
  std::string service = "s3";
  // Generic AWS services remove "." and ".." segments and duplicate slashes from the path
  // before signing, and URI-encode the already-encoded path a second time. S3 does neither:
  // an object key is signed exactly as it is named. Both switches stay false for S3.
  bool normalize_path = false;
  bool double_encode = false;
  // Sign the session token (the normal case). False adds it after signing, which only a few
  // services (and two test-suite cases) expect.
  bool sign_session_token = true;
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// A request as it will be sent.
struct SigV4Request {
  std::string method;
  // Path as sent on the wire: percent-encoded, starting with '/'. Raw characters that should
  // have been encoded (a space, UTF-8) are tolerated and encoded for signing.
  std::string path;
  // Query string as sent on the wire, without '?'.
  std::string query;
  // Headers to sign; must include "host". Names in any case; repeated names are joined.
  HeaderList headers;
  // Hex SHA-256 of the body, or kUnsignedPayload.
  std::string payload_hash;
};

// Every intermediate value of one signature, for requests and for tests.
struct SigV4Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string credential_scope;  // "20130524/us-east-1/s3/aws4_request"
  std::string signed_headers;    // "host;range;x-amz-content-sha256;x-amz-date"
  std::string signature;         // 64 hex characters
};

// "20130524T000000Z": the x-amz-date format (UTC).
std::string FormatAmzDate(std::chrono::system_clock::time_point t);

// RFC 3986 percent-encoding as SigV4 defines it: A-Z a-z 0-9 - . _ ~ are kept, '/' is kept
// when keep_slash, every other byte becomes %XX with upper-case hex.
std::string UriEncode(std::string_view s, bool keep_slash);

// The canonical URI of a wire path under `config` (see SigV4Config::normalize_path).
std::string CanonicalUri(std::string_view wire_path, const SigV4Config& config);
// The canonical query: parameters decoded, re-encoded strictly, sorted by name then value;
// "name=" for a parameter without a value.
std::string CanonicalQuery(std::string_view wire_query);
// Canonical header block ("name:value\n" per header, sorted, values trimmed with inner runs of
// whitespace collapsed) and the signed-headers list.
std::pair<std::string, std::string> CanonicalHeaders(const HeaderList& headers);

// Computes the signature of `request` at `amz_date`. `request.headers` must already contain
// everything that is signed (host, x-amz-date, x-amz-content-sha256, x-amz-security-token...).
SigV4Signature ComputeSignature(const SigV4Request& request, const AwsCredentials& credentials,
                                const SigV4Config& config, std::string_view amz_date);

// Header authentication: adds x-amz-date (and x-amz-security-token) to `request.headers`, signs,
// and returns the signature; the caller sends AuthorizationHeader(...) with the request. The
// session token is appended unsigned after signing when !config.sign_session_token.
SigV4Signature SignHeaders(SigV4Request& request, const AwsCredentials& credentials,
                           const SigV4Config& config, std::string_view amz_date);
// "AWS4-HMAC-SHA256 Credential=AKID/scope, SignedHeaders=..., Signature=...".
std::string AuthorizationHeader(const SigV4Signature& signature, std::string_view access_key_id);

// Query authentication (a presigned URL): returns the query string to send instead of
// `request.query`, carrying X-Amz-Algorithm, -Credential, -Date, -Expires, -SignedHeaders,
// -Security-Token and -Signature. `request.payload_hash` is normally kUnsignedPayload. Fails with
// kInvalidArgument when expires_seconds is outside 1..kMaxPresignSeconds.
Result<std::string> PresignQuery(const SigV4Request& request, const AwsCredentials& credentials,
                                 const SigV4Config& config, std::string_view amz_date,
                                 int64_t expires_seconds, SigV4Signature* signature = nullptr);

}  // namespace datacube::storage::s3
