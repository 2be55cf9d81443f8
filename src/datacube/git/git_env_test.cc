#include "datacube/git/git_env.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "datacube/git/subprocess.h"

namespace datacube::git {
namespace {

std::map<std::string, std::string> AsMap(const std::vector<std::string>& env) {
  std::map<std::string, std::string> m;
  for (const auto& e : env) {
    size_t eq = e.find('=');
    m[e.substr(0, eq)] = e.substr(eq + 1);
  }
  return m;
}

TEST(GitEnv, PassesProxiesFromTheLookupOnly) {
  std::map<std::string, std::string> vars = {
      {"HTTPS_PROXY", "http://127.0.0.1:3128"}, {"SECRET_THING", "x"}, {"PATH", "/usr/bin:/bin"}};
  GitEnvOptions o;
  o.getenv = [&](const std::string& n) -> std::optional<std::string> {
    auto it = vars.find(n);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  auto env = AsMap(BuildGitEnv(o));
  EXPECT_EQ(env["HTTPS_PROXY"], "http://127.0.0.1:3128");
  EXPECT_EQ(env.count("SECRET_THING"), 0u);
  EXPECT_EQ(env["GIT_TERMINAL_PROMPT"], "0");
  EXPECT_EQ(env["PATH"], "/usr/bin:/bin");
  EXPECT_EQ(env.count("DATACUBE_GIT_TOKEN"), 0u);
}

TEST(GitEnv, TokenOnlyInItsVariableAndHelperScopedToTheHost) {
  GitRemote remote;
  remote.url = "https://127.0.0.1:7510/o/r.git";
  remote.scheme = "https";
  remote.host = "127.0.0.1:7510";
  remote.token = Secret<std::string>("tok-env-test-1");
  GitEnvOptions o;
  o.remote = &remote;
  o.getenv = [](const std::string&) { return std::nullopt; };
  auto list = BuildGitEnv(o);
  int holders = 0;
  for (const auto& e : list) holders += e.find("tok-env-test-1") != std::string::npos;
  EXPECT_EQ(holders, 1);
  auto env = AsMap(list);
  EXPECT_EQ(env["DATACUBE_GIT_TOKEN"], "tok-env-test-1");
  bool scoped = false;
  for (const auto& [k, v] : env) {
    if (v == "credential.https://127.0.0.1:7510.helper") scoped = true;
  }
  EXPECT_TRUE(scoped);
}

// Runs the helper as git would, through sh, and returns what it prints.
std::string AskHelper(const std::string& action, const std::string& request,
                      const std::string& marker = "") {
  ProcessOptions p;
  std::string script = CredentialHelperScript().substr(1);  // git strips the '!'
  p.argv = {"sh", "-c", script + " " + action};             // what git runs for a "!" helper
  p.env = {"PATH=/usr/bin:/bin", "DATACUBE_GIT_HOST=h.example:443", "DATACUBE_GIT_SCHEME=https",
           "DATACUBE_GIT_USERNAME=git", "DATACUBE_GIT_TOKEN=tok-helper-1"};
  if (!marker.empty()) p.env.push_back("DATACUBE_GIT_REJECTED=" + marker);
  p.stdin_data = request;
  auto r = RunProcess(p);
  EXPECT_TRUE(r.ok() && r->success());
  return r.ok() ? r->stdout_data : "";
}

TEST(GitEnv, HelperAnswersOnlyGetForTheRightHost) {
  EXPECT_EQ(AskHelper("get", "protocol=https\nhost=h.example:443\n"),
            "username=git\npassword=tok-helper-1\n");
  EXPECT_EQ(AskHelper("get", "protocol=https\nhost=evil.example\n"), "");
  EXPECT_EQ(AskHelper("get", "protocol=http\nhost=h.example:443\n"), "");
  EXPECT_EQ(AskHelper("store", "protocol=https\nhost=h.example:443\n"), "");
  EXPECT_EQ(CredentialHelperScript().find("tok-helper-1"), std::string::npos);
}

TEST(GitEnv, HelperStopsOfferingARefusedToken) {
  char tmpl[] = "/tmp/dc-helper-XXXXXX";
  std::string marker = std::string(::mkdtemp(tmpl)) + "/rejected";
  std::string req = "protocol=https\nhost=h.example:443\n";
  EXPECT_NE(AskHelper("get", req, marker), "");
  EXPECT_EQ(AskHelper("erase", req + "username=git\npassword=tok-helper-1\n", marker), "");
  EXPECT_EQ(AskHelper("get", req, marker), "");  // no resubmission of the refused token
}

}  // namespace
}  // namespace datacube::git
