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
      "HOME", "TMPDIR",
      // Proxies: curl (inside git) reads the lower-case http_proxy only; git-lfs reads both.
      "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy",
      "NO_PROXY", "no_proxy",
      // TLS trust.
      "GIT_SSL_CAINFO", "GIT_SSL_CAPATH", "GIT_SSL_NO_VERIFY", "SSL_CERT_FILE", "SSL_CERT_DIR",
      "CURL_CA_BUNDLE"};
  return names;
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

std::string CredentialHelperScript(const std::string& scheme, const std::string& host,
                                   const std::string& credential_file,
                                   const std::string& rejected_marker) {
  // git runs this with `sh -c`, passing the action ("get", "store", "erase") as $1 and the
  // request ("protocol=https", "host=...") on stdin. Only "get" for our exact host is answered,
  // from the private file; the script itself holds no secret. "erase" (the server refused the
  // credentials) leaves a marker so later "get"s answer nothing: git-lfs would otherwise ask
  // again and resubmit the same refused token forever.
  std::string m = rejected_marker.empty() ? "''" : ShellQuote(rejected_marker);
  return "!f() { m=" + m +
         "; "
         "if test \"$1\" = erase; then cat >/dev/null; test -z \"$m\" || : >\"$m\"; exit 0; fi; "
         "test \"$1\" = get || { cat >/dev/null; exit 0; }; h=; p=; "
         "while IFS= read -r l; do case \"$l\" in host=*) h=${l#host=};; "
         "protocol=*) p=${l#protocol=};; esac; done; "
         "test -n \"$m\" && test -e \"$m\" && exit 0; "
         "test \"$h\" = " +
         ShellQuote(host) + " && test \"$p\" = " + ShellQuote(scheme) +
         " || exit 0; "
         "cat " +
         ShellQuote(credential_file) + "; }; f";
}

std::vector<std::pair<std::string, std::string>> GitConfigOverrides(const GitEnvOptions& o) {
  std::string stall = std::to_string(o.stall_timeout.count());
  std::vector<std::pair<std::string, std::string>> config = {
      // An empty value clears every helper configured before (system, global, repository).
      {"credential.helper", ""},
      // Nothing the repository says may start a program.
      {"core.hooksPath", "/dev/null"},
      {"core.fsmonitor", "false"},
      {"core.sshCommand", "false"},
      {"core.gitProxy", ""},
      {"core.askPass", ""},
      {"core.pager", "cat"},
      {"core.editor", "false"},
      {"sequence.editor", "false"},
      {"diff.external", ""},
      {"gpg.program", "false"},
      {"submodule.recurse", "false"},
      {"fetch.recurseSubmodules", "false"},
      // https only (http for a loopback test server the user named); ssh, file, ext and git://
      // are refused, whatever a redirect or the repository asks for.
      {"protocol.allow", "never"},
      {"protocol.https.allow", "always"},
      {"gc.auto", "0"},
      {"maintenance.auto", "false"},
      {"init.defaultBranch", "master"},
      {"advice.detachedHead", "false"},
      {"http.lowSpeedLimit", "1"},
      {"http.lowSpeedTime", stall},
      {"lfs.dialtimeout", stall},
      {"lfs.tlstimeout", stall},
      {"lfs.activitytimeout", stall},
  };
  if (o.remote != nullptr && o.remote->scheme == "http") {
    config.emplace_back("protocol.http.allow", "always");
  }
  if (!o.ca_file.empty()) config.emplace_back("http.sslCAInfo", o.ca_file);
  if (o.lfs) {
    config.emplace_back("filter.lfs.process", "git-lfs filter-process");
    config.emplace_back("filter.lfs.smudge", "git-lfs smudge -- %f");
    config.emplace_back("filter.lfs.clean", "git-lfs clean -- %f");
    config.emplace_back("filter.lfs.required", "true");
  } else {
    // Empty commands mean "no filter": a repository's own lfs filter stays unused.
    config.emplace_back("filter.lfs.process", "");
    config.emplace_back("filter.lfs.smudge", "");
    config.emplace_back("filter.lfs.clean", "");
    config.emplace_back("filter.lfs.required", "false");
  }
  config.insert(config.end(), o.extra_config.begin(), o.extra_config.end());
  if (o.remote != nullptr && !o.remote->token.empty() && !o.credential_file.empty()) {
    std::string base = o.remote->scheme + "://" + o.remote->host;
    config.emplace_back("credential." + base + ".helper",
                        CredentialHelperScript(o.remote->scheme, o.remote->host, o.credential_file,
                                               o.rejected_marker));
  }
  return config;
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
  // Only datacube's configuration and the (vetted) repository's own file.
  env.push_back("GIT_CONFIG_NOSYSTEM=1");
  env.push_back("GIT_CONFIG_GLOBAL=/dev/null");
  env.push_back("GIT_TERMINAL_PROMPT=0");
  // Set and empty: wins over core.askPass and SSH_ASKPASS.
  env.push_back("GIT_ASKPASS=");
  env.push_back("GIT_PAGER=cat");
  env.push_back("GIT_EDITOR=false");
  env.push_back("GCM_INTERACTIVE=never");
  // git-lfs only prints progress to a terminal unless told; progress output is what the stall
  // watchdog (subprocess.h) sees as life.
  env.push_back("GIT_LFS_FORCE_PROGRESS=1");
  if (o.skip_smudge) env.push_back("GIT_LFS_SKIP_SMUDGE=1");

  auto config = GitConfigOverrides(o);
  env.push_back("GIT_CONFIG_COUNT=" + std::to_string(config.size()));
  for (size_t i = 0; i < config.size(); ++i) {
    env.push_back("GIT_CONFIG_KEY_" + std::to_string(i) + "=" + config[i].first);
    env.push_back("GIT_CONFIG_VALUE_" + std::to_string(i) + "=" + config[i].second);
  }
  return env;
}

}  // namespace datacube::git
