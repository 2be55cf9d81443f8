#include "datacube/spec/resolve.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "datacube/base/secret.h"
#include "datacube/spec/expand.h"
#include "datacube/spec/option_rules.h"

namespace datacube::spec {
namespace {

// Kubernetes caps a Secret at 1 MiB; anything larger is not a mounted Secret.
constexpr off_t kMaxValueBytes = 1 << 20;

std::string KindName(KeyRef::Kind kind) {
  return kind == KeyRef::Kind::kSecret ? "secret" : "configmap";
}

std::string DropOneTrailingNewline(std::string s) {
  if (!s.empty() && s.back() == '\n') s.pop_back();
  if (!s.empty() && s.back() == '\r') s.pop_back();
  return s;
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Reads DIR/<name>/<key>. nullopt with `problem` set when missing or unreadable.
std::optional<std::string> ReadFromDir(const std::string& dir, const KeyRef& ref,
                                       std::string& problem, bool& not_found) {
  std::string object_dir = dir + "/" + ref.name;
  std::string file = object_dir + "/" + ref.key;
  not_found = true;
  if (!IsDirectory(object_dir)) {
    problem = "no directory " + object_dir;
    return std::nullopt;
  }
  struct stat st;
  if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    problem = "no key \"" + ref.key + "\" (no file " + file + ")";
    return std::nullopt;
  }
  not_found = false;
  if (st.st_size > kMaxValueBytes) {
    problem = file + " is larger than 1 MiB";
    return std::nullopt;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    problem = "cannot read " + file + ": " + std::string(std::strerror(errno));
    return std::nullopt;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  return DropOneTrailingNewline(buf.str());
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
      if (raw_.count(var)) out.options[name] = Expanded(var);
    }
    for (const NamedValue& e : cube_.executor.env) {
      if (raw_.count(e.name)) out.env[e.name] = Expanded(e.name);
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
    if (!dir.empty()) {
      value = ReadFromDir(dir, ref, problem, not_found);
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
        unreadable_ = PermissionDeniedError(nv.path + ": " + problem);
      } else if (!ref.optional) {
        if (!missing_.empty()) missing_ += "\n  ";
        missing_ += nv.path + " (\"" + nv.name + "\"): " + KindName(ref.kind) + " \"" + ref.name +
                    "\" key \"" + ref.key + "\" not found: " + problem;
      }
      return;
    }
    if (ref.kind == KeyRef::Kind::kSecret) RegisterSecretForRedaction(*value);
    if (credential) RegisterSecretForRedaction(*value);
    raw_[var] = std::move(*value);
  }

  std::string Expanded(const std::string& var) {
    if (auto it = expanded_.find(var); it != expanded_.end()) return it->second;
    if (!literal_.count(var)) return raw_.at(var);         // valueFrom values are never expanded
    if (!active_.insert(var).second) return raw_.at(var);  // cycle guard (validation forbids)
    std::string out = ExpandReferences(raw_.at(var), [&](std::string_view name) {
      std::string n(name);
      return raw_.count(n) ? std::optional<std::string>(Expanded(n)) : std::nullopt;
    });
    active_.erase(var);
    expanded_[var] = out;
    return out;
  }

  const DataCube& cube_;
  const ValueSources& sources_;
  std::vector<std::pair<std::string, std::string>> option_vars_;  // option name -> variable
  std::map<std::string, std::string> raw_;                        // variable -> raw value
  std::set<std::string> literal_;                                 // variables set by `value`
  std::map<std::string, std::string> expanded_;
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

}  // namespace datacube::spec
