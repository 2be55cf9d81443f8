#include "datacube/git/git_refs.h"

#include <gtest/gtest.h>

namespace datacube::git {
namespace {

const char kMainOnly[] =
    "ref: refs/heads/main\tHEAD\n"
    "1111111111111111111111111111111111111111\tHEAD\n"
    "1111111111111111111111111111111111111111\trefs/heads/main\n"
    "2222222222222222222222222222222222222222\trefs/heads/dev\n"
    "3333333333333333333333333333333333333333\trefs/tags/v1\n"
    "1111111111111111111111111111111111111111\trefs/tags/v1^{}\n"
    "4444444444444444444444444444444444444444\trefs/pull/7/head\n";

RemoteRefs Refs(const char* text) {
  auto r = ParseLsRemote(text);
  EXPECT_TRUE(r.ok());
  return *r;
}

TEST(GitRefs, Parse) {
  RemoteRefs r = Refs(kMainOnly);
  EXPECT_EQ(r.head, "refs/heads/main");
  EXPECT_EQ(r.refs.at("refs/heads/dev"), "2222222222222222222222222222222222222222");
  EXPECT_EQ(r.peeled.at("refs/tags/v1"), "1111111111111111111111111111111111111111");
  EXPECT_EQ(r.refs.count("refs/tags/v1^{}"), 0u);
}

TEST(GitRefs, MasterFallsBackToDefaultBranchWithAMessage) {
  auto r = ResolveRef(Refs(kMainOnly), "", "https://h/o/r.git");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, RefKind::kBranch);
  EXPECT_EQ(r->name, "main");
  EXPECT_TRUE(r->fell_back);
  EXPECT_NE(r->message.find("\"master\" does not exist"), std::string::npos);
  EXPECT_NE(r->message.find("\"main\""), std::string::npos);
  auto explicit_master = ResolveRef(Refs(kMainOnly), "master", "u");
  ASSERT_TRUE(explicit_master.ok());
  EXPECT_TRUE(explicit_master->fell_back);
}

TEST(GitRefs, MasterIsUsedWhenPresent) {
  auto r = ResolveRef(Refs("ref: refs/heads/main\tHEAD\n"
                           "1111111111111111111111111111111111111111\trefs/heads/main\n"
                           "2222222222222222222222222222222222222222\trefs/heads/master\n"),
                      "", "u");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->name, "master");
  EXPECT_FALSE(r->fell_back);
}

TEST(GitRefs, BranchTagCommitAndFullRef) {
  RemoteRefs refs = Refs(kMainOnly);
  auto b = ResolveRef(refs, "dev", "u");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->kind, RefKind::kBranch);
  EXPECT_EQ(b->refname, "refs/heads/dev");
  auto t = ResolveRef(refs, "v1", "u");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->kind, RefKind::kTag);
  EXPECT_EQ(t->refname, "refs/tags/v1");
  auto c = ResolveRef(refs, "abcdef1", "u");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->kind, RefKind::kCommit);
  auto pr = ResolveRef(refs, "refs/pull/7/head", "u");
  ASSERT_TRUE(pr.ok());
  EXPECT_EQ(pr->kind, RefKind::kOther);
  auto head = ResolveRef(refs, "HEAD", "u");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->name, "main");
}

TEST(GitRefs, UnknownRefNamesWhatExists) {
  auto r = ResolveRef(Refs(kMainOnly), "nope", "https://h/o/r.git");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("branches: dev, main"), std::string::npos);
  EXPECT_NE(r.status().message().find("tags: v1"), std::string::npos);
}

TEST(GitRefs, EmptyRepository) {
  auto r = ResolveRef(Refs(""), "", "https://h/o/r.git");
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("empty repository"), std::string::npos);
}

TEST(GitRefs, CommitIdShape) {
  EXPECT_TRUE(LooksLikeCommitId("abcdef1"));
  EXPECT_TRUE(LooksLikeCommitId(std::string(40, 'a')));
  EXPECT_FALSE(LooksLikeCommitId("abc"));
  EXPECT_FALSE(LooksLikeCommitId("release"));
}

}  // namespace
}  // namespace datacube::git
