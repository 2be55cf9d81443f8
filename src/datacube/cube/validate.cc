#include "datacube/cube/validate.h"

#include <map>
#include <set>

#include "datacube/cube/expand.h"
#include "datacube/cube/option_rules.h"

namespace datacube::cube {

// Defined in validate_options.cc.
void ValidateServiceOptions(const Endpoint& endpoint, bool is_sink, Diagnostics& diag);

namespace {

// Kubernetes sets no limit of its own; no real variable name comes near this one.
constexpr size_t kMaxEnvNameBytes = 1024;
constexpr size_t kMaxEnvEntries = 1000;
constexpr size_t kMaxOptions = 100;

// Names, keys and quantities are matched by hand in one pass with a length cap: they come from
// untrusted specs, and std::regex recurses once per character (a long value overflowed the stack).
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLowerAlnum(char c) { return IsDigit(c) || (c >= 'a' && c <= 'z'); }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

size_t CountDigits(std::string_view s, size_t from) {
  size_t n = 0;
  while (from + n < s.size() && IsDigit(s[from + n])) ++n;
  return n;
}

// Kubernetes resource quantities:
// [0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][-+]?[0-9]+)?
bool IsQuantity(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  size_t i = CountDigits(s, 0);
  if (i == 0) return false;
  if (i < s.size() && s[i] == '.') {
    size_t frac = CountDigits(s, i + 1);
    if (frac == 0) return false;
    i += 1 + frac;
  }
  std::string_view suffix = s.substr(i);
  if (suffix.empty()) return true;
  for (std::string_view unit :
       {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "m", "k", "M", "G", "T", "P", "E"}) {
    if (suffix == unit) return true;
  }
  if (suffix[0] != 'e' && suffix[0] != 'E') return false;
  size_t j = 1;
  if (j < suffix.size() && (suffix[j] == '-' || suffix[j] == '+')) ++j;
  size_t exp = CountDigits(suffix, j);
  return exp > 0 && j + exp == suffix.size();
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
    if (env.name.rfind("DATACUBE_", 0) == 0) {
      // datacube's own settings (the PVC root above all) belong to whoever runs it: a cube that
      // could set them could move its volume anywhere on the node.
      diag.Add(path, "\"" + env.name +
                         "\" is reserved: DATACUBE_* settings come from the operator (flags and "
                         "the process environment), never from a cube");
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

// The size every literal value expands to, without expanding: a value may quote another many
// times, so sizes grow exponentially with the chain while the memo keeps this linear.
void CheckExpansionSizes(const std::map<std::string, Variable>& vars, Diagnostics& diag) {
  std::map<std::string, size_t> memo;
  std::set<std::string> active;
  std::function<size_t(const std::string&)> size_of = [&](const std::string& name) -> size_t {
    if (auto it = memo.find(name); it != memo.end()) return it->second;
    const NamedValue* nv = vars.at(name).value;
    if (!nv->value) return 0;                   // from a Secret or ConfigMap: capped when read
    if (!active.insert(name).second) return 0;  // a cycle, reported by CheckCycles
    size_t n = ExpandedSize(*nv->value, [&](std::string_view ref) -> std::optional<size_t> {
      std::string r(ref);
      if (!vars.count(r)) return std::nullopt;
      return size_of(r);
    });
    active.erase(name);
    memo[name] = n;
    return n;
  };
  size_t total = 0;
  for (const auto& [name, var] : vars) {
    if (!var.value->value) continue;
    size_t n = size_of(name);
    if (n > kMaxExpandedValueBytes) {
      diag.Add(var.path + ".value", "expands to more than " +
                                        std::to_string(kMaxExpandedValueBytes >> 10) +
                                        " KiB through $(NAME) references");
      return;
    }
    total += n;
    if (total > kMaxExpandedTotalBytes) {
      diag.Add(var.path + ".value", "the options and env of this cube expand to more than " +
                                        std::to_string(kMaxExpandedTotalBytes >> 20) +
                                        " MiB in total through $(NAME) references");
      return;
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
  if (name.empty() || name.size() > 253) return false;
  // Labels of [a-z0-9]([-a-z0-9]*[a-z0-9])?, separated by '.'.
  size_t start = 0;
  while (true) {
    size_t dot = name.find('.', start);
    std::string_view label =
        name.substr(start, dot == std::string_view::npos ? name.npos : dot - start);
    if (label.empty() || !IsLowerAlnum(label.front()) || !IsLowerAlnum(label.back())) return false;
    for (char c : label) {
      if (!IsLowerAlnum(c) && c != '-') return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool IsConfigKey(std::string_view key) {
  if (key.empty() || key.size() > 253 || key == "." || key == "..") return false;
  for (char c : key) {
    if (!IsAlpha(c) && !IsDigit(c) && c != '-' && c != '.' && c != '_') return false;
  }
  return true;
}

bool IsEnvVarName(std::string_view name) {
  if (name.empty() || name.size() > kMaxEnvNameBytes || IsDigit(name[0])) return false;
  for (char c : name) {
    if (!IsAlpha(c) && !IsDigit(c) && c != '-' && c != '.' && c != '_') return false;
  }
  return true;
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
  // The reference checks recurse once per variable of a chain; a cube has a handful.
  bool countable = cube.executor.env.size() <= kMaxEnvEntries;
  if (!countable) {
    diag.Add("spec.executor.env", "has " + std::to_string(cube.executor.env.size()) +
                                      " entries; at most " + std::to_string(kMaxEnvEntries) +
                                      " are allowed");
  }
  for (const Endpoint* e : {&cube.source, &cube.sink}) {
    if (e->options.size() > kMaxOptions) {
      countable = false;
      diag.Add(e->path + ".options", "has " + std::to_string(e->options.size()) +
                                         " entries; at most " + std::to_string(kMaxOptions) +
                                         " are allowed");
    }
  }
  if (countable) {
    size_t errors = diag.errors().size();
    CheckCycles(vars, diag);
    if (diag.errors().size() == errors) CheckExpansionSizes(vars, diag);
  }

  const ExecutorOptions& xo = cube.executor.options;
  if (xo.sync && !(cube.source.type == EndpointType::kS3 && cube.sink.type == EndpointType::kPvc)) {
    diag.Add("spec.executor.options.sync",
             "sync mirrors an S3 download exactly and is only allowed for s3 -> pvc");
  }
  return ParseExtraArgs(xo.extra_args, "spec.executor.options.extraArgs", diag);
}

}  // namespace datacube::cube
