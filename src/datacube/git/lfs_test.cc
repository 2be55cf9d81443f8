#include "datacube/git/lfs.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

#include "datacube/crypto/sha256.h"

namespace datacube::git {
namespace {

const std::string kOid = crypto::Sha256Hex("hello lfs\n");

TEST(LfsPointer, ParsesSpecPointer) {
  std::string text =
      "version https://git-lfs.github.com/spec/v1\noid sha256:" + kOid + "\nsize 10\n";
  auto p = ParseLfsPointer(text);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->oid, kOid);
  EXPECT_EQ(p->size, 10u);
  EXPECT_EQ(FormatLfsPointer(*p), text);
}

TEST(LfsPointer, RejectsOrdinaryAndMalformedFiles) {
  EXPECT_FALSE(ParseLfsPointer("hello\n"));
  EXPECT_FALSE(ParseLfsPointer("version https://git-lfs.github.com/spec/v1\nsize 10\n"));
  EXPECT_FALSE(
      ParseLfsPointer("version https://git-lfs.github.com/spec/v1\noid sha256:abc\n"
                      "size 10\n"));
  EXPECT_FALSE(ParseLfsPointer("version https://git-lfs.github.com/spec/v1\noid sha256:" + kOid +
                               "\nsize 10"));  // last line without '\n'
  EXPECT_FALSE(ParseLfsPointer("version https://git-lfs.github.com/spec/v1\noid sha256:" + kOid +
                               "\nsize -1\n"));
}

class LfsVerify : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dc-lfs-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void Write(const std::string& name, const std::string& data) {
    std::ofstream(dir_ + "/" + name, std::ios::binary) << data;
  }
  std::string dir_;
};

TEST_F(LfsVerify, GoodCorruptAndPointerOnly) {
  LfsFile f{"model.bin", {kOid, 10}};
  Write("model.bin", "hello lfs\n");
  EXPECT_TRUE(VerifyLfsFile(dir_, f).ok());
  Write("model.bin", "hellO lfs\n");
  Status s = VerifyLfsFile(dir_, f);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("model.bin is corrupt"), std::string::npos);
  Write("model.bin", FormatLfsPointer(f.pointer));
  s = VerifyLfsFile(dir_, f);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("was not downloaded"), std::string::npos);
  EXPECT_EQ(VerifyLfsFile(dir_, {"missing.bin", {kOid, 10}}).code(), StatusCode::kNotFound);
}

TEST_F(LfsVerify, ResetRemovesOnlyABadObjectAndRestoresThePointer) {
  LfsFile f{"model.bin", {kOid, 10}};
  std::string objdir = dir_ + "/.git/lfs/objects/" + kOid.substr(0, 2) + "/" + kOid.substr(2, 2);
  ASSERT_EQ(::system(("mkdir -p " + objdir).c_str()), 0);
  std::ofstream(objdir + "/" + kOid) << "corrupted!";
  Write("model.bin", "corrupted!");
  ASSERT_TRUE(ResetLfsFile(dir_, dir_ + "/.git", f).ok());
  EXPECT_NE(::access((objdir + "/" + kOid).c_str(), F_OK), 0);
  std::ifstream in(dir_ + "/model.bin");
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, FormatLfsPointer(f.pointer));
}

}  // namespace
}  // namespace datacube::git
