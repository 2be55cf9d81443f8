#include "datacube/io/atomic_file_writer.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace datacube::io {
namespace {

class AtomicFileWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dc-afw-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  std::string Read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::vector<std::string> Entries() {
    std::vector<std::string> out;
    DIR* d = ::opendir(dir_.c_str());
    while (auto* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") out.push_back(n);
    }
    ::closedir(d);
    return out;
  }
  std::string dir_;
};

TEST_F(AtomicFileWriterTest, NothingVisibleUntilCommit) {
  std::string target = dir_ + "/model.bin";
  {
    auto w = AtomicFileWriter::Create(target);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    ASSERT_TRUE(w->Append(AsBytes("hello")).ok());
    EXPECT_NE(::access(target.c_str(), F_OK), 0);  // not at the final path yet
    EXPECT_TRUE(IsTempName(w->temp_path().substr(w->temp_path().rfind('/') + 1)));
    ASSERT_TRUE(w->Commit().ok());
  }
  EXPECT_EQ(Read(target), "hello");
  EXPECT_EQ(Entries(), std::vector<std::string>{"model.bin"});  // no temp left
}

TEST_F(AtomicFileWriterTest, AbandonedWriterLeavesNothing) {
  std::string target = dir_ + "/x";
  {
    auto w = AtomicFileWriter::Create(target);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w->Append(AsBytes("partial")).ok());
  }
  EXPECT_TRUE(Entries().empty());
}

TEST_F(AtomicFileWriterTest, ReplacesOldContentWhole) {
  std::string target = dir_ + "/f";
  { std::ofstream(target) << "old content"; }
  auto w = AtomicFileWriter::Create(target);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->WriteAt(3, AsBytes("def")).ok());
  ASSERT_TRUE(w->WriteAt(0, AsBytes("abc")).ok());
  EXPECT_EQ(Read(target), "old content");
  ASSERT_TRUE(w->Commit(int64_t{1'600'000'000} * 1'000'000'000).ok());
  EXPECT_EQ(Read(target), "abcdef");
  struct stat st;
  ASSERT_EQ(::stat(target.c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 1'600'000'000);
}

TEST_F(AtomicFileWriterTest, LongNamesStayWithinNameMax) {
  std::string target = dir_ + "/" + std::string(250, 'n');
  std::string temp = TempPathFor(target, "0123456789abcdef");
  std::string base = temp.substr(temp.rfind('/') + 1);
  EXPECT_LE(base.size() + 8, 255u);
  EXPECT_TRUE(IsTempName(base));
}

TEST_F(AtomicFileWriterTest, MissingDirectoryIsNotFound) {
  auto w = AtomicFileWriter::Create(dir_ + "/no/such/dir/f");
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), StatusCode::kNotFound);
  EXPECT_NE(w.status().message().find("/no/such/dir/f"), std::string_view::npos);
}

}  // namespace
}  // namespace datacube::io
