#include "datacube/git/git_env.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
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

TEST(GitEnv, NoSecretInTheEnvironmentAndHelperScopedToTheHost) {
  GitRemote remote;
  remote.url = "https://127.0.0.1:7510/o/r.git";
  remote.scheme = "https";
  remote.host = "127.0.0.1:7510";
  remote.token = Secret<std::string>("tok-env-test-1");
  GitEnvOptions o;
  o.remote = &remote;
  o.credential_file = "/tmp/datacube-git-abc/credentials";
  o.getenv = [](const std::string&) { return std::nullopt; };
  auto list = BuildGitEnv(o);
  // git hands its environment to every child (remote helpers, git-lfs, filters): no token there.
  for (const auto& e : list) EXPECT_EQ(e.find("tok-env-test-1"), std::string::npos) << e;
  auto env = AsMap(list);
  EXPECT_EQ(env.count("DATACUBE_GIT_TOKEN"), 0u);
  std::string helper;
  for (const auto& [k, v] : env) {
    if (v == "credential.https://127.0.0.1:7510.helper") {
      helper = env["GIT_CONFIG_VALUE_" + k.substr(std::string("GIT_CONFIG_KEY_").size())];
    }
  }
  EXPECT_NE(helper.find("'/tmp/datacube-git-abc/credentials'"), std::string::npos) << helper;
}

std::map<std::string, std::string> Config(const std::vector<std::string>& list) {
  auto env = AsMap(list);
  std::map<std::string, std::string> config;
  int n = std::stoi(env["GIT_CONFIG_COUNT"]);
  for (int i = 0; i < n; ++i) {
    config[env["GIT_CONFIG_KEY_" + std::to_string(i)]] =
        env["GIT_CONFIG_VALUE_" + std::to_string(i)];
  }
  return config;
}

TEST(GitEnv, NothingTheRepositoryConfiguresCanRunAProgram) {
  GitEnvOptions o;
  o.getenv = [](const std::string&) { return std::nullopt; };
  auto list = BuildGitEnv(o);
  auto env = AsMap(list);
  EXPECT_EQ(env["GIT_CONFIG_NOSYSTEM"], "1");
  EXPECT_EQ(env["GIT_CONFIG_GLOBAL"], "/dev/null");
  EXPECT_EQ(env.count("GIT_ASKPASS"), 1u);
  EXPECT_EQ(env["GIT_ASKPASS"], "");
  auto config = Config(list);
  EXPECT_EQ(config["core.hooksPath"], "/dev/null");
  EXPECT_EQ(config["core.fsmonitor"], "false");
  EXPECT_EQ(config["core.sshCommand"], "false");
  EXPECT_EQ(config["core.askPass"], "");
  EXPECT_EQ(config["credential.helper"], "");
  EXPECT_EQ(config["protocol.allow"], "never");
  EXPECT_EQ(config["protocol.https.allow"], "always");
  EXPECT_EQ(config.count("protocol.http.allow"), 0u);
  EXPECT_EQ(config["filter.lfs.process"], "git-lfs filter-process");
  // Without LFS, a repository's own lfs filter is switched off, not left to the repository.
  o.lfs = false;
  auto off = Config(BuildGitEnv(o));
  EXPECT_EQ(off["filter.lfs.process"], "");
  EXPECT_EQ(off["filter.lfs.smudge"], "");
  EXPECT_EQ(off["filter.lfs.required"], "false");
}

TEST(GitEnv, HttpIsAllowedOnlyForAnHttpRemote) {
  GitRemote remote;
  remote.scheme = "http";
  remote.host = "127.0.0.1:8080";
  GitEnvOptions o;
  o.remote = &remote;
  o.getenv = [](const std::string&) { return std::nullopt; };
  EXPECT_EQ(Config(BuildGitEnv(o))["protocol.http.allow"], "always");
}

class HelperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dc-helper-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    std::ofstream(dir_ + "/cred") << "username=git\npassword=tok-helper-1\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  // Runs the helper as git would, through sh, and returns what it prints.
  std::string Ask(const std::string& action, const std::string& request, bool marker = false) {
    ProcessOptions p;
    std::string script = CredentialHelperScript("https", "h.example:443", dir_ + "/cred",
                                                marker ? dir_ + "/rejected" : "")
                             .substr(1);           // git strips the '!'
    p.argv = {"sh", "-c", script + " " + action};  // what git runs for a "!" helper
    p.env = {"PATH=/usr/bin:/bin"};
    p.stdin_data = request;
    auto r = RunProcess(p);
    EXPECT_TRUE(r.ok() && r->success());
    return r.ok() ? r->stdout_data : "";
  }
  std::string dir_;
};

TEST_F(HelperTest, AnswersOnlyGetForTheRightHost) {
  EXPECT_EQ(Ask("get", "protocol=https\nhost=h.example:443\n"),
            "username=git\npassword=tok-helper-1\n");
  EXPECT_EQ(Ask("get", "protocol=https\nhost=evil.example\n"), "");
  EXPECT_EQ(Ask("get", "protocol=http\nhost=h.example:443\n"), "");
  EXPECT_EQ(Ask("store", "protocol=https\nhost=h.example:443\n"), "");
  EXPECT_EQ(CredentialHelperScript("https", "h", dir_ + "/cred", "").find("tok-helper-1"),
            std::string::npos);
}

TEST_F(HelperTest, StopsOfferingARefusedToken) {
  std::string req = "protocol=https\nhost=h.example:443\n";
  EXPECT_NE(Ask("get", req, true), "");
  EXPECT_EQ(Ask("erase", req + "username=git\npassword=tok-helper-1\n", true), "");
  EXPECT_EQ(Ask("get", req, true), "");  // no resubmission of the refused token
}

TEST(GitEnv, ShellQuoteSurvivesQuotes) {
  ProcessOptions p;
  p.argv = {"sh", "-c", "printf %s " + ShellQuote("a'b c$(x)")};
  p.env = {"PATH=/usr/bin:/bin"};
  auto r = RunProcess(p);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stdout_data, "a'b c$(x)");
}

}  // namespace
}  // namespace datacube::git
