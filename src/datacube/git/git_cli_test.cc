// End to end through the datacube binary: `datacube cp` to and from git+https://, and the seed's
// git download and upload manifests through `datacube run` with the token from a secret.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

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
    repo_ = testing::SeedRepository(server_, name_);
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
  testing::SeededRepo repo_;
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

// The seed's manifests (DESIGN.md §2.1), with the url pointing at the test server. The token
// comes from a secret directory laid out like a mounted Secret.
TEST_F(GitCliTest, SeedManifestsRunThroughDatacubeRun) {
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

}  // namespace
}  // namespace datacube::git
