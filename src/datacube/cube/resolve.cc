#include "datacube/cube/resolve.h"

#include <sys/stat.h>

#include <cstdlib>
#include <set>

#include "datacube/base/secret.h"
#include "datacube/cube/expand.h"
#include "datacube/cube/field_reader.h"
#include "datacube/cube/option_rules.h"
#include "datacube/io/small_file.h"

namespace datacube::cube {
namespace {

// Kubernetes caps a Secret at 1 MiB; anything larger is not a mounted Secret.
constexpr size_t kMaxValueBytes = 1 << 20;

std::string KindName(KeyRef::Kind kind) {
  return kind == KeyRef::Kind::kSecret ? "secret" : "configmap";
}

std::string DropOneTrailingNewline(std::string s) {
  if (!s.empty() && s.back() == '\n') s.pop_back();
  if (!s.empty() && s.back() == '\r') s.pop_back();
  return s;
}

// Reads DIR/<name>/<key>. nullopt with `problem` set when missing (`not_found`) or unusable.
// Only a regular file is read (Kubernetes mounts keys as symbolic links to regular files, see
// docs/protocols/kubernetes.md#secrets-and-configmaps): a FIFO would block the run, a directory
// or device is not a value.
std::optional<std::string> ReadFromDir(const std::string& dir, const KeyRef& ref,
                                       std::string& problem, bool& not_found, StatusCode& code) {
  std::string object_dir = dir + "/" + ref.name;
  std::string file = object_dir + "/" + ref.key;
  not_found = true;
  struct stat st;
  if (::stat(object_dir.c_str(), &st) != 0) {
    problem = "no directory " + object_dir;
    return std::nullopt;
  }
  if (!S_ISDIR(st.st_mode)) {
    not_found = false;
    code = StatusCode::kInvalidArgument;
    problem = object_dir + " is " + std::string(io::DescribeFileType(st.st_mode)) +
              ", not a directory of keys";
    return std::nullopt;
  }
  if (::stat(file.c_str(), &st) != 0) {
    problem = "no key \"" + ref.key + "\" (no file " + file + ")";
    return std::nullopt;
  }
  not_found = false;
  auto text = io::ReadSmallFile(file, kMaxValueBytes, "");
  if (!text.ok()) {
    code = text.status().code() == StatusCode::kInvalidArgument ? StatusCode::kInvalidArgument
                                                                : StatusCode::kPermissionDenied;
    problem = "key \"" + ref.key + "\": " + std::string(text.status().message());
    return std::nullopt;
  }
  return DropOneTrailingNewline(std::move(*text));
}

class Resolver {
 public:
  Resolver(const DataCube& cube, const ValueSources& sources) : cube_(cube), sources_(sources) {}

  Result<ResolvedCube> Run() {
    const Endpoint* service = cube_.service();
    if (service != nullptr) {
      for (const NamedValue& o : service->options) {
        const OptionRule* rule = FindOptionRule(*service->type, service == &cube_.sink, o.name);
        Load(o, OptionVariableName(o.name), OptionEnvName(o.name), rule && rule->credential);
        option_vars_.emplace_back(o.name, OptionVariableName(o.name));
      }
    }
    for (const NamedValue& e : cube_.executor.env) {
      Load(e, e.name, ExecutorEnvEnvName(e.name), /*credential=*/false);
    }
    if (!missing_.empty()) return NotFoundError(missing_);
    if (!unreadable_.ok()) return unreadable_;

    ResolvedCube out;
    for (const auto& [name, var] : option_vars_) {
      if (!raw_.count(var)) continue;
      std::optional<std::string> v = Expanded(var);
      if (!v) return TooBig();
      out.options[name] = std::move(*v);
    }
    for (const NamedValue& e : cube_.executor.env) {
      if (!raw_.count(e.name)) continue;
      std::optional<std::string> v = Expanded(e.name);
      if (!v) return TooBig();
      out.env[e.name] = std::move(*v);
    }
    if (service != nullptr) {
      for (const NamedValue& o : service->options) {
        const OptionRule* rule = FindOptionRule(*service->type, service == &cube_.sink, o.name);
        if (rule && rule->required && out.options.count(o.name) && out.options[o.name].empty()) {
          return InvalidArgumentError(o.path + ": option \"" + o.name +
                                      "\" resolved to an empty "
                                      "value");
        }
      }
    }
    return out;
  }

 private:
  std::optional<std::string> Getenv(const std::string& name) const {
    if (sources_.getenv) return sources_.getenv(name);
    const char* v = std::getenv(name.c_str());
    return v ? std::optional<std::string>(v) : std::nullopt;
  }

