#include "datacube/git/git_remote.h"

#include <gtest/gtest.h>

namespace datacube::git {
namespace {

TEST(GitRemote, ExampleFormTokenAsUser) {
  auto r = ParseGitRemote("https://ghp_exampletoken123@github.com/user/repo.git", "");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->url, "https://github.com/user/repo.git");
  EXPECT_EQ(r->host, "github.com");
  EXPECT_EQ(r->repo_name, "repo");
  EXPECT_EQ(r->token.reveal(), "ghp_exampletoken123");
  EXPECT_EQ(r->username, "");
  EXPECT_EQ(Redact("x ghp_exampletoken123 y"), "x *** y");
}

TEST(GitRemote, UserAndToken) {
  auto r = ParseGitRemote("git+https://alice:s%40cret-tok@Git.Example.com:8443/a/b/c", "");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->url, "https://git.example.com:8443/a/b/c");
  EXPECT_EQ(r->username, "alice");
  EXPECT_EQ(r->token.reveal(), "s@cret-tok");
  EXPECT_EQ(r->repo_name, "c");
}

TEST(GitRemote, TokenOptionWins) {
  auto r = ParseGitRemote("https://oldtoken99@h.example/o/r.git", "newtoken99");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->token.reveal(), "newtoken99");
  EXPECT_EQ(r->url, "https://h.example/o/r.git");
}

TEST(GitRemote, Refusals) {
  EXPECT_EQ(ParseGitRemote("git@github.com:o/r.git", "").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseGitRemote("ssh://github.com/o/r.git", "").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseGitRemote("https://github.com/", "").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseGitRemote("https:///o/r.git", "").status().code(), StatusCode::kInvalidArgument);
  auto plain = ParseGitRemote("http://tok-plain-1234@example.com/o/r.git", "");
  EXPECT_EQ(plain.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(plain.status().message().find("tok-plain-1234"), std::string::npos);
  EXPECT_TRUE(ParseGitRemote("http://tok-plain-1234@127.0.0.1:9/o/r.git", "").ok());
  EXPECT_TRUE(ParseGitRemote("http://example.com/o/r.git", "").ok());
}

TEST(GitRemote, ErrorsNeverQuoteTheToken) {
  auto r = ParseGitRemote("ftp://hidden-token-77@host/o/r.git", "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find("hidden-token-77"), std::string::npos);
}

TEST(GitRemote, TokenFromAFileLosesItsNewline) {
  auto r = ParseGitRemote("https://h.example/o/r.git", "file-token-1\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->token.reveal(), "file-token-1");
  EXPECT_EQ(ParseGitRemote("https://h.example/o/r.git", "a\nb-token").status().code(),
            StatusCode::kInvalidArgument);
}

TEST(GitRemote, Loopback) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1:7510"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_TRUE(IsLoopbackHost("[::1]:80"));
  EXPECT_FALSE(IsLoopbackHost("github.com"));
}

}  // namespace
}  // namespace datacube::git
