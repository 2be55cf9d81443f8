#include "datacube/transfer/egress.h"

#include "datacube/storage/s3/s3_options.h"
#include "datacube/transfer/job.h"

namespace datacube::transfer {
namespace {

std::string ConfiguredRegion(const storage::StoreConfig& config) {
  std::string region = config.Option(storage::s3::kOptRegion);
  if (!region.empty()) return region;
  for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    auto value = config.Env(name);
    if (value && !value->empty()) return *value;
  }
  return "";
}

// The host of an endpoint URL ("http://127.0.0.1:7480" -> "127.0.0.1").
std::string HostOf(std::string url) {
  if (auto p = url.find("://"); p != std::string::npos) url = url.substr(p + 3);
  url = url.substr(0, url.find_first_of("/?"));
  if (auto colon = url.rfind(':'); colon != std::string::npos && url.find(']') == std::string::npos)
    url = url.substr(0, colon);
  return url;
}

policy::Destination ObjectStoreDestination(const Location& sink,
                                           const storage::StoreConfig& config) {
  policy::Destination d;
  std::string endpoint = config.Option(storage::s3::kOptEndpoint);
  if (sink.scheme == Scheme::kCoreWeave) {
    d.provider = "coreweave";
    std::string cw = config.Option(storage::s3::kOptCwEndpoint);
    d.endpoint = cw == "lota"                   ? "cwlota.com"
                 : cw.empty() || cw == "public" ? "cwobject.com"
                                                : HostOf(cw);
  } else {
    d.provider = sink.scheme == Scheme::kGcs ? "gcs" : "s3";
    if (endpoint.empty()) {
      auto env = config.Env("AWS_ENDPOINT_URL_S3");
      if (!env) env = config.Env("AWS_ENDPOINT_URL");
      endpoint = env.value_or("");
    }
    d.endpoint = HostOf(endpoint);
    if (d.endpoint.empty()) {
      d.endpoint = sink.scheme == Scheme::kGcs ? "storage.googleapis.com" : "s3.amazonaws.com";
    }
  }
  d.region = ConfiguredRegion(config);
  if (d.region.empty()) d.region = "unknown";
  return d;
}

}  // namespace

policy::Destination DestinationOf(const Location& sink, const storage::StoreConfig& config,
                                  bool encrypted) {
  policy::Destination d;
  switch (sink.scheme) {
    case Scheme::kS3:
    case Scheme::kCoreWeave:
    case Scheme::kGcs:
      d = ObjectStoreDestination(sink, config);
      break;
    case Scheme::kAzure:
      d = {"azure", ConfiguredRegion(config), sink.authority, ""};
      if (d.region.empty()) d.region = "unknown";
      break;
    case Scheme::kHuggingFace:
      d = {"huggingface", "none", "huggingface.co", ""};
      break;
    case Scheme::kGit:
    case Scheme::kHttp:
      d = {sink.scheme == Scheme::kGit ? "git" : "http", "none", sink.authority, ""};
      break;
    case Scheme::kFile:
    case Scheme::kPvc:
      d = {"local", "local", "", ""};
      break;
  }
  d.location = sink.ToString();
  d.encrypted = encrypted;
  return d;
}

bool SinkIsEncrypted(const JobOptions& /*options*/) { return false; }

Status CheckSinkEgress(const Location& sink, const JobOptions& options) {
  if (options.policy == nullptr) return Status::Ok();
  policy::Destination dest = DestinationOf(sink, options.config, SinkIsEncrypted(options));
  policy::Decision decision = policy::CheckEgress(*options.policy, options.data_class, dest);
  if (decision.allowed) return Status::Ok();
  return EgressDeniedError(decision.reason);
}

}  // namespace datacube::transfer
