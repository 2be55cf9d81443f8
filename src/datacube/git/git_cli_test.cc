// End to end through the datacube binary: `datacube cp` to and from git+https://, and the git
// download and upload DataCubes of tests/cube_examples/ through `datacube run` with the token from
// a secret.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "datacube/base/secret.h"
#include "datacube/git/git_test_util.h"
#include "testing/test_util/test_util.h"

namespace datacube::git {
namespace {

namespace fs = std::filesystem;
using datacube::testing::CommandOptions;
using datacube::testing::CommandResult;
using datacube::testing::RunCommand;
using testing::Sh;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

class GitCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = testing::ServerFromEnv();
    if (!s) {
      const char* req = std::getenv("DATACUBE_REQUIRE_SERVERS");
      if (req && std::string(req) == "1") FAIL() << "git test server not configured";
      GTEST_SKIP() << "git test server not running (testing/servers/git.sh start DIR)";
    }
    server_ = *s;
    char tmpl[] = "/tmp/dc-git-cli-XXXXXX";
    work_ = ::mkdtemp(tmpl);
    name_ = "cli" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    repo_ = testing::CreateFixtureRepository(server_, name_);
  }
  void TearDown() override {
    if (!work_.empty()) fs::remove_all(work_);
  }
  // Runs datacube with the token in the environment and the test CA trusted.
  CommandResult Datacube(std::vector<std::string> args, const std::string& token) {
    args.insert(args.begin(), datacube::testing::DatacubeBin());
    CommandOptions o;
    o.env["DATACUBE_GIT_TOKEN"] = token;
    o.env["GIT_SSL_CAINFO"] = server_.ca;
    o.timeout = std::chrono::minutes(2);
    CommandResult r = RunCommand(args, o);
    EXPECT_EQ(r.out.find(server_.token), std::string::npos) << r.out;
    EXPECT_EQ(r.err.find(server_.token), std::string::npos) << r.err;
    return r;
  }
  std::string RepoUrl() const { return "git+" + server_.url + "/" + name_ + ".git"; }

  testing::GitServer server_;
  testing::FixtureRepo repo_;
  std::string name_, work_;
};

TEST_F(GitCliTest, CpClonesATagThenUpdatesAndWritesAManifest) {
  std::string dst = work_ + "/clone";
  auto r =
      Datacube({"cp", RepoUrl() + "@v1", dst, "--manifest-out", work_ + "/m.jsonl"}, server_.token);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadAll(dst + "/README"), "v1\n");
  EXPECT_EQ(ReadAll(dst + "/weights.bin"), repo_.weights);
  EXPECT_NE(r.err.find("verified against their SHA-256"), std::string::npos) << r.err;
  EXPECT_NE(ReadAll(work_ + "/m.jsonl").find(repo_.weights_oid), std::string::npos);
  auto again = Datacube({"cp", RepoUrl() + "@main", dst}, server_.token);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("updated"), std::string::npos) << again.err;
  EXPECT_EQ(ReadAll(dst + "/README"), "v2\n");
  EXPECT_TRUE(testing::FilesContaining(dst, server_.token).empty());
}

TEST_F(GitCliTest, CpShallowIntoPvcAndPushBack) {
  std::string pvc_root = work_ + "/pvcs";
  fs::create_directories(pvc_root + "/vol");
  auto r = Datacube(
      {"--pvc-root", pvc_root, "cp", RepoUrl() + "@main", "pvc://vol/repo", "--depth", "1"},
      server_.token);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string dir = pvc_root + "/vol/repo";
  EXPECT_EQ(Sh("git -C '" + dir + "' rev-list --count HEAD"), "1");
  Sh("cd '" + dir + "' && echo more > more.txt && git add more.txt && git commit -qm more");
  auto p = Datacube({"--pvc-root", pvc_root, "cp", "pvc://vol/repo", RepoUrl()}, server_.token);
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(Sh("git -C '" + repo_.bare + "' rev-parse main"),
            Sh("git -C '" + dir + "' rev-parse HEAD"));
}

