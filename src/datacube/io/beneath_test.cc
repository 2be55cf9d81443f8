#include "datacube/io/beneath.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace datacube::io {
namespace {

// Runs every case with openat2 and with the user-space walk that replaces it on old kernels.
class BeneathTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    internal::ForceBeneathWalkForTesting(GetParam());
    char tmpl[] = "/tmp/dc-beneath-XXXXXX";
    base_ = ::mkdtemp(tmpl);
    root_ = base_ + "/root";
    ::mkdir(root_.c_str(), 0755);
    ::mkdir((base_ + "/outside").c_str(), 0755);
    std::ofstream(base_ + "/outside/secret") << "secret";
    ::mkdir((root_ + "/a").c_str(), 0755);
    ::mkdir((root_ + "/a/b").c_str(), 0755);
    std::ofstream(root_ + "/a/b/file") << "inside";
    root_fd_ = *File::Open(root_, O_PATH | O_DIRECTORY);
  }
  void TearDown() override {
    internal::ForceBeneathWalkForTesting(false);
    std::system(("rm -rf " + base_).c_str());
  }
  bool Exists(const std::string& p) {
    struct stat st;
    return ::lstat(p.c_str(), &st) == 0;
  }
  std::string base_, root_;
  File root_fd_;
};

TEST_P(BeneathTest, OpensPathsAndLinksThatStayInside) {
  EXPECT_TRUE(OpenBeneath(root_fd_, "a/b/file", O_RDONLY).ok());
  ::symlink("b/file", (root_ + "/a/rel").c_str());
  ::symlink("../a/b", (root_ + "/a/up").c_str());
  EXPECT_TRUE(OpenBeneath(root_fd_, "a/rel", O_RDONLY).ok());
  EXPECT_TRUE(OpenBeneath(root_fd_, "a/up/file", O_RDONLY).ok());
  EXPECT_TRUE(OpenBeneath(root_fd_, "", O_RDONLY | O_DIRECTORY).ok());
  EXPECT_EQ(OpenBeneath(root_fd_, "a/missing", O_RDONLY).status().code(), StatusCode::kNotFound);
}

TEST_P(BeneathTest, RefusesEveryWayOut) {
  ::symlink((base_ + "/outside").c_str(), (root_ + "/abs").c_str());
  ::symlink("../../outside", (root_ + "/a/rel-out").c_str());
  ::symlink("../../../outside", (root_ + "/a/b/deep-out").c_str());
  ::symlink("/proc/self/root", (root_ + "/magic").c_str());
  for (const char* rel : {"abs/secret", "a/rel-out/secret", "a/b/deep-out/secret", "../outside",
                          "a/../../outside/secret", "/etc/passwd", "magic/etc/passwd", "abs"}) {
    auto f = OpenBeneath(root_fd_, rel, O_RDONLY, 0, std::string("vol/") + rel);
    EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument)
        << rel << ": " << f.status().ToString();
    EXPECT_NE(f.status().message().find("outside"), std::string_view::npos) << rel;
  }
  // Creating through a link that leads out creates nothing outside.
  auto c = OpenBeneath(root_fd_, "a/rel-out/new", O_WRONLY | O_CREAT | O_EXCL);
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(Exists(base_ + "/outside/new"));
  EXPECT_EQ(OpenBeneath(root_fd_, std::string_view("a\0b", 3), O_RDONLY).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_P(BeneathTest, MakeDirsCreatesInsideOnlyAtEveryDepth) {
  ::symlink((base_ + "/outside").c_str(), (root_ + "/link").c_str());
  ::symlink((base_ + "/outside").c_str(), (root_ + "/a/link").c_str());
  ::symlink((base_ + "/outside").c_str(), (root_ + "/a/b/link").c_str());
  for (const char* rel : {"link/x/y", "a/link/x", "a/b/link/x/y/z", "a/b/link"}) {
    auto d = MakeDirsBeneath(root_fd_, rel);
    EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument)
        << rel << ": " << d.status().ToString();
  }
  EXPECT_FALSE(Exists(base_ + "/outside/x"));
  auto made = MakeDirsBeneath(root_fd_, "a/new/deeper");
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_TRUE(Exists(root_ + "/a/new/deeper"));
  std::ofstream(root_ + "/a/plain") << "x";
  EXPECT_EQ(MakeDirsBeneath(root_fd_, "a/plain/sub").status().code(),
            StatusCode::kFailedPrecondition);
  auto path = PathOfDescriptor(*made);
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(*path, root_ + "/a/new/deeper");
}

INSTANTIATE_TEST_SUITE_P(Openat2AndWalk, BeneathTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Walk" : "Openat2"; });

}  // namespace
}  // namespace datacube::io
