// The DataCube resource as typed values (docs/datacube-spec.md describes every field).
//
//   apiVersion: tensorstack.dev/v1beta1
//   kind: DataCube
//   metadata: {name, namespace, labels, annotations}
//   spec:
//     source / sink: {type: pvc|git|huggingface|s3, pvc: {...}, options: [{name, value|valueFrom}]}
//     executor: {options: {backoffLimit, activeDeadlineSeconds, extraArgs, sync}, env,
//     securityContext}
//
// These structs hold what the document says, before option values are resolved (resolve.h) and
// before the cube is checked as a whole (validate.h). Field paths in comments are the ones
// errors use.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "datacube/cube/yaml_tree.h"

namespace datacube::cube {

inline constexpr std::string_view kApiVersion = "tensorstack.dev/v1beta1";
inline constexpr std::string_view kKind = "DataCube";

enum class EndpointType { kPvc, kGit, kHuggingFace, kS3 };

// "pvc", "git", "huggingface", "s3".
std::string_view EndpointTypeName(EndpointType type);
// Exact, case-sensitive match of the names above.
std::optional<EndpointType> ParseEndpointType(std::string_view name);

// secretKeyRef / configMapKeyRef: one key of a Secret or ConfigMap in the cube's namespace.
struct KeyRef {
  enum class Kind { kSecret, kConfigMap };
  Kind kind = Kind::kSecret;
  std::string name;
  std::string key;
  // Kubernetes' `optional: true`: a missing Secret or key leaves the option unset.
  bool optional = false;
};

// One entry of `options` or `executor.env`: {name, value} or {name, valueFrom}.
struct NamedValue {
  std::string name;
  std::optional<std::string> value;
  std::optional<KeyRef> value_from;
  // Where it was written, e.g. "spec.source.options[2]".
  std::string path;
};

struct PvcTemplate {
  std::vector<std::string> access_modes;  // ReadWriteOnce, ReadOnlyMany, ReadWriteMany, ...
  std::string storage;                    // resources.requests.storage, e.g. "100Gi"
  std::string storage_class_name;
  std::string volume_mode;  // Filesystem (Block cannot hold files)
  // The whole template as written, for the controller, which creates the PVC from it.
  YamlNode raw;
};

struct PvcRef {
  std::string name;
  std::string sub_path;  // relative; "" is the volume root
  std::optional<PvcTemplate> template_spec;
};

struct Endpoint {
  std::optional<EndpointType> type;  // unset when missing or invalid (an error was reported)
  std::optional<PvcRef> pvc;
  std::vector<NamedValue> options;
  std::string path;  // "spec.source" or "spec.sink"
};

// activeDeadlineSeconds: Kubernetes takes any positive int64, but a deadline is added to a clock
// in nanoseconds, which overflows after 292 years (and 9300000000 s then meant "now"); a year
// is longer than any transfer attempt.
inline constexpr int64_t kMaxActiveDeadlineSeconds = 365LL * 24 * 3600;

struct ExecutorOptions {
  int backoff_limit = 0;
  std::optional<int64_t> active_deadline_seconds;
  std::vector<std::string> extra_args;
  bool sync = false;
};

struct ExecutorSection {  // spec.executor of a DataCube
  ExecutorOptions options;
  std::vector<NamedValue> env;
  // A Kubernetes PodSecurityContext, applied by the controller to the transfer's Pod; a local run
  // keeps it only to show it. Null when absent.
  YamlNode security_context;
};

struct Metadata {
  std::string name;
  std::string generate_name;
  std::string namespace_;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
};

struct DataCube {
  std::string api_version;
  std::string kind;
  Metadata metadata;
  Endpoint source;
  Endpoint sink;
  ExecutorSection executor;

  // The side that is not a PVC (the data service), or nullptr when neither or both are.
  const Endpoint* service() const;
  // The PVC side, or nullptr.
  const Endpoint* pvc_side() const;
  // True for service -> PVC.
  bool is_download() const { return sink.type == EndpointType::kPvc; }
};

// Kubernetes-style variable name of an option: upper-cased, '-' becomes '_' ("s3-uri" ->
// "S3_URI"), so that `https://$(TOKEN)@host/...` in a git url refers to the `token` option.
std::string OptionVariableName(std::string_view option_name);

}  // namespace datacube::cube
