#include "datacube/spec/validate.h"

#include <map>
#include <regex>
#include <set>

#include "datacube/spec/expand.h"
#include "datacube/spec/option_rules.h"

namespace datacube::spec {

// Defined in validate_options.cc.
void ValidateServiceOptions(const Endpoint& endpoint, bool is_sink, Diagnostics& diag);

namespace {

bool IsQuantity(const std::string& s) {
  static const std::regex kQuantity(
      "[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][-+]?[0-9]+)?");
  return std::regex_match(s, kQuantity);
}

void ValidatePvc(const Endpoint& e, Diagnostics& diag) {
  if (!e.pvc) return;
  const PvcRef& pvc = *e.pvc;
  std::string path = e.path + ".pvc";
  if (!pvc.name.empty() && !IsDns1123Subdomain(pvc.name)) {
    diag.Add(path + ".name", "\"" + pvc.name +
                                 "\" is not a valid PVC name (lower-case letters, digits, '-' "
                                 "and '.', starting and ending with a letter or digit)");
  }
  const std::string& sub = pvc.sub_path;
  if (!sub.empty()) {
    bool dotdot = sub == ".." || sub.rfind("../", 0) == 0 ||
                  sub.find("/../") != std::string::npos ||
                  (sub.size() >= 3 && sub.compare(sub.size() - 3, 3, "/..") == 0);
    if (sub[0] == '/') {
      diag.Add(path + ".subPath", "must be a relative path inside the volume, got \"" + sub + "\"");
    } else if (dotdot) {
      diag.Add(path + ".subPath", "must not contain \"..\" (got \"" + sub + "\")");
    }
  }
  if (pvc.template_spec) {
    const PvcTemplate& t = *pvc.template_spec;
    std::string tpath = path + ".template.spec";
    if (t.access_modes.empty()) {
      diag.Add(tpath + ".accessModes", "at least one access mode is required");
    }
    if (t.storage.empty()) {
      diag.Add(tpath + ".resources.requests.storage", "required to create the PVC, e.g. 100Gi");
    } else if (!IsQuantity(t.storage)) {
      diag.Add(tpath + ".resources.requests.storage",
               "\"" + t.storage + "\" is not a Kubernetes quantity such as 100Gi or 500M");
    }
    if (!t.volume_mode.empty() && t.volume_mode != "Filesystem") {
      diag.Add(tpath + ".volumeMode",
               "must be Filesystem: a DataCube writes files (got \"" + t.volume_mode + "\")");
    }
  }
}

void ValidateKeyRefs(const std::vector<NamedValue>& values, Diagnostics& diag) {
  for (const NamedValue& nv : values) {
    if (!nv.value_from) continue;
    const KeyRef& ref = *nv.value_from;
    std::string base = nv.path + ".valueFrom." +
                       (ref.kind == KeyRef::Kind::kSecret ? "secretKeyRef" : "configMapKeyRef");
    if (!ref.name.empty() && !IsDns1123Subdomain(ref.name)) {
      diag.Add(base + ".name", "\"" + ref.name + "\" is not a valid Kubernetes object name");
    }
    if (!ref.key.empty() && !IsConfigKey(ref.key)) {
      diag.Add(base + ".key", "\"" + ref.key +
                                  "\" is not a valid key (letters, digits, '-', '_' "
                                  "and '.' only)");
    }
  }
}

// Variables visible to $(NAME): the service's options by variable name, and executor.env.
struct Variable {
  std::string path;  // "spec.source.options[1]"
  const NamedValue* value;
};

void ValidateEnv(const DataCube& cube, std::map<std::string, Variable>& vars, Diagnostics& diag) {
  std::set<std::string> seen;
  for (const NamedValue& env : cube.executor.env) {
    if (env.name.empty()) continue;  // reported by the decoder
    std::string path = env.path + ".name";
    if (!IsEnvVarName(env.name)) {
      diag.Add(path, "\"" + env.name + "\" is not a valid environment variable name");
      continue;
    }
    if (!seen.insert(env.name).second) {
      diag.Add(path, "duplicate environment variable \"" + env.name + "\"");
      continue;
    }
    auto it = vars.find(env.name);
    if (it != vars.end()) {
      diag.Add(path, "\"" + env.name + "\" clashes with option \"" + it->second.value->name +
                         "\" (" + it->second.path + "), which is visible as $(" + env.name +
                         "); rename one of them");
      continue;
    }
    vars[env.name] = {env.path, &env};
  }
}

// Depth-first search for a cycle of $(NAME) references among literal values.
void CheckCycles(const std::map<std::string, Variable>& vars, Diagnostics& diag) {
  enum class Mark { kNone, kActive, kDone };
  std::map<std::string, Mark> marks;
  std::function<bool(const std::string&, std::vector<std::string>&)> visit =
      [&](const std::string& name, std::vector<std::string>& stack) -> bool {
    Mark& m = marks[name];
    if (m == Mark::kDone) return false;
    if (m == Mark::kActive) {
      stack.push_back(name);
      return true;
    }
    m = Mark::kActive;
    stack.push_back(name);
    const NamedValue* nv = vars.at(name).value;
    if (nv->value) {
      for (const std::string& ref : ReferencedNames(*nv->value)) {
        if (vars.count(ref) && visit(ref, stack)) return true;
      }
    }
    stack.pop_back();
    marks[name] = Mark::kDone;
    return false;
  };
  for (const auto& [name, var] : vars) {
    std::vector<std::string> stack;
    if (marks[name] == Mark::kNone && visit(name, stack)) {
      std::string chain;
      for (const auto& s : stack) chain += (chain.empty() ? "$(" : " -> $(") + s + ")";
      diag.Add(vars.at(stack.front()).path + ".value", "references form a cycle: " + chain);
      return;  // one report per cube is enough to fix it
    }
  }
}

void ValidateSides(const DataCube& cube, const ValidateOptions& options, Diagnostics& diag) {
  // Each side's type is checked on its own, so an unsupported source is reported even when the
  // sink's type is misspelled.
  if (options.type_supported) {
    for (const Endpoint* e : {&cube.source, &cube.sink}) {
      if (e->type && !options.type_supported(*e->type).ok()) {
        diag.Add(e->path + ".type", "\"" + std::string(EndpointTypeName(*e->type)) +
                                        "\" is not supported yet in this build");
      }
    }
  }
  if (!cube.source.type || !cube.sink.type) return;  // reported by the decoder
  bool src_pvc = *cube.source.type == EndpointType::kPvc;
  bool dst_pvc = *cube.sink.type == EndpointType::kPvc;
  if (src_pvc && dst_pvc) {
    diag.Add("spec.sink.type",
             "source and sink are both pvc; one side must be a data service "
             "(git, huggingface, s3)");
  } else if (!src_pvc && !dst_pvc) {
    diag.Add("spec.sink.type",
             "one side must be a pvc: a DataCube downloads a service into a PVC or uploads a PVC "
             "to a service (got " +
                 std::string(EndpointTypeName(*cube.source.type)) + " -> " +
                 std::string(EndpointTypeName(*cube.sink.type)) + ")");
  }
}

}  // namespace

bool IsDns1123Subdomain(std::string_view name) {
  static const std::regex kRe("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  return !name.empty() && name.size() <= 253 && std::regex_match(name.begin(), name.end(), kRe);
}

bool IsConfigKey(std::string_view key) {
  static const std::regex kRe("[-._a-zA-Z0-9]+");
  return !key.empty() && key.size() <= 253 && key != "." && key != ".." &&
         std::regex_match(key.begin(), key.end(), kRe);
}

bool IsEnvVarName(std::string_view name) {
  static const std::regex kRe("[-._a-zA-Z][-._a-zA-Z0-9]*");
  return std::regex_match(name.begin(), name.end(), kRe);
}

ExtraArgs ValidateDataCube(const DataCube& cube, const ValidateOptions& options,
                           Diagnostics& diag) {
  const Metadata& meta = cube.metadata;
  if (!meta.name.empty() && !IsDns1123Subdomain(meta.name)) {
    diag.Add("metadata.name", "\"" + meta.name +
                                  "\" is not a valid name (lower-case letters, "
                                  "digits, '-' and '.', at most 253 characters)");
  }
  if (!meta.namespace_.empty() && !IsDns1123Subdomain(meta.namespace_)) {
    diag.Add("metadata.namespace", "\"" + meta.namespace_ + "\" is not a valid namespace");
  }
  ValidateSides(cube, options, diag);
  std::map<std::string, Variable> vars;
  for (const Endpoint* e : {&cube.source, &cube.sink}) {
    ValidatePvc(*e, diag);
    ValidateKeyRefs(e->options, diag);
    if (e->type && *e->type != EndpointType::kPvc) {
      ValidateServiceOptions(*e, e == &cube.sink, diag);
    }
    for (const NamedValue& o : e->options) {
      if (!o.name.empty()) vars.emplace(OptionVariableName(o.name), Variable{o.path, &o});
    }
  }
  ValidateKeyRefs(cube.executor.env, diag);
  ValidateEnv(cube, vars, diag);
  CheckCycles(vars, diag);

  const ExecutorOptions& xo = cube.executor.options;
  if (xo.sync && !(cube.source.type == EndpointType::kS3 && cube.sink.type == EndpointType::kPvc)) {
    diag.Add("spec.executor.options.sync",
             "sync mirrors an S3 download exactly and is only allowed for s3 -> pvc");
  }
  return ParseExtraArgs(xo.extra_args, "spec.executor.options.extraArgs", diag);
}

}  // namespace datacube::spec
