// Option resolution: from what a DataCube says (`value`, `valueFrom`) to the values a transfer
// uses.
//
// valueFrom.secretKeyRef / configMapKeyRef are read
//   - from directories laid out like mounted Secrets and ConfigMaps, DIR/<name>/<key>
//     (--secrets-dir, --configmaps-dir), when given; or else
//   - from the environment, where the controller puts them inside a Job:
//     DATACUBE_OPTION_<VAR> for an option (VAR = OptionVariableName, e.g. S3_SECRET_ACCESS_KEY)
//     and DATACUBE_ENV_<NAME> for an executor.env entry.
// One trailing newline of a file is dropped (files written with `echo` end in one).
//
// A missing Secret, ConfigMap or key is an error that names both the object and the key; it is
// never an empty value. `optional: true` refs that are missing leave the option unset.
//
// Literal values are then expanded ($(NAME), see expand.h) against the service's options and
// executor.env, in any order (validation has ruled out cycles).
//
// Every value read from a Secret, and every literal value of a credential option (token,
// s3-secret-access-key, ...), is registered with RegisterSecretForRedaction before this returns,
// so it cannot surface in logs, errors or status; values derived from them (a URL with the token
// inside) are covered because the token itself is scrubbed wherever it appears.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "datacube/base/result.h"
#include "datacube/cube/cube.h"

namespace datacube::cube {

struct ValueSources {
  std::string secrets_dir;
  std::string configmaps_dir;
  // The process environment (tests inject one). Unset: std::getenv.
  std::function<std::optional<std::string>(const std::string&)> getenv;
};

// Where the controller passes option `name` inside a Job: "DATACUBE_OPTION_S3_URI".
std::string OptionEnvName(std::string_view option_name);
// Where the controller passes executor.env entry `name`: "DATACUBE_ENV_HTTPS_PROXY".
std::string ExecutorEnvEnvName(std::string_view env_name);

struct ResolvedCube {
  // The service side's options by option name, fully resolved and expanded.
  std::map<std::string, std::string> options;
  // executor.env by name, resolved and expanded.
  std::map<std::string, std::string> env;
};

// Resolves a validated cube. Errors: kNotFound listing every missing Secret/ConfigMap/key (one
// line each, naming the field path, the object and the key); kInvalidArgument for a required
// option that resolved to an empty value; kPermissionDenied/kInternal when a file cannot be read.
Result<ResolvedCube> ResolveCube(const DataCube& cube, const ValueSources& sources);

}  // namespace datacube::cube
