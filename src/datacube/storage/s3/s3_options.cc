#include "datacube/storage/s3/s3_options.h"

#include <cstdlib>
#include <filesystem>

#include "datacube/base/secret.h"
#include "datacube/storage/s3/aws_profile.h"

namespace datacube::storage::s3 {
namespace {

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The first non-empty value of a precedence list, and the name of where it came from.
struct Picked {
  std::string value;
  std::string source;
};

Picked FirstOf(std::initializer_list<std::pair<std::string, std::string>> candidates) {
  for (const auto& [value, source] : candidates) {
    if (!value.empty()) return {value, source};
  }
  return {};
}

// Credentials, endpoints and regions go into HTTP headers: a CR or LF in one would start a
// header of its own at the server. Refused at load, naming where the value came from and never
// showing it.
Status CheckSingleLine(std::string_view value, const std::string& where) {
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) {
      return InvalidArgumentError(where +
                                  " contains a control character (such as CR or LF); it must be "
                                  "a single line of printable characters");
    }
  }
  return Status();
}

// Checks the three parts of a credential set, each under its own name.
Status CheckCredentials(const AwsCredentials& c, const std::string& id_name,
                        const std::string& secret_name, const std::string& token_name) {
  DC_RETURN_IF_ERROR(CheckSingleLine(c.access_key_id, id_name));
  DC_RETURN_IF_ERROR(CheckSingleLine(c.secret_access_key.reveal(), secret_name));
  return CheckSingleLine(c.session_token.reveal(), token_name);
}

Result<AwsCredentials> PickCredentials(const StoreConfig& config, const AwsProfile& profile,
                                       const std::string& url, std::string* source) {
  AwsCredentials c;
  const std::string opt_id = config.Option(kOptAccessKeyId);
  const std::string opt_secret = config.Option(kOptSecretAccessKey);
  if (!opt_id.empty() || !opt_secret.empty()) {
    if (opt_id.empty() || opt_secret.empty()) {
      return InvalidArgumentError(std::string("options ") + kOptAccessKeyId + " and " +
                                  kOptSecretAccessKey + " must be given together (for " + url +
                                  ")");
    }
    c.access_key_id = opt_id;
    c.secret_access_key = Secret<>(opt_secret);
    c.session_token = Secret<>(config.Option(kOptSessionToken));
    *source = std::string("options ") + kOptAccessKeyId + "/" + kOptSecretAccessKey;
    DC_RETURN_IF_ERROR(CheckCredentials(c, std::string("option ") + kOptAccessKeyId,
                                        std::string("option ") + kOptSecretAccessKey,
                                        std::string("option ") + kOptSessionToken));
    return c;
  }
  const std::string env_id = config.Env("AWS_ACCESS_KEY_ID").value_or("");
  const std::string env_secret = config.Env("AWS_SECRET_ACCESS_KEY").value_or("");
  if (!env_id.empty() && !env_secret.empty()) {
    c.access_key_id = env_id;
    c.secret_access_key = Secret<>(env_secret);
    c.session_token = Secret<>(config.Env("AWS_SESSION_TOKEN").value_or(""));
    *source = "environment (AWS_ACCESS_KEY_ID)";
    DC_RETURN_IF_ERROR(CheckCredentials(c, "environment variable AWS_ACCESS_KEY_ID",
                                        "environment variable AWS_SECRET_ACCESS_KEY",
                                        "environment variable AWS_SESSION_TOKEN"));
    return c;
  }
  const std::string p_id = profile.Get("aws_access_key_id");
  const std::string p_secret = profile.Get("aws_secret_access_key");
  if (!p_id.empty() && !p_secret.empty()) {
    c.access_key_id = p_id;
    c.secret_access_key = Secret<>(p_secret);
    c.session_token = Secret<>(profile.Get("aws_session_token"));
    *source = "AWS profile \"" + profile.name + "\"";
    const std::string in = " of AWS profile \"" + profile.name + "\"";
    DC_RETURN_IF_ERROR(CheckCredentials(c, "aws_access_key_id" + in, "aws_secret_access_key" + in,
                                        "aws_session_token" + in));
    return c;
  }
  std::string where = "options " + std::string(kOptAccessKeyId) + "/" + kOptSecretAccessKey +
                      ", AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profile \"" + profile.name + "\"";
  if (!profile.sources.empty()) where += " in " + profile.sources;
  return UnauthenticatedError("no credentials for " + url + " (looked in " + where +
                              "); set them, or pass --no-sign-request for a public bucket");
}

}  // namespace

Result<bool> ParseBoolOption(const std::string& value, std::string_view option) {
  std::string v = Lower(value);
  if (v.empty() || v == "false" || v == "0" || v == "no") return false;
  if (v == "true" || v == "1" || v == "yes") return true;
  return InvalidArgumentError(std::string(option) + ": \"" + value + "\" is not true or false");
}

