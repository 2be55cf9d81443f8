#include "datacube/cube/backends.h"

#include <map>
#include <mutex>

#include "datacube/base/cancel.h"
#include "datacube/storage/registry.h"

namespace datacube::cube {
namespace {

constexpr char kUnreachable[] = "http://127.0.0.1:1";

Location ProbeLocation(EndpointType type) {
  Location loc;
  switch (type) {
    case EndpointType::kS3:
      loc.scheme = Scheme::kS3;
      loc.authority = "datacube-probe";
      break;
    case EndpointType::kHuggingFace:
      loc.scheme = Scheme::kHuggingFace;
      loc.repo = "datacube/probe";
      loc.repo_type = "model";
      break;
    case EndpointType::kGit:
      loc.scheme = Scheme::kGit;
      loc.tls = false;
      loc.authority = "127.0.0.1:1";
      loc.repo = "probe.git";
      break;
    case EndpointType::kPvc:
      break;
  }
  return loc;
}

Status Probe(EndpointType type) {
  // git cubes run through the git module (git_attempt.h), which this library links, rather than
  // through a registry store.
  if (type == EndpointType::kPvc || type == EndpointType::kGit) return Status();
  storage::StoreConfig config;
  config.options = {{"s3-endpoint", kUnreachable},
                    {"s3-access-key-id", "probe"},
                    {"s3-secret-access-key", "probe"},
                    {"s3-no-check-bucket", "true"},
                    {"url", std::string(kUnreachable) + "/probe.git"},
                    {"repo", "datacube/probe"}};
  config.getenv = [](const std::string& name) -> std::optional<std::string> {
    if (name == "HF_ENDPOINT" || name == "AWS_ENDPOINT_URL" || name == "AWS_ENDPOINT_URL_S3") {
      return kUnreachable;
    }
    return std::nullopt;  // no proxies, no credentials from the real environment
  };
  // An already-cancelled token: a backend that would touch the network (or back off and retry)
  // while opening gives up at once, and the registry answers kUnimplemented before any backend
  // code runs, so the probe costs nothing either way.
  std::stop_source cancelled;
  cancelled.request_stop();
  CancellationScope scope(cancelled.get_token());
  auto opened = storage::OpenLocation(ProbeLocation(type), config, storage::OpenMode::kRead);
  if (!opened.ok() && opened.status().code() == StatusCode::kUnimplemented) {
    return UnimplementedError("\"" + std::string(EndpointTypeName(type)) +
                              "\" is not supported yet in this build");
  }
  return Status();
}

}  // namespace

Status TypeSupportedInThisBuild(EndpointType type) {
  static std::mutex mu;
  static std::map<EndpointType, Status> cache;  // guarded by mu
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(type);
  if (it == cache.end()) it = cache.emplace(type, Probe(type)).first;
  return it->second;
}

}  // namespace datacube::cube
