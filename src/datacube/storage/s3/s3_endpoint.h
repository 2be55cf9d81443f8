// Where the requests of one bucket go: scheme, host, port, path-style or virtual-hosted
// addressing, and the region that signs them (docs/s3.md, "Addressing"; the wire facts:
// docs/protocols/s3.md, "Addressing and regions").
//
//   s3://b/k  AWS by default: https://b.s3.<region>.amazonaws.com/k (virtual-hosted)
//             custom endpoint: --endpoint / AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL / profile;
//             path-style for IP addresses, localhost and other custom hosts
//             (http://127.0.0.1:7480/b/k), virtual-hosted for *.amazonaws.com and CoreWeave
//   cw://b/k  CoreWeave AI Object Storage, always virtual-hosted: https://b.cwobject.com/k, or
//             the in-cluster LOTA cache http://b.cwlota.com/k (--cw-endpoint lota)
//   gs://b/k  Google Cloud Storage XML API with HMAC keys: https://storage.googleapis.com/b/k
#pragma once

#include <string>
#include <string_view>

#include "datacube/base/result.h"
#include "datacube/location/location.h"

namespace datacube::storage::s3 {

enum class Addressing { kAuto, kPath, kVirtual };

// "auto", "path" or "virtual" (also "virtual-hosted"); anything else is kInvalidArgument naming
// `option`.
Result<Addressing> ParseAddressing(std::string_view text, std::string_view option);

inline constexpr std::string_view kCoreWeavePublicEndpoint = "https://cwobject.com";
// LOTA is a node-local caching proxy inside CoreWeave clusters; it speaks plain HTTP.
inline constexpr std::string_view kCoreWeaveLotaEndpoint = "http://cwlota.com";
inline constexpr std::string_view kGcsEndpoint = "https://storage.googleapis.com";
inline constexpr std::string_view kDefaultAwsRegion = "us-east-1";
// GCS accepts any region in the credential scope of an HMAC-signed request; "auto" is the
// documented choice.
inline constexpr std::string_view kGcsRegion = "auto";

// What the user configured, already picked from flags, environment and profile.
struct EndpointSettings {
  Scheme scheme = Scheme::kS3;  // kS3, kCoreWeave or kGcs
  std::string bucket;
  // Explicit endpoint URL ("https://host[:port]"), or "lota"/"public" for CoreWeave; empty for
  // the scheme's default.
  std::string endpoint;
  Addressing addressing = Addressing::kAuto;
  // Signing region; empty picks the default (AWS us-east-1, GCS auto; CoreWeave has none and
  // requires it).
  std::string region;
};

// A resolved endpoint. A value type, cheap to copy.
struct S3Endpoint {
  std::string scheme;  // "http" or "https"
  std::string host;    // endpoint host, without bucket or port
  int port = 0;        // 0 = the scheme's default
  bool virtual_hosted = false;
  std::string region;
  // The endpoint is AWS's default one, derived from the region: a region correction from the
  // server (301 / x-amz-bucket-region) may move it.
  bool aws_default = false;

  // "https://s3.us-east-1.amazonaws.com" or "http://127.0.0.1:7480", for messages.
  std::string Display() const;
  // Host header value for `bucket` ("b.s3.us-east-1.amazonaws.com", "127.0.0.1:7480").
  std::string HostFor(std::string_view bucket) const;
  // Wire path of an object ("/k" virtual-hosted, "/b/k" path-style); `key` is raw and is
  // percent-encoded here; an empty key addresses the bucket itself.
  std::string PathFor(std::string_view bucket, std::string_view key) const;
  // scheme://host[:port]<path>[?query]
  std::string UrlFor(std::string_view bucket, std::string_view key, std::string_view query) const;
};

// Resolves `settings`; kInvalidArgument for a malformed endpoint URL, a bucket name that breaks
// the scheme's rules, or a cw:// bucket without a region.
Result<S3Endpoint> ResolveEndpoint(const EndpointSettings& settings);

// The endpoint of AWS region `region` (https://s3.<region>.amazonaws.com), keeping the
// addressing of `current`.
S3Endpoint AwsEndpointForRegion(const S3Endpoint& current, std::string_view region);

}  // namespace datacube::storage::s3
