#include "datacube/storage/local/local_store.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>
#include <set>
#include <sstream>

#include "datacube/crypto/sha256.h"
#include "datacube/storage/testing/conformance.h"

namespace datacube::storage {
namespace {

std::string MakeTempDir() {
  char tmpl[] = "/tmp/dc-local-XXXXXX";
  return ::mkdtemp(tmpl);
}

const bool registered = [] {
  ConformanceParams p;
  p.name = "Local";
  p.make_store = [] {
    LocalStoreOptions o;
    o.root = MakeTempDir() + "/root";
    o.create_root = true;
    o.checkpoint_bytes = 1;  // checkpoint after every part, so resume sees each one
    return std::shared_ptr<ObjectStore>(*LocalStore::Open(o));
  };
  RegisterObjectStoreConformanceTests(p);
  return true;
}();

// Every file below `dir`, relative, including hidden ones.
std::set<std::string> AllFiles(const std::string& dir, const std::string& rel = "") {
  std::set<std::string> out;
  DIR* d = ::opendir((dir + "/" + rel).c_str());
  if (!d) return out;
  while (auto* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    std::string r = rel.empty() ? n : rel + "/" + n;
    struct stat st;
    ::lstat((dir + "/" + r).c_str(), &st);
    if (S_ISDIR(st.st_mode)) {
      auto sub = AllFiles(dir, r);
      out.insert(sub.begin(), sub.end());
    } else {
      out.insert(r);
    }
  }
  ::closedir(d);
  return out;
}

class LocalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = MakeTempDir();
    root_ = base_ + "/root";
    ::mkdir(root_.c_str(), 0755);
    LocalStoreOptions o;
    o.root = root_;
    store_ = *LocalStore::Open(o);
  }
  void TearDown() override {
    ::chmod((root_ + "/locked").c_str(), 0755);
    std::system(("rm -rf " + base_).c_str());
  }
  Status Put(const std::string& key, const std::string& data) {
    io::SpanSource src(data);
    return store_->Put(key, src, {}).status();
  }
  std::string base_, root_;
  std::shared_ptr<LocalStore> store_;
};

TEST_F(LocalStoreTest, RefusesKeysThatEscapeTheRoot) {
  { std::ofstream(base_ + "/outside.txt") << "secret"; }
  ::symlink((base_ + "/outside.txt").c_str(), (root_ + "/link-out").c_str());
  ::mkdir((base_ + "/outdir").c_str(), 0755);
  ::symlink((base_ + "/outdir").c_str(), (root_ + "/dirlink").c_str());
  for (const char* key : {"../x", "a/../../x", "/etc/passwd", "./x", "a//b", ""}) {
    Status s = Put(key, "data");
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << key << ": " << s.ToString();
  }
  // Reading through a symlink that points out is refused and names the target.
  auto st = store_->Stat("link-out");
  EXPECT_EQ(st.status().code(), StatusCode::kInvalidArgument) << st.status().ToString();
  EXPECT_NE(st.status().message().find("outside"), std::string_view::npos);
  // Writing below a directory symlink that points out is refused.
  EXPECT_EQ(Put("dirlink/evil.txt", "x").code(), StatusCode::kInvalidArgument);
  // Nothing was written anywhere outside the root, and nothing new inside.
  EXPECT_EQ(AllFiles(base_ + "/outdir"), std::set<std::string>{});
  EXPECT_EQ(AllFiles(base_), (std::set<std::string>{"outside.txt", "root/link-out",
                                                    "root/dirlink"}));
  // Listings skip links that point out.
  auto page = store_->List({});
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->objects.empty());
}

TEST_F(LocalStoreTest, SymlinkInsideRootIsFollowed) {
  ASSERT_TRUE(Put("blobs/abc", "weights").ok());
  ::mkdir((root_ + "/snap").c_str(), 0755);
  ::symlink("../blobs/abc", (root_ + "/snap/model.bin").c_str());
  auto st = store_->Stat("snap/model.bin");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->size, 7u);
}

TEST_F(LocalStoreTest, HashIsCachedAndInvalidatedByChange) {
  ASSERT_TRUE(Put("f", "content").ok());
  auto st = store_->Stat("f");
  ASSERT_TRUE(st.ok());
  // xattrs are optional (some file systems lack user xattrs); when present they must be right.
  if (!st->sha256.empty()) {
    EXPECT_EQ(st->sha256, crypto::Sha256Hex("content"));
    { std::ofstream(root_ + "/f") << "changed"; }
    EXPECT_EQ(store_->Stat("f")->sha256, "");
  }
}

