#include "datacube/cube/decode.h"

#include <array>

namespace datacube::cube {
namespace {

constexpr std::array<std::string_view, 5> kTopFields = {"apiVersion", "kind", "metadata", "spec",
                                                        "status"};
// Every ObjectMeta field, so that `kubectl get datacube x -o yaml` output loads unchanged; only
// name, namespace, labels and annotations mean anything to a local run.
constexpr std::array<std::string_view, 15> kMetadataFields = {"name",
                                                              "generateName",
                                                              "namespace",
                                                              "labels",
                                                              "annotations",
                                                              "uid",
                                                              "resourceVersion",
                                                              "generation",
                                                              "creationTimestamp",
                                                              "deletionTimestamp",
                                                              "deletionGracePeriodSeconds",
                                                              "ownerReferences",
                                                              "finalizers",
                                                              "managedFields",
                                                              "selfLink"};
constexpr std::array<std::string_view, 3> kSpecFields = {"source", "sink", "executor"};
constexpr std::array<std::string_view, 3> kExecutorFields = {"options", "env", "securityContext"};
constexpr std::array<std::string_view, 4> kExecutorOptionFields = {
    "backoffLimit", "activeDeadlineSeconds", "extraArgs", "sync"};
// PodSecurityContext (Kubernetes 1.30). Values are passed to the controller as written.
constexpr std::array<std::string_view, 13> kPodSecurityContextFields = {"runAsUser",
                                                                        "runAsGroup",
                                                                        "runAsNonRoot",
                                                                        "fsGroup",
                                                                        "fsGroupChangePolicy",
                                                                        "supplementalGroups",
                                                                        "supplementalGroupsPolicy",
                                                                        "seLinuxOptions",
                                                                        "seLinuxChangePolicy",
                                                                        "seccompProfile",
                                                                        "appArmorProfile",
                                                                        "sysctls",
                                                                        "windowsOptions"};

void DecodeMetadata(const YamlNode* node, DecodeContext& ctx, Metadata& out) {
  if (node == nullptr) {
    ctx.Error("metadata", "required field is missing", nullptr);
    return;
  }
  MapFields f(*node, "metadata", kMetadataFields, ctx);
  out.name = ReadString(f.Get("name"), f.PathOf("name"), ctx).value_or("");
  out.generate_name = ReadString(f.Get("generateName"), f.PathOf("generateName"), ctx).value_or("");
  out.namespace_ = ReadString(f.Get("namespace"), f.PathOf("namespace"), ctx).value_or("");
  out.labels = ReadStringMap(f.Get("labels"), f.PathOf("labels"), ctx);
  // Annotations hold free text (kubectl's last-applied-configuration is multi-line JSON).
  out.annotations =
      ReadStringMap(f.Get("annotations"), f.PathOf("annotations"), ctx, TextRule::kMultiLine);
  if (out.name.empty() && out.generate_name.empty() && node->is_map()) {
    ctx.Error("metadata.name", "required field is missing (or set metadata.generateName)", node);
  }
}

void DecodeExecutorOptions(const YamlNode* node, const std::string& path, DecodeContext& ctx,
                           ExecutorOptions& out) {
  if (node == nullptr) return;
  MapFields f(*node, path, kExecutorOptionFields, ctx);
  if (auto v = ReadInt(f.Get("backoffLimit"), f.PathOf("backoffLimit"), ctx)) {
    if (*v < 0 || *v > 1000) {
      ctx.Error(f.PathOf("backoffLimit"), "must be between 0 and 1000, got " + std::to_string(*v),
                f.Get("backoffLimit"));
    } else {
      out.backoff_limit = static_cast<int>(*v);
    }
  }
  const YamlNode* deadline = f.Get("activeDeadlineSeconds");
  if (auto v = ReadInt(deadline, f.PathOf("activeDeadlineSeconds"), ctx)) {
    if (*v < 1 || *v > kMaxActiveDeadlineSeconds) {
      ctx.Error(f.PathOf("activeDeadlineSeconds"),
                "must be a positive number of seconds, at most " +
                    std::to_string(kMaxActiveDeadlineSeconds) + " (365 days), got " +
                    std::to_string(*v),
                deadline);
    } else {
      out.active_deadline_seconds = *v;
    }
  }
  out.extra_args = ReadStringList(f.Get("extraArgs"), f.PathOf("extraArgs"), ctx);
  out.sync = ReadBool(f.Get("sync"), f.PathOf("sync"), ctx).value_or(false);
}

void DecodeExecutor(const YamlNode* node, DecodeContext& ctx, ExecutorSection& out) {
  if (node == nullptr) return;
  MapFields f(*node, "spec.executor", kExecutorFields, ctx);
  DecodeExecutorOptions(f.Get("options"), f.PathOf("options"), ctx, out.options);
  out.env = DecodeNamedValues(f.Get("env"), f.PathOf("env"), ctx);
  if (const YamlNode* sc = f.Get("securityContext")) {
    // Checked only for field names: the API server validates the values when the controller
    // creates the Pod, and a local run does not apply them.
    MapFields check(*sc, f.PathOf("securityContext"), kPodSecurityContextFields, ctx);
    out.security_context = *sc;
  }
}

}  // namespace

DecodedCube DecodeDataCube(const YamlNode& doc, Diagnostics& diag) {
  DecodedCube out;
  DecodeContext ctx{diag, out.positions};
  DataCube& cube = out.cube;
  if (!doc.is_map()) {
    ctx.Error("", "expected a DataCube document (a map), got " + std::string(doc.DescribeType()),
              &doc);
    return out;
  }
  MapFields top(doc, "", kTopFields, ctx);
  cube.api_version = ReadString(top.Require("apiVersion"), "apiVersion", ctx).value_or("");
  if (!cube.api_version.empty() && cube.api_version != kApiVersion) {
    ctx.Error("apiVersion",
              "\"" + cube.api_version + "\" is not supported; expected " + std::string(kApiVersion),
              top.Get("apiVersion"));
  }
  cube.kind = ReadString(top.Require("kind"), "kind", ctx).value_or("");
  if (!cube.kind.empty() && cube.kind != kKind) {
    ctx.Error("kind", "\"" + cube.kind + "\" is not " + std::string(kKind), top.Get("kind"));
  }
  DecodeMetadata(top.Get("metadata"), ctx, cube.metadata);
  // `status` is written by the controller; a document read back from the cluster may carry it.
  const YamlNode* spec = top.Require("spec");
  if (spec == nullptr) return out;
  MapFields s(*spec, "spec", kSpecFields, ctx);
  cube.source = DecodeEndpoint(s.Require("source"), "spec.source", /*is_sink=*/false, ctx);
  cube.sink = DecodeEndpoint(s.Require("sink"), "spec.sink", /*is_sink=*/true, ctx);
  DecodeExecutor(s.Get("executor"), ctx, cube.executor);
  return out;
}

}  // namespace datacube::cube
