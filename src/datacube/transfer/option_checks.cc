#include "datacube/transfer/option_checks.h"

#include "datacube/git/git_remote.h"
#include "datacube/git/git_transfer.h"
#include "datacube/storage/hf/hub_options.h"
#include "datacube/storage/s3/s3_endpoint.h"

namespace datacube::transfer {

Status CheckS3Addressing(std::string_view value, std::string_view option) {
  return storage::s3::ParseAddressing(value, option).status();
}

Status CheckS3Endpoint(const std::string& bucket, const std::string& endpoint,
                       const std::string& region, const std::string& addressing) {
  storage::s3::EndpointSettings settings;
  settings.bucket = bucket;
  settings.endpoint = endpoint;
  settings.region = region;
  if (!addressing.empty()) {
    auto a = storage::s3::ParseAddressing(addressing, "s3-addressing");
    if (!a.ok()) return Status();  // reported on its own
    settings.addressing = *a;
  }
  return storage::s3::ResolveEndpoint(settings).status();
}

std::chrono::milliseconds MinGitTimeLimit() { return git::kMinGitTimeout; }
std::chrono::milliseconds MaxGitTimeLimit() { return git::kMaxGitTimeout; }

Status CheckGitOptions(bool is_sink, const std::map<std::string, std::string>& options) {
  return is_sink ? git::GitSinkOptionsFromMap(options).status()
                 : git::GitSourceOptionsFromMap(options).status();
}

Status CheckGitRemoteUrl(std::string_view url) { return git::ParseGitRemote(url, "").status(); }

Status CheckHfRepoId(std::string_view id) { return storage::hf::ValidateRepoId(id); }

}  // namespace datacube::transfer
