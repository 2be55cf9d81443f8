#include <gtest/gtest.h>

#include "datacube/git/git_transfer.h"

namespace datacube::git {
namespace {

TEST(GitOptions, SourceFromDataCubeOptions) {
  auto o = GitSourceOptionsFromMap({{"url", "https://tok@h/o/r.git"},
                                    {"token", "tok"},
                                    {"ref", "v1"},
                                    {"depth", "1"},
                                    {"lfs", "false"},
                                    {"stall-timeout", "30s"},
                                    {"retries", "2"}});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->ref, "v1");
  EXPECT_EQ(o->depth, 1);
  EXPECT_FALSE(o->lfs);
  EXPECT_EQ(o->stall_timeout.count(), 30);
  EXPECT_EQ(o->retry.max_attempts, 2);
}

TEST(GitOptions, ErrorsNameTheOption) {
  auto missing = GitSourceOptionsFromMap({{"ref", "main"}});
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("\"url\""), std::string::npos);
  auto depth = GitSourceOptionsFromMap({{"url", "https://h/o/r.git"}, {"depth", "x"}});
  EXPECT_NE(depth.status().message().find("\"depth\""), std::string::npos);
  auto unknown = GitSinkOptionsFromMap({{"url", "https://h/o/r.git"}, {"ref", "main"}});
  EXPECT_NE(unknown.status().message().find("\"ref\": unknown option"), std::string::npos);
  auto sink = GitSinkOptionsFromMap({{"url", "https://h/o/r.git"}, {"branch", "dev"}});
  ASSERT_TRUE(sink.ok());
  EXPECT_EQ(sink->branch, "dev");
}

TEST(GitOptions, RepoDirOfTheExampleLayout) {
  auto d = RepoDirIn("/pvc/dev/git/", "https://tok@github.com/user/repo.git");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, "/pvc/dev/git/repo");
}

}  // namespace
}  // namespace datacube::git
