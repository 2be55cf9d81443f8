// Checks of backend option values with the parsers the backends themselves use when they open,
// for front ends that validate ahead of a run (`datacube validate-cube` checks a DataCube's
// literal options, and the resolved ones before a run touches anything), so that validation
// accepts exactly what a run accepts.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>

#include "datacube/base/status.h"

namespace datacube::transfer {

// S3: an s3-addressing value (auto, path or virtual); errors start with "`option`: ".
Status CheckS3Addressing(std::string_view value, std::string_view option);

// S3: an endpoint URL together with a bucket name (whose rules depend on the endpoint: AWS,
// CoreWeave and custom servers accept different names), a region and an addressing value (all
// optional). An invalid addressing value is not reported here.
Status CheckS3Endpoint(const std::string& bucket, const std::string& endpoint,
                       const std::string& region, const std::string& addressing);

// git: the range of the `timeout` and `stall-timeout` options.
std::chrono::milliseconds MinGitTimeLimit();
std::chrono::milliseconds MaxGitTimeLimit();
// git: a set of options as the git module reads them for a source or a sink (refuses unknown
// names and bad values, naming the option: `git option "depth": ...`).
Status CheckGitOptions(bool is_sink, const std::map<std::string, std::string>& options);
// git: a remote URL by the git module's rules (https only, no query or fragment, ...).
Status CheckGitRemoteUrl(std::string_view url);

// Hugging Face: a repository id ("org/name").
Status CheckHfRepoId(std::string_view id);

}  // namespace datacube::transfer
