#include "datacube/git/repo_guard.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "datacube/git/git_env.h"

namespace datacube::git::internal {
namespace {

namespace fs = std::filesystem;

class RepoGuardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dc-guard-XXXXXX";
    root_ = ::mkdtemp(tmpl);
    scratch_ = root_ + "/scratch";
    repo_ = root_ + "/repo";
    fs::create_directories(scratch_);
    Shell("git init -q '" + repo_ + "' && git -C '" + repo_ +
          "' remote add origin https://h.example/o/r.git");
    GitEnvOptions o;
    o.getenv = [](const std::string& n) -> std::optional<std::string> {
      if (n == "PATH") return std::string("/usr/bin:/bin");
      return std::nullopt;
    };
    env_ = BuildGitEnv(o);
  }
  void TearDown() override { fs::remove_all(root_); }
  void Shell(const std::string& cmd) {
    std::string full = "export HOME='" + root_ + "' GIT_CONFIG_NOSYSTEM=1; " + cmd;
    ASSERT_EQ(std::system(full.c_str()), 0) << cmd;
  }
  void Set(const std::string& key, const std::string& value) {
    Shell("git config --file '" + repo_ + "/.git/config' '" + key + "' '" + value + "'");
  }
  Result<RepositoryConfig> Check() { return CheckRepository(env_, scratch_, repo_); }
  void ExpectRefused(const std::string& key, const std::string& value) {
    SCOPED_TRACE(key);
    Set(key, value);
    auto r = Check();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
    std::string msg(r.status().message());
    EXPECT_NE(msg.find(repo_ + "/.git/config"), std::string::npos) << msg;
    std::string lower = key;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    // The section and the name are shown lower-case, as git reports them.
    EXPECT_NE(msg.find(lower.substr(0, lower.find('.'))), std::string::npos) << msg;
    Shell("git config --file '" + repo_ + "/.git/config' --unset-all '" + key + "'");
    ASSERT_TRUE(Check().ok()) << Check().status().ToString();
  }

  std::string root_, scratch_, repo_;
  std::vector<std::string> env_;
};

TEST_F(RepoGuardTest, ACloneAsGitAndGitLfsLeaveItIsAccepted) {
  Set("branch.main.remote", "origin");
  Set("branch.main.merge", "refs/heads/main");
  Set("remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*");
  Set("lfs.repositoryformatversion", "0");
  Set("lfs.https://h.example/o/r.git/info/lfs.access", "basic");
  Set("filter.lfs.process", "git-lfs filter-process");
  Set("filter.lfs.required", "true");
  Set("user.name", "Someone");
  Set("pull.rebase", "true");
  auto r = Check();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->origin_url, "https://h.example/o/r.git");
  // Hooks are not inspected: they never run.
  std::ofstream(repo_ + "/.git/hooks/post-checkout") << "#!/bin/sh\ntouch /tmp/never\n";
  EXPECT_TRUE(Check().ok());
}

TEST_F(RepoGuardTest, EveryKeyThatCanRunOrRedirectIsRefused) {
  ExpectRefused("core.hooksPath", "/tmp/evil-hooks");
  ExpectRefused("core.fsmonitor", "/tmp/evil");
  ExpectRefused("core.sshCommand", "/tmp/evil");
  ExpectRefused("core.pager", "/tmp/evil");
  ExpectRefused("core.editor", "/tmp/evil");
  ExpectRefused("core.askPass", "/tmp/evil");
  ExpectRefused("core.gitProxy", "/tmp/evil");
  ExpectRefused("core.worktree", "/etc");
  ExpectRefused("core.attributesFile", "/tmp/attrs");
  ExpectRefused("core.bare", "true");
  ExpectRefused("filter.evil.process", "/tmp/evil");
  ExpectRefused("filter.evil.smudge", "/tmp/evil %f");
  ExpectRefused("filter.evil.clean", "/tmp/evil %f");
  ExpectRefused("diff.evil.textconv", "/tmp/evil");
  ExpectRefused("diff.evil.command", "/tmp/evil");
  ExpectRefused("merge.evil.driver", "/tmp/evil");
  ExpectRefused("url.https://evil.example/.insteadOf", "https://h.example/");
  ExpectRefused("url.https://evil.example/.pushInsteadOf", "https://h.example/");
  ExpectRefused("include.path", "/tmp/other.config");
  ExpectRefused("includeIf.gitdir:/.path", "/tmp/other.config");
  ExpectRefused("credential.helper", "/tmp/evil");
  ExpectRefused("credential.https://h.example.helper", "/tmp/evil");
  ExpectRefused("http.proxy", "http://evil.example:3128");
  ExpectRefused("http.sslCAInfo", "/tmp/evil.pem");
  ExpectRefused("http.sslVerify", "false");
  ExpectRefused("http.extraHeader", "X: y");
  ExpectRefused("http.https://h.example.proxy", "http://evil.example:3128");
  ExpectRefused("remote.origin.uploadpack", "/tmp/evil");
  ExpectRefused("remote.origin.receivepack", "/tmp/evil");
  ExpectRefused("remote.origin.vcs", "evil");
  ExpectRefused("remote.origin.proxy", "http://evil.example:3128");
  ExpectRefused("remote.datacube-push.url", "https://evil.example/x.git");
  ExpectRefused("lfs.url", "https://evil.example/lfs");
  ExpectRefused("lfs.storage", "/etc");
  ExpectRefused("lfs.customtransfer.evil.path", "/tmp/evil");
  ExpectRefused("lfs.standalonetransferagent", "evil");
  ExpectRefused("lfs.extension.evil.smudge", "/tmp/evil");
  ExpectRefused("submodule.x.update", "!/tmp/evil");
  ExpectRefused("extensions.worktreeConfig", "true");
  ExpectRefused("alias.lfs", "!/tmp/evil");
  ExpectRefused("gpg.program", "/tmp/evil");
  ExpectRefused("sequence.editor", "/tmp/evil");
  ExpectRefused("uploadpack.packObjectsHook", "/tmp/evil");
}