  // Reads one entry's raw value into raw_[var]; records problems.
  void Load(const NamedValue& nv, const std::string& var, const std::string& env_name,
            bool credential) {
    paths_[var] = nv.path + ".value";
    if (nv.value) {
      raw_[var] = *nv.value;
      literal_.insert(var);
      if (credential) RegisterSecretForRedaction(*nv.value);
      return;
    }
    if (!nv.value_from) return;
    const KeyRef& ref = *nv.value_from;
    const std::string& dir =
        ref.kind == KeyRef::Kind::kSecret ? sources_.secrets_dir : sources_.configmaps_dir;
    std::optional<std::string> value;
    std::string problem;
    bool not_found = true;
    StatusCode code = StatusCode::kPermissionDenied;
    if (!dir.empty()) {
      value = ReadFromDir(dir, ref, problem, not_found, code);
    } else {
      value = Getenv(env_name);
      if (!value) {
        problem =
            std::string(ref.kind == KeyRef::Kind::kSecret ? "--secrets-dir" : "--configmaps-dir") +
            " is not set and " + env_name + " is not in the environment";
      }
    }
    if (!value) {
      if (!not_found) {
        unreadable_ = Status(code, nv.path + ": " + problem);
      } else if (!ref.optional) {
        if (!missing_.empty()) missing_ += "\n  ";
        missing_ += nv.path + " (\"" + nv.name + "\"): " + KindName(ref.kind) + " \"" + ref.name +
                    "\" key \"" + ref.key + "\" not found: " + problem;
      }
      return;
    }
    if (ref.kind == KeyRef::Kind::kSecret) RegisterSecretForRedaction(*value);
    if (credential) RegisterSecretForRedaction(*value);
    // The same rule as for literal values: a CR/LF in a Secret would become an extra HTTP
    // header or log line. The message names the key, never the value.
    std::string bad = ControlCharacterProblem(
        *value, nv.name == "commit-message" ? TextRule::kMultiLine : TextRule::kSingleLine);
    if (!bad.empty()) {
      unreadable_ = InvalidArgumentError(nv.path + " (\"" + nv.name + "\"): the value of " +
                                         KindName(ref.kind) + " \"" + ref.name + "\" key \"" +
                                         ref.key + "\" " + bad);
      return;
    }
    raw_[var] = std::move(*value);
  }

  // The expanded value of `var`, or nullopt when it (or a value it refers to) would exceed
  // kMaxExpandedValueBytes, or all values together kMaxExpandedTotalBytes; too_big_ then names
  // the field.
  std::optional<std::string> Expanded(const std::string& var) {
    if (auto it = expanded_.find(var); it != expanded_.end()) return it->second;
    if (!literal_.count(var)) return raw_.at(var);         // valueFrom values are never expanded
    if (!active_.insert(var).second) return raw_.at(var);  // cycle guard (validation forbids)
    bool failed = false;
    std::optional<std::string> out = ExpandReferencesBounded(
        raw_.at(var),
        [&](std::string_view name) -> std::optional<std::string> {
          std::string n(name);
          if (!raw_.count(n)) return std::nullopt;
          std::optional<std::string> v = Expanded(n);
          if (!v) failed = true;
          return v ? v : std::optional<std::string>("");
        },
        kMaxExpandedValueBytes);
    active_.erase(var);
    if (!failed && out && out->size() > kMaxExpandedTotalBytes - total_expanded_) out.reset();
    if (failed || !out) {
      if (too_big_.empty()) too_big_ = paths_[var];
      return std::nullopt;
    }
    total_expanded_ += out->size();
    expanded_[var] = *out;
    return out;
  }

  Status TooBig() const {
    return InvalidArgumentError(
        too_big_ + ": expands to more than " + std::to_string(kMaxExpandedValueBytes >> 10) +
        " KiB (or all values to more than " + std::to_string(kMaxExpandedTotalBytes >> 20) +
        " MiB) through $(NAME) references");
  }

  const DataCube& cube_;
  const ValueSources& sources_;
  std::vector<std::pair<std::string, std::string>> option_vars_;  // option name -> variable
  std::map<std::string, std::string> raw_;                        // variable -> raw value
  std::set<std::string> literal_;                                 // variables set by `value`
  std::map<std::string, std::string> paths_;                      // variable -> field path
  std::map<std::string, std::string> expanded_;
  size_t total_expanded_ = 0;
  std::string too_big_;
  std::set<std::string> active_;
  std::string missing_;
  Status unreadable_;
};

}  // namespace

std::string OptionEnvName(std::string_view option_name) {
  return "DATACUBE_OPTION_" + OptionVariableName(option_name);
}

std::string ExecutorEnvEnvName(std::string_view env_name) {
  return "DATACUBE_ENV_" + std::string(env_name);
}

Result<ResolvedCube> ResolveCube(const DataCube& cube, const ValueSources& sources) {
  Resolver resolver(cube, sources);
  return resolver.Run();
}

}  // namespace datacube::cube
