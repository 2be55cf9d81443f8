// Validation of a decoded DataCube as a whole: the rules that relate several fields
// (docs/datacube-spec.md). Every violation is reported with its field path; nothing stops early.
//
//   - exactly one of source and sink is a pvc; the other is a data service
//   - per-type options: known names (with suggestions), no duplicates, required ones present,
//     `files` and `s3-uri` literal, values well formed (s3://bucket, https URLs, repo ids)
//   - names of Kubernetes objects and keys (PVCs, Secrets, ConfigMaps) are valid, so they are safe
//     as path components under --secrets-dir (docs/protocols/kubernetes.md#names)
//   - executor.env names are valid, unique, and do not clash with option variables ($(TOKEN))
//   - $(NAME) references between literal values form no cycle
//   - sync only for s3 -> pvc; extraArgs only from the documented set
//   - types whose backend is not in this build fail here ("not supported yet"), not at run time
#pragma once

#include <functional>

#include "datacube/cube/cube.h"
#include "datacube/cube/diagnostics.h"
#include "datacube/cube/extra_args.h"

namespace datacube::cube {

struct ValidateOptions {
  // OK when this build can move data for `type`; otherwise the reason (kUnimplemented). Unset:
  // every type is accepted (decoding-only checks, tests).
  std::function<Status(EndpointType type)> type_supported;
};

// Adds every violation to `diag`. Returns the parsed extraArgs (valid only when diag is ok()).
ExtraArgs ValidateDataCube(const DataCube& cube, const ValidateOptions& options, Diagnostics& diag);

struct ResolvedCube;

// The value checks of ValidateDataCube, applied to the service's options once resolved (values
// from Secrets, $(NAME) expanded), so that run refuses before it touches anything exactly what
// validation would have refused had the values been written literally. kInvalidArgument with
// one "<field path>: <problem>" line per value.
Status CheckResolvedOptions(const DataCube& cube, const ResolvedCube& resolved);

// Kubernetes name rules, exposed for tests and the resolver.
bool IsDns1123Subdomain(std::string_view name);
bool IsConfigKey(std::string_view key);    // Secret/ConfigMap data keys: [-._a-zA-Z0-9]+
bool IsEnvVarName(std::string_view name);  // [-._a-zA-Z][-._a-zA-Z0-9]*

}  // namespace datacube::cube