Result<S3StoreOptions> S3StoreOptionsFromConfig(const Location& location,
                                                const StoreConfig& config) {
  S3StoreOptions o;
  o.scheme = location.scheme;
  o.bucket = location.authority;
  const std::string url = std::string(SchemeName(location.scheme)) + "://" + o.bucket;
  auto env = [&](const char* name) { return config.Env(name).value_or(""); };

  DC_ASSIGN_OR_RETURN(AwsProfile profile,
                      LoadAwsProfile(config.Option(kOptProfile),
                                     [&](const std::string& n) { return config.Env(n); }));

  // Endpoint.
  EndpointSettings es;
  es.scheme = location.scheme;
  es.bucket = o.bucket;
  const std::string of_profile = " of AWS profile \"" + profile.name + "\"";
  Picked endpoint;
  switch (location.scheme) {
    case Scheme::kCoreWeave:
      endpoint = FirstOf({{config.Option(kOptCwEndpoint), std::string("option ") + kOptCwEndpoint},
                          {env("DATACUBE_CW_ENDPOINT"), "DATACUBE_CW_ENDPOINT"},
                          {config.Option(kOptEndpoint), std::string("option ") + kOptEndpoint}});
      break;
    case Scheme::kGcs:
      endpoint = {config.Option(kOptEndpoint), std::string("option ") + kOptEndpoint};
      break;
    default:
      endpoint = FirstOf({{config.Option(kOptEndpoint), std::string("option ") + kOptEndpoint},
                          {env("AWS_ENDPOINT_URL_S3"), "AWS_ENDPOINT_URL_S3"},
                          {env("AWS_ENDPOINT_URL"), "AWS_ENDPOINT_URL"},
                          {profile.Get("s3.endpoint_url"), "s3.endpoint_url" + of_profile},
                          {profile.Get("endpoint_url"), "endpoint_url" + of_profile}});
      break;
  }
  DC_RETURN_IF_ERROR(CheckSingleLine(endpoint.value, endpoint.source));
  es.endpoint = endpoint.value;
  Picked region;
  if (location.scheme == Scheme::kGcs) {
    region = {config.Option(kOptRegion), std::string("option ") + kOptRegion};
  } else {
    region = FirstOf({{config.Option(kOptRegion), std::string("option ") + kOptRegion},
                      {env("AWS_REGION"), "AWS_REGION"},
                      {env("AWS_DEFAULT_REGION"), "AWS_DEFAULT_REGION"},
                      {profile.Get("region"), "region" + of_profile}});
  }
  DC_RETURN_IF_ERROR(CheckSingleLine(region.value, region.source));
  es.region = region.value;
  Picked addressing = FirstOf({{config.Option(kOptAddressing), kOptAddressing},
                               {profile.Get("s3.addressing_style"),
                                "s3.addressing_style of AWS profile \"" + profile.name + "\""}});
  DC_ASSIGN_OR_RETURN(es.addressing, ParseAddressing(addressing.value, addressing.source));
  DC_ASSIGN_OR_RETURN(o.endpoint, ResolveEndpoint(es));

  // Credentials.
  DC_ASSIGN_OR_RETURN(bool anonymous,
                      ParseBoolOption(config.Option(kOptNoSignRequest), kOptNoSignRequest));
  if (anonymous) {
    o.credentials_source = "none (--no-sign-request)";
  } else {
    DC_ASSIGN_OR_RETURN(o.credentials,
                        PickCredentials(config, profile, url, &o.credentials_source));
    RegisterSecretForRedaction(o.credentials.secret_access_key.reveal());
    RegisterSecretForRedaction(o.credentials.session_token.reveal());
  }

  DC_ASSIGN_OR_RETURN(bool no_check,
                      ParseBoolOption(config.Option(kOptNoCheckBucket), kOptNoCheckBucket));
  o.check_bucket = !no_check;
  const std::string checksum = Lower(config.Option(kOptUploadChecksum));
  if (checksum.empty() || checksum == "auto") {
    o.upload_checksum = UploadChecksum::kAuto;
  } else if (checksum == "sha256") {
    o.upload_checksum = UploadChecksum::kSha256;
  } else {
    return InvalidArgumentError(std::string(kOptUploadChecksum) + ": \"" + checksum +
                                "\" is not one of auto, sha256");
  }

  // Transport: proxies from the (possibly DataCube-provided) environment, and the CA bundle.
  o.transport = http::TransportOptionsFromEnv([&](const std::string& n) { return config.Env(n); });
  Picked ca =
      FirstOf({{config.Option(kOptCaBundle), kOptCaBundle},
               {env("AWS_CA_BUNDLE"), "AWS_CA_BUNDLE"},
               {profile.Get("ca_bundle"), "ca_bundle of AWS profile \"" + profile.name + "\""}});
  if (!ca.value.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(ca.value, ec)) {
      return InvalidArgumentError(ca.source + " names \"" + ca.value +
                                  "\", which is not a readable file of CA certificates");
    }
    o.transport.ca_file = ca.value;
  }
  return o;
}

}  // namespace datacube::storage::s3