TEST_F(GitCliTest, RejectedPushExitsOneWithTheServersWords) {
  std::string dst = work_ + "/clone";
  ASSERT_EQ(Datacube({"cp", RepoUrl() + "@main", dst}, server_.token).exit_code, 0);
  std::string hook = repo_.bare + "/hooks/pre-receive";
  std::ofstream(hook) << "#!/bin/sh\necho 'main is protected by policy QA-7'\nexit 1\n";
  fs::permissions(hook, fs::perms::owner_all);
  Sh("cd '" + dst + "' && echo z > z.txt && git add z.txt && git commit -qm z");
  auto r = Datacube({"cp", dst, RepoUrl()}, server_.token);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("main is protected by policy QA-7"), std::string::npos) << r.err;
}

TEST_F(GitCliTest, WrongTokenExitsOneQuickly) {
  auto start = std::chrono::steady_clock::now();
  auto r = Datacube({"cp", RepoUrl(), work_ + "/clone"}, "not-the-right-token");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("authentication failed for " + server_.host), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("not-the-right-token"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(GitCliTest, SyncAndObjectStoreTargetsAreUsageErrors) {
  auto r = Datacube({"sync", "--delete", RepoUrl(), work_ + "/clone"}, server_.token);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  auto s3 = Datacube({"cp", RepoUrl(), "s3://bucket/prefix"}, server_.token);
  EXPECT_EQ(s3.exit_code, 2) << s3.err;
  EXPECT_NE(s3.err.find("local path or pvc://"), std::string::npos) << s3.err;
}

// The git download and upload examples (tests/cube_examples/01-git-download.yaml,
// 07-git-upload.yaml, with a token and a ref), the url pointing at the test server. The token
// comes from a secret directory laid out like a mounted Secret.
TEST_F(GitCliTest, ExampleManifestsRunThroughDatacubeRun) {
  std::string secrets = work_ + "/secrets/github-token";
  fs::create_directories(secrets);
  std::ofstream(secrets + "/token") << server_.token;
  std::string pvc_root = work_ + "/pvcs";
  fs::create_directories(pvc_root + "/datacube-pvc");
  std::string url = "https://$(TOKEN)@" + server_.host + "/" + name_ + ".git";
  std::string download =
      "apiVersion: tensorstack.dev/v1beta1\nkind: DataCube\nmetadata:\n  name: git-download\n"
      "spec:\n  source:\n    type: git\n    options:\n    - name: token\n      valueFrom:\n"
      "        secretKeyRef:\n          name: github-token\n          key: token\n"
      "    - name: url\n      value: " +
      url +
      "\n    - name: ref\n      value: main\n"
      "  sink:\n    type: pvc\n    pvc:\n      name: datacube-pvc\n      subPath: dev/git\n";
  std::ofstream(work_ + "/download.yaml") << download;
  auto d = Datacube({"run", "-f", work_ + "/download.yaml", "--secrets-dir", work_ + "/secrets",
                     "--pvc-root", pvc_root, "--status-file", work_ + "/status.yaml"},
                    "");
  ASSERT_EQ(d.exit_code, 0) << d.err << d.out;
  std::string repo = pvc_root + "/datacube-pvc/dev/git/" + name_;
  EXPECT_EQ(ReadAll(repo + "/README"), "v2\n");
  EXPECT_EQ(ReadAll(repo + "/weights.bin"), repo_.weights);
  EXPECT_EQ(ReadAll(work_ + "/status.yaml").find(server_.token), std::string::npos);
  EXPECT_TRUE(testing::FilesContaining(repo, server_.token).empty());

  Sh("cd '" + repo + "' && echo up > up.txt && git add up.txt && git commit -qm up");
  std::string upload =
      "apiVersion: tensorstack.dev/v1beta1\nkind: DataCube\nmetadata:\n  name: git-upload\n"
      "spec:\n  source:\n    type: pvc\n    pvc:\n      name: datacube-pvc\n"
      "      subPath: dev/git/\n  sink:\n    type: git\n    options:\n    - name: token\n"
      "      valueFrom:\n        secretKeyRef:\n          name: github-token\n"
      "          key: token\n    - name: url\n      value: " +
      url + "\n";
  std::ofstream(work_ + "/upload.yaml") << upload;
  auto u = Datacube({"run", "-f", work_ + "/upload.yaml", "--secrets-dir", work_ + "/secrets",
                     "--pvc-root", pvc_root, "--status-file", work_ + "/status2.yaml"},
                    "");
  ASSERT_EQ(u.exit_code, 0) << u.err << u.out;
  EXPECT_EQ(Sh("git -C '" + repo_.bare + "' rev-parse main"),
            Sh("git -C '" + repo + "' rev-parse HEAD"));
  EXPECT_EQ(ReadAll(work_ + "/status2.yaml").find(server_.token), std::string::npos);
}

// A clone left in the PVC by someone else, updated and pushed by `datacube run` with the token
// from a Secret: planted hooks never run, planted configuration that could run a program is
// refused before git talks to the server, and no git child's environment holds the token.
class HostileCubeTest : public GitCliTest {
 protected:
  void SetUp() override {
    GitCliTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    marks_ = work_ + "/marks";
    wrappers_ = work_ + "/wrappers";
    fs::create_directories(marks_);
    fs::create_directories(wrappers_);
    for (const char* prog : {"git", "git-lfs"}) {
      std::string w = wrappers_ + "/" + prog;
      std::ofstream(w) << "#!/bin/sh\nenv > \"" << marks_ << "/env-" << prog
                       << ".$$\"\nexec /usr/bin/" << prog << " \"$@\"\n";
      fs::permissions(w, fs::perms::owner_all);
    }
    std::string secrets = work_ + "/secrets/github-token";
    fs::create_directories(secrets);
    std::ofstream(secrets + "/token") << server_.token << "\n";
    pvc_root_ = work_ + "/pvcs";
    fs::create_directories(pvc_root_ + "/datacube-pvc");
    repo_dir_ = pvc_root_ + "/datacube-pvc/dev/git/" + name_;
    std::string url = "https://$(TOKEN)@" + server_.host + "/" + name_ + ".git";
    std::string token_option =
        "    - name: token\n      valueFrom:\n        secretKeyRef:\n"
        "          name: github-token\n          key: token\n";
    std::ofstream(work_ + "/download.yaml")
        << "apiVersion: tensorstack.dev/v1beta1\nkind: DataCube\nmetadata:\n  name: dl\n"
           "spec:\n  source:\n    type: git\n    options:\n"
        << token_option << "    - name: url\n      value: " << url
        << "\n    - name: ref\n      value: main\n"
           "  sink:\n    type: pvc\n    pvc:\n      name: datacube-pvc\n      subPath: dev/git\n";
    std::ofstream(work_ + "/upload.yaml")
        << "apiVersion: tensorstack.dev/v1beta1\nkind: DataCube\nmetadata:\n  name: up\n"
           "spec:\n  source:\n    type: pvc\n    pvc:\n      name: datacube-pvc\n"
           "      subPath: dev/git/\n  sink:\n    type: git\n    options:\n"
        << token_option << "    - name: url\n      value: " << url << "\n";
    auto first = Run("download.yaml");
    ASSERT_EQ(first.exit_code, 0) << first.err << first.out;
  }
  CommandResult Run(const std::string& cube) {
    CommandOptions o;
    o.env["PATH"] = wrappers_ + ":/usr/bin:/bin";
    o.env["GIT_SSL_CAINFO"] = server_.ca;
    o.timeout = std::chrono::minutes(2);
    CommandResult r = RunCommand(
        {datacube::testing::DatacubeBin(), "run", "-f", work_ + "/" + cube, "--secrets-dir",
         work_ + "/secrets", "--pvc-root", pvc_root_, "--status-file", work_ + "/status.yaml"},
        o);
    for (const auto& text : {r.out, r.err, ReadAll(work_ + "/status.yaml")}) {
      EXPECT_EQ(text.find(server_.token), std::string::npos) << text;
    }
    return r;
  }
  std::string Planted(const std::string& name) {
    std::string p = work_ + "/planted-" + name;
    std::ofstream(p) << "#!/bin/sh\ntouch \"" << marks_ << "/ran-" << name << "\"\nenv > \""
                     << marks_ << "/ran-" << name << ".env\"\ncat\n";
    fs::permissions(p, fs::perms::owner_all);
    return p;
  }
  std::vector<std::string> Ran() {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(marks_)) {
      std::string n = e.path().filename();
      if (n.rfind("ran-", 0) == 0) out.push_back(n);
    }
    return out;
  }
  void ExpectNoTokenInAnyChildEnvironment() {
    size_t files = 0;
    std::string basic = Base64ForRedaction("git:" + server_.token);
    for (const auto& e : fs::directory_iterator(marks_)) {
      std::string text = ReadAll(e.path());
      ++files;
      EXPECT_EQ(text.find(server_.token), std::string::npos) << e.path();
      EXPECT_EQ(text.find(basic), std::string::npos) << e.path();
    }
    EXPECT_GT(files, 3u);  // the wrappers did record the git and git-lfs children
  }
  size_t Requests() { return testing::CountLogLines(server_.access_log, 0, "HTTP", name_); }

  std::string marks_, wrappers_, pvc_root_, repo_dir_;
};

TEST_F(HostileCubeTest, PlantedHooksNeverRunAndNoChildSeesTheToken) {
  for (const char* hook : {"post-checkout", "post-merge", "reference-transaction", "pre-push",
                           "post-index-change", "pre-auto-gc", "post-rewrite"}) {
    fs::copy_file(Planted(hook), repo_dir_ + "/.git/hooks/" + hook,
                  fs::copy_options::overwrite_existing);
  }
  testing::CommitToBare(repo_.bare, "main", "v3");
  auto update = Run("download.yaml");
  ASSERT_EQ(update.exit_code, 0) << update.err << update.out;
  EXPECT_EQ(ReadAll(repo_dir_ + "/README"), "v3\n");
  EXPECT_EQ(ReadAll(repo_dir_ + "/weights.bin"), repo_.weights);
  Sh("cd '" + repo_dir_ + "' && git -c core.hooksPath=/dev/null commit -q --allow-empty -m up");
  auto push = Run("upload.yaml");
  ASSERT_EQ(push.exit_code, 0) << push.err << push.out;
  EXPECT_EQ(Sh("git -C '" + repo_.bare + "' rev-parse main"),
            Sh("git -C '" + repo_dir_ + "' rev-parse HEAD"));
  EXPECT_EQ(Ran(), std::vector<std::string>{});
  ExpectNoTokenInAnyChildEnvironment();
}

TEST_F(HostileCubeTest, PlantedConfigIsRefusedBeforeAnythingIsSent) {
  std::string url = server_.url + "/" + name_ + ".git";
  std::string hooks = work_ + "/evil-hooks";
  fs::create_directories(hooks);
  fs::copy_file(Planted("hookspath"), hooks + "/post-checkout");
  struct Case {
    std::string name, key, value, attributes;
  };
  std::vector<Case> cases = {
      {"hookspath", "core.hooksPath", hooks, ""},
      {"fsmonitor", "core.fsmonitor", "%P", ""},
      {"sshcommand", "core.sshCommand", "%P", ""},
      {"filter-process", "filter.evil.process", "%P", "* filter=evil\n"},
      {"filter-smudge", "filter.evil.smudge", "%P %f", "* filter=evil\n"},
      {"filter-clean", "filter.evil.clean", "%P %f", "* filter=evil\n"},
      {"insteadof", "url.ext::%P #.insteadOf", url, ""},
  };
  std::string config = ReadAll(repo_dir_ + "/.git/config");
  std::string readme = ReadAll(repo_dir_ + "/README");
  testing::CommitToBare(repo_.bare, "main", "v3");
  for (auto c : cases) {
    SCOPED_TRACE(c.name);
    std::string program = Planted(c.name);
    for (std::string* s : {&c.key, &c.value}) {
      if (size_t at = s->find("%P"); at != std::string::npos) s->replace(at, 2, program);
    }
    Sh("git config --file '" + repo_dir_ + "/.git/config' '" + c.key + "' '" + c.value + "'");
    std::ofstream(repo_dir_ + "/.git/info/attributes") << c.attributes;
    size_t requests = Requests();
    for (const char* cube : {"download.yaml", "upload.yaml"}) {
      auto r = Run(cube);
      EXPECT_EQ(r.exit_code, 1) << cube << r.err << r.out;
      std::string status = ReadAll(work_ + "/status.yaml");
      EXPECT_NE(status.find("Failed"), std::string::npos) << status;
      std::string section = c.key.substr(0, c.key.find('.'));
      for (auto& ch : section) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      EXPECT_NE((r.err + status).find(section + "."), std::string::npos) << r.err << status;
    }
    EXPECT_EQ(Ran(), std::vector<std::string>{});
    ::usleep(100'000);  // nginx writes its access log line after the response
    EXPECT_EQ(Requests(), requests) << "a request reached the server";
    EXPECT_EQ(ReadAll(repo_dir_ + "/README"), readme);
    std::ofstream(repo_dir_ + "/.git/config", std::ios::trunc) << config;
    fs::remove(repo_dir_ + "/.git/info/attributes");
  }
  auto clean = Run("download.yaml");
  ASSERT_EQ(clean.exit_code, 0) << clean.err << clean.out;
  EXPECT_EQ(ReadAll(repo_dir_ + "/README"), "v3\n");
  EXPECT_EQ(Ran(), std::vector<std::string>{});
  ExpectNoTokenInAnyChildEnvironment();
}

TEST_F(GitCliTest, NonsenseGitNumbersAreRefusedByValidateAndRun) {
  std::string pvc_root = work_ + "/pvcs";
  fs::create_directories(pvc_root + "/datacube-pvc");
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{{"depth", "-1"},
                                                        {"depth", "0"},
                                                        {"depth", "1x"},
                                                        {"timeout", "1ms"},
                                                        {"stall-timeout", "100000000h"},
                                                        {"retries", "3abc"}}) {
    SCOPED_TRACE(name + "=" + value);
    std::ofstream(work_ + "/cube.yaml")
        << "apiVersion: tensorstack.dev/v1beta1\nkind: DataCube\nmetadata:\n  name: n\n"
           "spec:\n  source:\n    type: git\n    options:\n    - name: url\n      value: "
        << server_.url << "/" << name_ << ".git\n    - name: " << name << "\n      value: \""
        << value << "\"\n  sink:\n    type: pvc\n    pvc:\n      name: datacube-pvc\n";
    auto v = Datacube({"validate-cube", "-f", work_ + "/cube.yaml"}, "");
    EXPECT_EQ(v.exit_code, 2) << v.out << v.err;
    EXPECT_NE((v.out + v.err).find("\"" + name + "\""), std::string::npos) << v.out << v.err;
    auto r = Datacube({"run", "-f", work_ + "/cube.yaml", "--pvc-root", pvc_root}, "");
    EXPECT_NE(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE((r.out + r.err).find(name), std::string::npos) << r.out << r.err;
    EXPECT_FALSE(fs::exists(pvc_root + "/datacube-pvc/" + name_));
  }
}

TEST_F(GitCliTest, TokenWithALineBreakIsRefusedWithoutPrintingIt) {
  std::ofstream(work_ + "/token") << server_.token << "\r\nX-Injected: yes\n";
  size_t requests = testing::CountLogLines(server_.access_log, 0, "HTTP", name_);
  auto r = Datacube({"cp", RepoUrl(), work_ + "/clone", "--git-token-file", work_ + "/token"}, "");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--git-token-file"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("Injected"), std::string::npos) << r.err;
  auto e = Datacube({"cp", RepoUrl(), work_ + "/clone"}, "tok\nX-Injected: yes");
  EXPECT_EQ(e.exit_code, 2) << e.err;
  EXPECT_NE(e.err.find("DATACUBE_GIT_TOKEN"), std::string::npos) << e.err;
  auto t = Datacube({"cp", RepoUrl(), work_ + "/clone", "--git-timeout", "1ms"}, server_.token);
  EXPECT_EQ(t.exit_code, 2) << t.err;
  EXPECT_NE(t.err.find("--git-timeout"), std::string::npos) << t.err;
  ::usleep(100'000);
  EXPECT_EQ(testing::CountLogLines(server_.access_log, 0, "HTTP", name_), requests);
  EXPECT_FALSE(fs::exists(work_ + "/clone/.git"));
}

// A symbolic link planted in the volume, at any depth of the path, never takes a clone or a
// push's source outside it.
TEST_F(GitCliTest, SymlinksInThePvcNeverTakeTheRepositoryOutside) {
  std::string pvc_root = work_ + "/pvcs";
  std::string vol = pvc_root + "/vol";
  std::string outside = work_ + "/outside";
  fs::create_directories(vol + "/a/b");
  fs::create_directories(outside);
  fs::create_directory_symlink(outside, vol + "/link");
  fs::create_directory_symlink(outside, vol + "/a/link");
  fs::create_directory_symlink(outside, vol + "/a/b/link");
  for (const std::string path : {"link/repo", "a/link/repo", "a/b/link/repo", "a/link"}) {
    SCOPED_TRACE(path);
    auto r = Datacube({"--pvc-root", pvc_root, "cp", RepoUrl() + "@main", "pvc://vol/" + path},
                      server_.token);
    // The volume's own jail refuses the location before git starts (a usage error, exit 2).
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("resolves outside"), std::string::npos) << r.err;
    EXPECT_TRUE(fs::is_empty(outside));
  }
  // A cube whose subPath goes through the link.
  std::string secrets = work_ + "/secrets/github-token";
  fs::create_directories(secrets);
  std::ofstream(secrets + "/token") << server_.token;
  std::ofstream(work_ + "/cube.yaml")
      << "apiVersion: tensorstack.dev/v1beta1\nkind: DataCube\nmetadata:\n  name: l\n"
         "spec:\n  source:\n    type: git\n    options:\n    - name: token\n      valueFrom:\n"
         "        secretKeyRef:\n          name: github-token\n          key: token\n"
         "    - name: url\n      value: "
      << server_.url << "/" << name_ << ".git\n"
      << "  sink:\n    type: pvc\n    pvc:\n      name: vol\n      subPath: a/b/link\n";
  auto cube = Datacube({"run", "-f", work_ + "/cube.yaml", "--secrets-dir", work_ + "/secrets",
                        "--pvc-root", pvc_root},
                       "");
  EXPECT_NE(cube.exit_code, 0) << cube.out << cube.err;
  EXPECT_NE((cube.out + cube.err).find("resolves outside"), std::string::npos) << cube.err;
  EXPECT_TRUE(fs::is_empty(outside));

  // The push side: a repository outside the volume, reached through a link, is not pushed.
  ASSERT_EQ(Datacube({"cp", RepoUrl() + "@main", outside + "/repo"}, server_.token).exit_code, 0);
  Sh("cd '" + outside + "/repo' && git commit -q --allow-empty -m outside");
  std::string before = Sh("git -C '" + repo_.bare + "' rev-parse main");
  auto p =
      Datacube({"--pvc-root", pvc_root, "cp", "pvc://vol/link/repo", RepoUrl()}, server_.token);
  EXPECT_EQ(p.exit_code, 2) << p.err;
  EXPECT_NE(p.err.find("resolves outside"), std::string::npos) << p.err;
  EXPECT_EQ(Sh("git -C '" + repo_.bare + "' rev-parse main"), before);
}

TEST_F(GitCliTest, SecretTokenWithALineBreakIsRefusedByRunBeforeAnythingIsSent) {
  std::string secrets = work_ + "/secrets/github-token";
  fs::create_directories(secrets);
  std::ofstream(secrets + "/token") << server_.token << "\r\nX-Injected: yes\n";
  std::string pvc_root = work_ + "/pvcs";
  fs::create_directories(pvc_root + "/datacube-pvc");
  std::ofstream(work_ + "/cube.yaml")
      << "apiVersion: tensorstack.dev/v1beta1\nkind: DataCube\nmetadata:\n  name: t\n"
         "spec:\n  source:\n    type: git\n    options:\n    - name: token\n      valueFrom:\n"
         "        secretKeyRef:\n          name: github-token\n          key: token\n"
         "    - name: url\n      value: https://$(TOKEN)@"
      << server_.host << "/" << name_ << ".git\n"
      << "  sink:\n    type: pvc\n    pvc:\n      name: datacube-pvc\n";
  size_t requests = testing::CountLogLines(server_.access_log, 0, "HTTP", name_);
  auto r = Datacube({"run", "-f", work_ + "/cube.yaml", "--secrets-dir", work_ + "/secrets",
                     "--pvc-root", pvc_root, "--status-file", work_ + "/status.yaml"},
                    "");
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
  std::string all = r.out + r.err + ReadAll(work_ + "/status.yaml");
  EXPECT_NE(all.find("token"), std::string::npos) << all;
  EXPECT_EQ(all.find("Injected"), std::string::npos) << all;
  EXPECT_EQ(all.find(server_.token), std::string::npos) << all;
  ::usleep(100'000);
  EXPECT_EQ(testing::CountLogLines(server_.access_log, 0, "HTTP", name_), requests);
  EXPECT_FALSE(fs::exists(pvc_root + "/datacube-pvc/" + name_ + "/.git"));
}

}  // namespace
}  // namespace datacube::git
