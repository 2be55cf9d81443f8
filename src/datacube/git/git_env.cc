#include "datacube/git/git_env.h"

#include <cstdlib>
#include <utility>

namespace datacube::git {
namespace {

constexpr char kDefaultPath[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::optional<std::string> Lookup(const GitEnvOptions& o, const std::string& name) {
  if (o.getenv) return o.getenv(name);
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

}  // namespace

const std::vector<std::string>& PassThroughEnvNames() {
  static const std::vector<std::string> names = {
      "HOME", "TMPDIR", "XDG_CONFIG_HOME",
      // Proxies: curl (inside git) reads the lower-case http_proxy only; git-lfs reads both.
      "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy",
      "NO_PROXY", "no_proxy",
      // TLS trust.
      "GIT_SSL_CAINFO", "GIT_SSL_CAPATH", "GIT_SSL_NO_VERIFY", "SSL_CERT_FILE", "SSL_CERT_DIR",
      "CURL_CA_BUNDLE"};
  return names;
}

std::string CredentialHelperScript() {
  // git runs this with `sh -c`, passing the action ("get", "store", "erase") as $1 and the
  // request ("protocol=https", "host=...") on stdin. Only "get" for our exact host is answered;
  // the values come from the environment, so the script itself is not secret. "erase" (the server
  // refused the credentials) leaves a marker so later "get"s answer nothing: git-lfs would
  // otherwise ask again and resubmit the same refused token forever.
  return "!f() { m=\"$DATACUBE_GIT_REJECTED\"; "
         "if test \"$1\" = erase; then cat >/dev/null; test -z \"$m\" || : >\"$m\"; exit 0; fi; "
         "test \"$1\" = get || { cat >/dev/null; exit 0; }; h=; p=; "
         "while IFS= read -r l; do case \"$l\" in host=*) h=${l#host=};; "
         "protocol=*) p=${l#protocol=};; esac; done; "
         "test -n \"$m\" && test -e \"$m\" && exit 0; "
         "test \"$h\" = \"$DATACUBE_GIT_HOST\" && test \"$p\" = \"$DATACUBE_GIT_SCHEME\" || exit "
         "0; "
         "printf 'username=%s\\npassword=%s\\n' \"$DATACUBE_GIT_USERNAME\" "
         "\"$DATACUBE_GIT_TOKEN\"; }; f";
}

std::vector<std::string> BuildGitEnv(const GitEnvOptions& o) {
  std::vector<std::string> env;
  env.push_back("PATH=" + Lookup(o, "PATH").value_or(kDefaultPath));
  for (const auto& name : PassThroughEnvNames()) {
    if (auto v = Lookup(o, name)) env.push_back(name + "=" + *v);
  }
  // Stable English messages: errors are classified by their text (git_errors.cc).
  env.push_back("LC_ALL=C");
  env.push_back("LANG=C");
  env.push_back("GIT_TERMINAL_PROMPT=0");
  env.push_back("GCM_INTERACTIVE=never");
  // git-lfs only prints progress to a terminal unless told; progress output is what the stall
  // watchdog (subprocess.h) sees as life.
  env.push_back("GIT_LFS_FORCE_PROGRESS=1");
  if (o.skip_smudge) env.push_back("GIT_LFS_SKIP_SMUDGE=1");

  std::vector<std::pair<std::string, std::string>> config = {
      // An empty value clears helpers from system and global config.
      {"credential.helper", ""},
      {"gc.auto", "0"},
      {"maintenance.auto", "false"},
      {"advice.detachedHead", "false"},
      {"http.lowSpeedLimit", "1"},
      {"http.lowSpeedTime", std::to_string(o.stall_timeout.count())},
      {"lfs.dialtimeout", std::to_string(o.stall_timeout.count())},
      {"lfs.tlstimeout", std::to_string(o.stall_timeout.count())},
      {"lfs.activitytimeout", std::to_string(o.stall_timeout.count())},
  };
  if (!o.ca_file.empty()) config.emplace_back("http.sslCAInfo", o.ca_file);
  if (o.lfs) {
    config.emplace_back("filter.lfs.process", "git-lfs filter-process");
    config.emplace_back("filter.lfs.smudge", "git-lfs smudge -- %f");
    config.emplace_back("filter.lfs.clean", "git-lfs clean -- %f");
    config.emplace_back("filter.lfs.required", "true");
  }
  config.insert(config.end(), o.extra_config.begin(), o.extra_config.end());
  if (o.remote != nullptr && !o.remote->token.empty()) {
    std::string base = o.remote->scheme + "://" + o.remote->host;
    config.emplace_back("credential." + base + ".helper", CredentialHelperScript());
    env.push_back("DATACUBE_GIT_HOST=" + o.remote->host);
    env.push_back("DATACUBE_GIT_SCHEME=" + o.remote->scheme);
    env.push_back("DATACUBE_GIT_USERNAME=" +
                  (o.remote->username.empty() ? std::string("git") : o.remote->username));
    env.push_back("DATACUBE_GIT_TOKEN=" + o.remote->token.reveal());
    if (!o.rejected_marker.empty()) env.push_back("DATACUBE_GIT_REJECTED=" + o.rejected_marker);
  }
  env.push_back("GIT_CONFIG_COUNT=" + std::to_string(config.size()));
  for (size_t i = 0; i < config.size(); ++i) {
    env.push_back("GIT_CONFIG_KEY_" + std::to_string(i) + "=" + config[i].first);
    env.push_back("GIT_CONFIG_VALUE_" + std::to_string(i) + "=" + config[i].second);
  }
  return env;
}

}  // namespace datacube::git
