// Policy file parsing. yaml-cpp throws; every call to it stays in this file, and each error
// becomes a kInvalidArgument that names the file and the field path.
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include "datacube/policy/policy.h"

namespace datacube::policy {
namespace {

constexpr size_t kMaxPolicyBytes = 1 << 20;

const std::set<std::string, std::less<>> kClassFields = {
    "sensitivity",      "may_hold_pii",      "encryption_required", "retention", "age_from",
    "approved_regions", "allowed_providers", "allowed_endpoints",   "match"};
const std::set<std::string, std::less<>> kSensitivities = {"public", "internal", "confidential",
                                                           "restricted"};
const std::set<std::string, std::less<>> kProviders = {
    "*", "s3", "coreweave", "gcs", "azure", "huggingface", "git", "local"};

// Carries the origin and builds "origin: path: message" errors.
struct Context {
  std::string origin;
  Status Error(const std::string& path, const std::string& message) const {
    return InvalidArgumentError(origin + ": " + path + ": " + message);
  }
};

// "30d", "12h", "90m", "3600s", or "none" (kept forever).
Result<std::optional<std::chrono::seconds>> ParseRetention(const std::string& text) {
  if (text == "none") return std::optional<std::chrono::seconds>();
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 9 || digits + 1 != text.size()) {
    return InvalidArgumentError("want a number and a unit (s, m, h, d), e.g. 30d, or none; got \"" +
                                text + "\"");
  }
  int64_t n = std::stoll(text.substr(0, digits));
  switch (text.back()) {
    case 's':
      return std::optional(std::chrono::seconds(n));
    case 'm':
      return std::optional(std::chrono::seconds(n * 60));
    case 'h':
      return std::optional(std::chrono::seconds(n * 3600));
    case 'd':
      return std::optional(std::chrono::seconds(n * 86400));
    default:
      return InvalidArgumentError("unknown unit in \"" + text + "\" (want s, m, h or d)");
  }
}

Result<std::string> ReadString(const Context& ctx, const YAML::Node& node,
                               const std::string& path) {
  if (!node.IsScalar()) return ctx.Error(path, "must be a string");
  return node.Scalar();
}

Result<bool> ReadBool(const Context& ctx, const YAML::Node& node, const std::string& path) {
  if (node.IsScalar() && node.Tag() != "!") {
    if (node.Scalar() == "true") return true;
    if (node.Scalar() == "false") return false;
  }
  return ctx.Error(path, "must be true or false");
}

Result<std::vector<std::string>> ReadList(const Context& ctx, const YAML::Node& node,
                                          const std::string& path) {
  if (!node.IsSequence()) return ctx.Error(path, "must be a list of strings");
  std::vector<std::string> out;
  for (size_t i = 0; i < node.size(); ++i) {
    DC_ASSIGN_OR_RETURN(std::string item,
                        ReadString(ctx, node[i], path + "[" + std::to_string(i) + "]"));
    out.push_back(std::move(item));
  }
  return out;
}

Status ReadScalarField(const Context& ctx, const std::string& key, const YAML::Node& value,
                       const std::string& path, ClassRule& rule) {
  if (key == "may_hold_pii" || key == "encryption_required") {
    DC_ASSIGN_OR_RETURN(bool b, ReadBool(ctx, value, path));
    (key == "may_hold_pii" ? rule.may_hold_pii : rule.encryption_required) = b;
    return Status::Ok();
  }
  DC_ASSIGN_OR_RETURN(std::string text, ReadString(ctx, value, path));
  if (key == "sensitivity") {
    if (!kSensitivities.count(text)) {
      return ctx.Error(path, "unknown sensitivity \"" + text +
                                 "\" (want public, internal, confidential or restricted)");
    }
    rule.sensitivity = text;
  } else if (key == "retention") {
    auto retention = ParseRetention(text);
    if (!retention.ok()) return ctx.Error(path, std::string(retention.status().message()));
    rule.retention = *retention;
  } else if (key == "age_from") {
    if (text != "object-time" && text != "manifest-time") {
      return ctx.Error(path, "want object-time or manifest-time, got \"" + text + "\"");
    }
    rule.age_from = text;
  }
  return Status::Ok();
}

Status ReadListField(const Context& ctx, const std::string& key, const YAML::Node& value,
                     const std::string& path, ClassRule& rule) {
  DC_ASSIGN_OR_RETURN(std::vector<std::string> list, ReadList(ctx, value, path));
  if (key == "allowed_providers") {
    for (size_t i = 0; i < list.size(); ++i) {
      if (!kProviders.count(list[i])) {
        return ctx.Error(path + "[" + std::to_string(i) + "]",
                         "unknown provider \"" + list[i] +
                             "\" (want s3, coreweave, gcs, azure, huggingface, git, local or *)");
      }
    }
    rule.allowed_providers = std::move(list);
  } else if (key == "approved_regions") {
    rule.approved_regions = std::move(list);
  } else if (key == "allowed_endpoints") {
    rule.allowed_endpoints = std::move(list);
  } else {
    rule.match = std::move(list);
  }
  return Status::Ok();
}

Result<ClassRule> ReadClass(const Context& ctx, const std::string& name, const YAML::Node& node,
                            const std::string& path) {
  if (!node.IsMap()) return ctx.Error(path, "must be a map of class fields");
  ClassRule rule;
  rule.name = name;
  bool has_regions = false, has_providers = false;
  for (const auto& entry : node) {
    std::string key = entry.first.Scalar();
    std::string field = path + "." + key;
    if (!kClassFields.count(key)) return ctx.Error(field, "unknown field");
    bool is_list = key == "approved_regions" || key == "allowed_providers" ||
                   key == "allowed_endpoints" || key == "match";
    has_regions |= key == "approved_regions";
    has_providers |= key == "allowed_providers";
    DC_RETURN_IF_ERROR(is_list ? ReadListField(ctx, key, entry.second, field, rule)
                               : ReadScalarField(ctx, key, entry.second, field, rule));
  }
  if (rule.sensitivity.empty()) return ctx.Error(path + ".sensitivity", "is required");
  // A rule that forgets where data may go must not mean "anywhere".
  if (!has_regions) return ctx.Error(path + ".approved_regions", "is required");
  if (!has_providers) return ctx.Error(path + ".allowed_providers", "is required");
  return rule;
}

Result<Policy> ParseTree(const Context& ctx, const YAML::Node& root) {
  if (!root.IsMap()) return ctx.Error("(top level)", "must be a map with version and classes");
  Policy policy;
  policy.origin = ctx.origin;
  for (const auto& entry : root) {
    std::string key = entry.first.Scalar();
    if (key != "version" && key != "classes") return ctx.Error(key, "unknown field");
  }
  if (!root["version"] || !root["version"].IsScalar() || root["version"].Scalar() != "1") {
    return ctx.Error("version", "must be 1");
  }
  YAML::Node classes = root["classes"];
  if (!classes || !classes.IsMap()) return ctx.Error("classes", "must be a map of class rules");
  std::set<std::string> seen;
  for (const auto& entry : classes) {
    std::string name = entry.first.Scalar();
    std::string path = "classes." + name;
    if (name.empty()) return ctx.Error("classes", "a class name is empty");
    if (!seen.insert(name).second) return ctx.Error(path, "defined twice");
    DC_ASSIGN_OR_RETURN(ClassRule rule, ReadClass(ctx, name, entry.second, path));
    policy.classes.push_back(std::move(rule));
  }
  return policy;
}

}  // namespace

Result<Policy> ParsePolicy(std::string_view yaml_text, std::string_view origin) {
  Context ctx{std::string(origin)};
  try {
    YAML::Node root = YAML::Load(std::string(yaml_text));
    return ParseTree(ctx, root);
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(ctx.origin + ": line " + std::to_string(e.mark.line + 1) +
                                ": not valid YAML: " + e.msg);
  }
}

Result<Policy> LoadPolicyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoToStatus(errno, "reading policy file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > kMaxPolicyBytes) {
    return InvalidArgumentError(path + ": policy file is larger than 1 MiB");
  }
  return ParsePolicy(text.str(), path);
}

}  // namespace datacube::policy
