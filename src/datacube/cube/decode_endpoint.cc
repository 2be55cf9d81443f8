// Decoding of spec.source / spec.sink: type, pvc (with its template) and options.
#include <array>

#include "datacube/cube/decode.h"

namespace datacube::cube {
namespace {

constexpr std::array<std::string_view, 3> kEndpointFields = {"type", "pvc", "options"};
constexpr std::array<std::string_view, 4> kTypeNames = {"pvc", "git", "huggingface", "s3"};
constexpr std::array<std::string_view, 3> kPvcFields = {"name", "subPath", "template"};
constexpr std::array<std::string_view, 2> kTemplateFields = {"metadata", "spec"};
constexpr std::array<std::string_view, 2> kTemplateMetadataFields = {"labels", "annotations"};
// PersistentVolumeClaimSpec (Kubernetes 1.30).
constexpr std::array<std::string_view, 9> kPvcSpecFields = {
    "accessModes", "resources",     "storageClassName",
    "volumeMode",  "volumeName",    "selector",
    "dataSource",  "dataSourceRef", "volumeAttributesClassName"};
constexpr std::array<std::string_view, 2> kResourcesFields = {"requests", "limits"};
constexpr std::array<std::string_view, 4> kAccessModes = {"ReadWriteOnce", "ReadOnlyMany",
                                                          "ReadWriteMany", "ReadWriteOncePod"};
constexpr std::array<std::string_view, 3> kNamedValueFields = {"name", "value", "valueFrom"};
constexpr std::array<std::string_view, 4> kValueFromFields = {"secretKeyRef", "configMapKeyRef",
                                                              "fieldRef", "resourceFieldRef"};
constexpr std::array<std::string_view, 3> kKeyRefFields = {"name", "key", "optional"};

void DecodeTemplateSpec(const YamlNode& node, const std::string& path, DecodeContext& ctx,
                        PvcTemplate& out) {
  MapFields f(node, path, kPvcSpecFields, ctx);
  std::string modes_path = f.PathOf("accessModes");
  out.access_modes = ReadStringList(f.Get("accessModes"), modes_path, ctx);
  if (const YamlNode* modes = f.Get("accessModes"); modes && modes->is_seq()) {
    for (size_t i = 0; i < modes->seq.size() && i < out.access_modes.size(); ++i) {
      const std::string& m = out.access_modes[i];
      bool known = false;
      for (std::string_view k : kAccessModes) known = known || k == m;
      if (!known) {
        ctx.Error(
            IndexPath(modes_path, i),
            "\"" + m + "\" is not one of " + JoinNames(kAccessModes) + DidYouMean(m, kAccessModes),
            &modes->seq[i]);
      }
    }
  }
  if (const YamlNode* res = f.Get("resources")) {
    MapFields r(*res, f.PathOf("resources"), kResourcesFields, ctx);
    constexpr std::array<std::string_view, 1> kStorageOnly = {"storage"};
    if (const YamlNode* req = r.Get("requests")) {
      MapFields q(*req, r.PathOf("requests"), kStorageOnly, ctx);
      out.storage = ReadString(q.Get("storage"), q.PathOf("storage"), ctx).value_or("");
    }
    if (const YamlNode* lim = r.Get("limits"))
      MapFields(*lim, r.PathOf("limits"), kStorageOnly, ctx);
  }
  out.storage_class_name =
      ReadString(f.Get("storageClassName"), f.PathOf("storageClassName"), ctx).value_or("");
  out.volume_mode = ReadString(f.Get("volumeMode"), f.PathOf("volumeMode"), ctx).value_or("");
  ReadString(f.Get("volumeName"), f.PathOf("volumeName"), ctx);
}

std::optional<PvcRef> DecodePvc(const YamlNode& node, const std::string& path, DecodeContext& ctx) {
  PvcRef out;
  MapFields f(node, path, kPvcFields, ctx);
  out.name = ReadString(f.Require("name"), f.PathOf("name"), ctx).value_or("");
  out.sub_path = ReadString(f.Get("subPath"), f.PathOf("subPath"), ctx).value_or("");
  if (const YamlNode* t = f.Get("template")) {
    PvcTemplate tmpl;
    tmpl.raw = *t;
    MapFields tf(*t, f.PathOf("template"), kTemplateFields, ctx);
    if (const YamlNode* meta = tf.Get("metadata")) {
      MapFields mf(*meta, tf.PathOf("metadata"), kTemplateMetadataFields, ctx);
      ReadStringMap(mf.Get("labels"), mf.PathOf("labels"), ctx);
      ReadStringMap(mf.Get("annotations"), mf.PathOf("annotations"), ctx, TextRule::kMultiLine);
    }
    if (const YamlNode* spec = tf.Require("spec")) {
      DecodeTemplateSpec(*spec, tf.PathOf("spec"), ctx, tmpl);
    }
    out.template_spec = std::move(tmpl);
  }
  return out;
}

std::optional<KeyRef> DecodeValueFrom(const YamlNode& node, const std::string& path,
                                      DecodeContext& ctx) {
  MapFields f(node, path, kValueFromFields, ctx);
  for (std::string_view unsupported : {"fieldRef", "resourceFieldRef"}) {
    if (f.Get(unsupported)) {
      ctx.Error(f.PathOf(unsupported),
                "not supported by DataCube; use secretKeyRef or configMapKeyRef",
                f.Get(unsupported));
    }
  }
  const YamlNode* secret = f.Get("secretKeyRef");
  const YamlNode* config = f.Get("configMapKeyRef");
  if ((secret != nullptr) == (config != nullptr)) {
    if (node.is_map() && !f.Get("fieldRef") && !f.Get("resourceFieldRef")) {
      ctx.Error(path, "exactly one of secretKeyRef or configMapKeyRef is required", &node);
    }
    return std::nullopt;
  }
  KeyRef ref;
  ref.kind = secret ? KeyRef::Kind::kSecret : KeyRef::Kind::kConfigMap;
  MapFields k(secret ? *secret : *config, f.PathOf(secret ? "secretKeyRef" : "configMapKeyRef"),
              kKeyRefFields, ctx);
  ref.name = ReadString(k.Require("name"), k.PathOf("name"), ctx).value_or("");
  ref.key = ReadString(k.Require("key"), k.PathOf("key"), ctx).value_or("");
  ref.optional = ReadBool(k.Get("optional"), k.PathOf("optional"), ctx).value_or(false);
  return ref;
}

}  // namespace

std::vector<NamedValue> DecodeNamedValues(const YamlNode* node, const std::string& path,
                                          DecodeContext& ctx) {
  std::vector<NamedValue> out;
  if (!ExpectList(node, path, ctx) || node == nullptr) return out;
  for (size_t i = 0; i < node->seq.size(); ++i) {
    NamedValue nv;
    nv.path = IndexPath(path, i);
    MapFields f(node->seq[i], nv.path, kNamedValueFields, ctx);
    if (!node->seq[i].is_map()) {
      if (node->seq[i].is_null()) ctx.Error(nv.path, "expected a map, got null", &node->seq[i]);
      continue;
    }
    nv.name = ReadString(f.Require("name"), f.PathOf("name"), ctx).value_or("");
    // `value: ""` is a value (Kubernetes keeps empty strings), so read it even when empty.
    const YamlNode* value = nullptr;
    for (const auto& [k, v] : node->seq[i].map) {
      if (k == "value") value = &v;
    }
    if (value != nullptr && !value->is_null()) {
      // A commit message is free text; every other value is one line.
      nv.value =
          ReadString(value, f.PathOf("value"), ctx,
                     nv.name == "commit-message" ? TextRule::kMultiLine : TextRule::kSingleLine);
      if (!nv.value) nv.value = "";  // reported; keep "has a value" for the checks below
    }
    if (const YamlNode* vf = f.Get("valueFrom")) {
      nv.value_from = DecodeValueFrom(*vf, f.PathOf("valueFrom"), ctx);
      if (nv.value) {
        ctx.Error(nv.path, "value and valueFrom cannot both be set", &node->seq[i]);
      }
    } else if (!nv.value) {
      ctx.Error(nv.path, "one of value or valueFrom is required", &node->seq[i]);
    }
    out.push_back(std::move(nv));
  }
  return out;
}

Endpoint DecodeEndpoint(const YamlNode* node, const std::string& path, bool is_sink,
                        DecodeContext& ctx) {
  Endpoint out;
  out.path = path;
  if (node == nullptr) return out;
  MapFields f(*node, path, kEndpointFields, ctx);
  const YamlNode* type_node = f.Require("type");
  if (auto type = ReadString(type_node, f.PathOf("type"), ctx)) {
    out.type = ParseEndpointType(*type);
    if (!out.type) {
      ctx.Error(f.PathOf("type"),
                "\"" + *type + "\" is not one of " + JoinNames(kTypeNames) +
                    DidYouMean(*type, kTypeNames),
                type_node);
    }
  }
  if (const YamlNode* pvc = f.Get("pvc")) {
    out.pvc = DecodePvc(*pvc, f.PathOf("pvc"), ctx);
    if (out.pvc && out.pvc->template_spec && !is_sink) {
      ctx.Error(f.PathOf("pvc") + ".template",
                "a PVC template is only used when the PVC is the sink (it creates the volume to "
                "download into)",
                pvc);
    }
  }
  out.options = DecodeNamedValues(f.Get("options"), f.PathOf("options"), ctx);
  if (out.type == EndpointType::kPvc) {
    if (!out.pvc && (node->is_map() || node->is_null())) {
      ctx.Error(f.PathOf("pvc"), "required field is missing (type is pvc)", node);
    }
    if (!out.options.empty()) {
      ctx.Error(f.PathOf("options"),
                "a pvc endpoint takes no options; set pvc.name and pvc.subPath", f.Get("options"));
    }
  } else if (out.type && out.pvc) {
    ctx.Error(
        f.PathOf("pvc"),
        "only used when type is pvc (type is " + std::string(EndpointTypeName(*out.type)) + ")",
        f.Get("pvc"));
  }
  return out;
}

}  // namespace datacube::cube