TEST_F(RepoGuardTest, ControlCharactersInAKeyAreShownEscaped) {
  std::ofstream(repo_ + "/.git/config", std::ios::app) << "[url \"x\x1b[31m\"]\n\tinsteadOf = y\n";
  auto r = Check();
  ASSERT_FALSE(r.ok());
  std::string msg(r.status().message());
  EXPECT_EQ(msg.find('\x1b'), std::string::npos);
  EXPECT_NE(msg.find("\\x1b"), std::string::npos) << msg;
}

TEST_F(RepoGuardTest, LinksAndRedirectsOfTheGitDirectoryAreRefused) {
  auto expect = [&](const std::string& what) -> std::string {
    auto r = Check();
    EXPECT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << what;
    return std::string(r.status().message());
  };
  // A link inside .git (here: hooks pointing out of the volume).
  fs::create_directories(root_ + "/outside");
  fs::remove_all(repo_ + "/.git/hooks");
  fs::create_directory_symlink(root_ + "/outside", repo_ + "/.git/hooks");
  EXPECT_NE(expect("hooks link").find(".git/hooks is a symbolic link"), std::string::npos);
  fs::remove(repo_ + "/.git/hooks");
  ASSERT_TRUE(Check().ok());
  // A FIFO (git would block reading it).
  ASSERT_EQ(::mkfifo((repo_ + "/.git/info/fifo").c_str(), 0600), 0);
  EXPECT_NE(expect("fifo").find("not a regular file"), std::string::npos);
  fs::remove(repo_ + "/.git/info/fifo");
  // Another repository's objects.
  std::ofstream(repo_ + "/.git/objects/info/alternates") << "/elsewhere/objects\n";
  EXPECT_NE(expect("alternates").find("another repository"), std::string::npos);
  fs::remove(repo_ + "/.git/objects/info/alternates");
  std::ofstream(repo_ + "/.git/commondir") << "/elsewhere\n";
  EXPECT_NE(expect("commondir").find("another repository"), std::string::npos);
  fs::remove(repo_ + "/.git/commondir");
  // .git itself a link, or a "gitdir:" file.
  fs::rename(repo_ + "/.git", root_ + "/real.git");
  fs::create_directory_symlink(root_ + "/real.git", repo_ + "/.git");
  EXPECT_NE(expect(".git link").find("is a symbolic link"), std::string::npos);
  fs::remove(repo_ + "/.git");
  std::ofstream(repo_ + "/.git") << "gitdir: " << root_ << "/real.git\n";
  EXPECT_NE(expect("gitdir file").find("not a directory"), std::string::npos);
  fs::remove(repo_ + "/.git");
  // The work tree itself a link.
  fs::rename(root_ + "/real.git", repo_ + "/.git");
  fs::rename(repo_, root_ + "/real");
  fs::create_directory_symlink(root_ + "/real", repo_);
  EXPECT_NE(expect("repo link").find("is a symbolic link"), std::string::npos);
}

}  // namespace
}  // namespace datacube::git::internal