TEST_F(LocalStoreTest, PreservesModificationTime) {
  io::SpanSource src(std::string_view("x"));
  WriteOptions o;
  o.mtime_ns = int64_t{1'500'000'000} * 1'000'000'000 + 123;
  ASSERT_TRUE(store_->Put("t", src, o).ok());
  EXPECT_EQ(*store_->Stat("t")->mtime_ns, *o.mtime_ns);
}

TEST_F(LocalStoreTest, PermissionDeniedNamesThePath) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  ::mkdir((root_ + "/locked").c_str(), 0555);
  Status s = Put("locked/f", "x");
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
  EXPECT_NE(s.message().find("locked"), std::string_view::npos);
}

TEST_F(LocalStoreTest, DeleteRemovesEmptyParentsButNotRoot) {
  ASSERT_TRUE(Put("a/b/c.txt", "1").ok());
  ASSERT_TRUE(store_->Delete("a/b/c.txt").ok());
  EXPECT_TRUE(AllFiles(root_).empty());
  struct stat st;
  EXPECT_EQ(::stat(root_.c_str(), &st), 0);
  EXPECT_NE(::stat((root_ + "/a").c_str(), &st), 0);
}

TEST_F(LocalStoreTest, TemporaryFilesAreHiddenFromListings) {
  ASSERT_TRUE(Put("visible", "1").ok());
  MultipartOptions mo;
  mo.size = 10;
  mo.part_size = 5;
  mo.resume_fingerprint = "fp";
  auto up = store_->StartMultipart("pending.bin", mo);
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE((*up)->UploadPart(1, 0, io::AsBytes("12345")).ok());
  auto page = store_->List({});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].key, "visible");
  // The temporary file and its journal exist on disk, hidden.
  EXPECT_EQ(AllFiles(root_).size(), 3u);
}

TEST_F(LocalStoreTest, TheFirstWriteIntoADirectoryRemovesTemporaryFilesAKilledRunLeft) {
  ::mkdir((root_ + "/d").c_str(), 0755);
  // What a run killed with -9 leaves: a small file's temporary, and a multipart temporary whose
  // journal makes it resumable.
  { std::ofstream(root_ + "/d/.a.txt.k3j9x0aa.dctmp") << "half"; }
  { std::ofstream(root_ + "/d/.big.bin.0123456789abcdef.dctmp") << "parts"; }
  { std::ofstream(root_ + "/d/.big.bin.0123456789abcdef.dctmp.journal") << "datacube-journal"; }
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  LocalStoreOptions o;
  o.root = root_;
  auto fresh = *LocalStore::Open(o);
  // A temporary file written after the store opened belongs to a live writer.
  { std::ofstream(root_ + "/d/.c.txt.livewrtr.dctmp") << "busy"; }
  io::SpanSource src(std::string_view("new"));
  ASSERT_TRUE(fresh->Put("d/a.txt", src, {}).ok());
  EXPECT_EQ(AllFiles(root_ + "/d"),
            (std::set<std::string>{"a.txt", ".big.bin.0123456789abcdef.dctmp",
                                   ".big.bin.0123456789abcdef.dctmp.journal",
                                   ".c.txt.livewrtr.dctmp"}));
}

TEST_F(LocalStoreTest, DeferredPutsAppearTogetherAtFlush) {
  WriteOptions o;
  o.defer_visibility = true;
  o.sha256 = crypto::Sha256Hex("one");
  io::SpanSource a(std::string_view("one"));
  auto info = store_->Put("batch/a.txt", a, o);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->sha256, crypto::Sha256Hex("one"));
  // Written but not visible: only a hidden temporary file exists.
  EXPECT_EQ(store_->Stat("batch/a.txt").status().code(), StatusCode::kNotFound);
  auto files = AllFiles(root_);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_NE(files.begin()->find(".dctmp"), std::string::npos);
  ASSERT_TRUE(store_->Flush().ok());
  auto st = store_->Stat("batch/a.txt");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->size, 3u);
  EXPECT_EQ(AllFiles(root_), std::set<std::string>{"batch/a.txt"});
}

TEST_F(LocalStoreTest, GroupCommitPublishesFullBatchesOnItsOwn) {
  LocalStoreOptions o;
  o.root = root_;
  o.group_commit_files = 3;
  auto store = *LocalStore::Open(o);
  WriteOptions w;
  w.defer_visibility = true;
  for (int i = 0; i < 7; ++i) {
    io::SpanSource src(std::string_view("x"));
    ASSERT_TRUE(store->Put("f" + std::to_string(i), src, w).ok());
  }
  // Two full batches of three are visible; the seventh waits for Flush.
  EXPECT_EQ(store->List({})->objects.size(), 6u);
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_EQ(store->List({})->objects.size(), 7u);
}

TEST_F(LocalStoreTest, MissingRootIsNotFound) {
  LocalStoreOptions o;
  o.root = base_ + "/nope";
  auto s = LocalStore::Open(o);
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound);
  EXPECT_NE(s.status().message().find("nope"), std::string_view::npos);
}

}  // namespace
}  // namespace datacube::storage
