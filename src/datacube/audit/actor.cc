// Who is acting, for the audit log's `actor` field.
#include <unistd.h>

#include <fstream>

#include "datacube/audit/audit_log.h"

extern char** environ;

namespace datacube::audit {
namespace {

constexpr const char* kServiceAccountNamespaceFile =
    "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

std::string Get(const std::map<std::string, std::string>& env, const std::string& key) {
  auto it = env.find(key);
  return it == env.end() ? std::string() : it->second;
}

std::string ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (in) std::getline(in, line);
  return line;
}

// A pod has no file that names its service account; the manifest passes it through the
// downward API (env DATACUBE_SERVICE_ACCOUNT from fieldRef spec.serviceAccountName).
std::string ServiceAccount(const std::map<std::string, std::string>& env,
                           const std::string& namespace_file) {
  std::string name = Get(env, "DATACUBE_SERVICE_ACCOUNT");
  if (name.empty()) return "";
  std::string ns = Get(env, "POD_NAMESPACE");
  if (ns.empty()) ns = ReadFirstLine(namespace_file);
  if (ns.empty()) return "";
  return "system:serviceaccount:" + ns + ":" + name;
}

}  // namespace

std::string ActorFrom(const std::map<std::string, std::string>& env, std::string_view flag_value,
                      const std::string& namespace_file) {
  if (!flag_value.empty()) return std::string(flag_value);
  if (std::string actor = Get(env, "DATACUBE_ACTOR"); !actor.empty()) return actor;
  if (std::string sa = ServiceAccount(env, namespace_file); !sa.empty()) return sa;
  if (std::string user = Get(env, "USER"); !user.empty()) return user;
  if (std::string user = Get(env, "LOGNAME"); !user.empty()) return user;
  return "uid:" + std::to_string(getuid());
}

std::string ActorFrom(const std::map<std::string, std::string>& env, std::string_view flag_value) {
  return ActorFrom(env, flag_value, kServiceAccountNamespaceFile);
}

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> env;
  for (char** entry = environ; entry && *entry; ++entry) {
    std::string_view kv(*entry);
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return env;
}

}  // namespace datacube::audit
