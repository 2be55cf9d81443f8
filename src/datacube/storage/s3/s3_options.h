// Everything an S3 store needs, resolved once from StoreConfig (command-line flags or a
// DataCube's options), the environment (StoreConfig::Env, so a DataCube's executor.env applies)
// and the AWS profile files.
//
// StoreConfig::options names (the same in DataCube specs and as CLI flags, cli/backend_flags.cc):
//   s3-endpoint           endpoint URL, http(s)://host[:port]             (--endpoint)
//   s3-region             signing region / CoreWeave availability zone    (--region)
//   s3-profile            AWS profile name                                (--profile)
//   s3-addressing         auto | path | virtual                           (--s3-addressing)
//   s3-access-key-id      access key id                  (specs; CLI: environment or profile)
//   s3-secret-access-key  secret access key              (specs via secretKeyRef only)
//   s3-session-token      session token of temporary credentials (specs via secretKeyRef)
//   s3-no-sign-request    "true": anonymous, unsigned requests            (--no-sign-request)
//   s3-no-check-bucket    "true": never HEAD or create the bucket         (--s3-no-check-bucket)
//   s3-ca-bundle          PEM file of trusted CAs                         (--ca-bundle)
//   s3-upload-checksum    auto | sha256  (auto adds Content-MD5 where the server has no
//                         flexible checksums)                             (--s3-upload-checksum)
//   cw-endpoint           cw:// only: public | lota | URL                 (--cw-endpoint)
// `s3-uri` (the location of a DataCube's s3 side) is read by the spec loader, not here.
//
// Environment, in order of precedence after the options above:
//   credentials  AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY [+ AWS_SESSION_TOKEN], then the
//                profile (AWS_PROFILE or s3-profile) in AWS_SHARED_CREDENTIALS_FILE
//                (~/.aws/credentials), then AWS_CONFIG_FILE (~/.aws/config)
//   region       AWS_REGION, AWS_DEFAULT_REGION, the profile's region
//   endpoint     s3://: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile's s3.endpoint_url
//                and endpoint_url; cw://: DATACUBE_CW_ENDPOINT; gs://: none
//   addressing   the profile's s3.addressing_style
//   TLS          AWS_CA_BUNDLE (a CA file for curl); proxies HTTPS_PROXY/HTTP_PROXY/NO_PROXY
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "datacube/http/http_transport.h"
#include "datacube/location/location.h"
#include "datacube/retry/retry.h"
#include "datacube/storage/s3/s3_endpoint.h"
#include "datacube/storage/s3/sigv4_signer.h"
#include "datacube/storage/store_config.h"

namespace datacube::storage::s3 {

inline constexpr char kOptEndpoint[] = "s3-endpoint";
inline constexpr char kOptRegion[] = "s3-region";
inline constexpr char kOptProfile[] = "s3-profile";
inline constexpr char kOptAddressing[] = "s3-addressing";
inline constexpr char kOptAccessKeyId[] = "s3-access-key-id";
inline constexpr char kOptSecretAccessKey[] = "s3-secret-access-key";
inline constexpr char kOptSessionToken[] = "s3-session-token";
inline constexpr char kOptNoSignRequest[] = "s3-no-sign-request";
inline constexpr char kOptNoCheckBucket[] = "s3-no-check-bucket";
inline constexpr char kOptCaBundle[] = "s3-ca-bundle";
inline constexpr char kOptUploadChecksum[] = "s3-upload-checksum";
inline constexpr char kOptCwEndpoint[] = "cw-endpoint";

// How uploads prove their bytes to the server.
enum class UploadChecksum {
  // x-amz-checksum-sha256 on every upload plus the signed payload SHA-256 (which the server
  // verifies); Content-MD5 as well on unsigned (anonymous) uploads until the server is seen to
  // verify flexible checksums (Ceph RGW 16 does not).
  kAuto,
  // x-amz-checksum-sha256 and the signed payload SHA-256 only (no MD5 pass over the data).
  kSha256,
};

struct S3StoreOptions {
  Scheme scheme = Scheme::kS3;
  std::string bucket;
  S3Endpoint endpoint;
  AwsCredentials credentials;  // anonymous() when --no-sign-request
  // Where the credentials came from, for messages ("environment (AWS_ACCESS_KEY_ID)").
  std::string credentials_source;
  bool check_bucket = true;
  UploadChecksum upload_checksum = UploadChecksum::kAuto;
  http::TransportOptions transport;
  // Retries of requests the engine does not retry itself (metadata: HEAD, List, Delete,
  // multipart bookkeeping).
  RetryPolicy retry;

  // Tests: a transport to use instead of libcurl, and a fixed clock.
  std::shared_ptr<http::HttpTransport> transport_override;
  std::function<std::chrono::system_clock::time_point()> clock;
};

// Resolves the options for `location` (an s3://, cw:// or gs:// location). Every secret found is
// registered for redaction. Errors are kInvalidArgument naming the option, variable or file;
// missing credentials are kUnauthenticated listing where they were looked for.
Result<S3StoreOptions> S3StoreOptionsFromConfig(const Location& location,
                                                const StoreConfig& config);

// "true"/"1"/"yes" (case-insensitive) as true; "", "false"/"0"/"no" as false; else an error
// naming the option.
Result<bool> ParseBoolOption(const std::string& value, std::string_view option);

}  // namespace datacube::storage::s3
