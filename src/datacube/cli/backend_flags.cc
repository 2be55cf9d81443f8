// Command-line flags of the storage backends. Each flag fills one entry of
// StoreConfig::options under the same name a DataCube spec uses for it, so the CLI and
// `datacube run` configure backends identically. Backends read their options in their own
// Options::FromConfig and report unknown or invalid values by option name.
#include "datacube/cli/common.h"
#include "datacube/cli/git_copy.h"
#include "datacube/cli/hf_copy.h"

namespace datacube::cli {
namespace {

// Sets backend option `name` to the flag's value when the flag is given.
CLI::Option* OptionFlag(CLI::App& app, const std::string& flag, const std::string& name,
                        const std::string& help) {
  return app.add_option_function<std::string>(
      flag, [name](const std::string& v) { Globals().backend_options[name] = v; }, help);
}

// Sets backend option `name` to "true" when the flag is given.
void SwitchFlag(CLI::App& app, const std::string& flag, const std::string& name,
                const std::string& help) {
  app.add_flag_callback(
      flag, [name] { Globals().backend_options[name] = "true"; }, help);
}

// S3, CoreWeave (cw://) and GCS (gs://). The option names are the ones a DataCube's S3 options
// use (docs/datacube-spec.md); their precedence over the environment is in docs/s3.md.
// Secrets have no flags (argv is visible to every user of the machine): they come from the
// environment, AWS profile files or a DataCube's secretKeyRef.
void AddS3Flags(CLI::App& app) {
  OptionFlag(app, "--endpoint", "s3-endpoint",
             "S3 endpoint URL, e.g. http://127.0.0.1:7480 (env AWS_ENDPOINT_URL_S3, "
             "AWS_ENDPOINT_URL; default AWS)");
  OptionFlag(app, "--region", "s3-region",
             "S3 region, or the CoreWeave availability zone for cw:// (env AWS_REGION)");
  OptionFlag(app, "--profile", "s3-profile", "AWS profile in ~/.aws/credentials and ~/.aws/config");
  OptionFlag(app, "--s3-addressing", "s3-addressing",
             "auto (default: virtual-hosted for AWS and CoreWeave, path-style otherwise), path "
             "or virtual")
      ->check(CLI::IsMember({"auto", "path", "virtual"}));
  SwitchFlag(app, "--no-sign-request", "s3-no-sign-request",
             "Send S3 requests unsigned (public buckets)");
  SwitchFlag(app, "--s3-no-check-bucket", "s3-no-check-bucket",
             "Do not check that the bucket exists or create it before writing");
  OptionFlag(app, "--cw-endpoint", "cw-endpoint",
             "CoreWeave endpoint for cw://: public (https://cwobject.com), lota (in-cluster "
             "cache http://cwlota.com) or a URL (env DATACUBE_CW_ENDPOINT)");
  OptionFlag(app, "--ca-bundle", "s3-ca-bundle",
             "PEM file of CAs trusted for S3 endpoints (env AWS_CA_BUNDLE)");
  OptionFlag(app, "--s3-upload-checksum", "s3-upload-checksum",
             "auto (default: SHA-256, plus Content-MD5 where the server ignores SHA-256 "
             "checksums) or sha256 (never MD5)")
      ->check(CLI::IsMember({"auto", "sha256"}));
}

}  // namespace

void AddBackendFlags(CLI::App& app) {
  AddS3Flags(app);
  AddGitFlags(app);
  AddHfFlags(app);
}

}  // namespace datacube::cli
