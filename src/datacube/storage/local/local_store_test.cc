#include "datacube/storage/local/local_store.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

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
  EXPECT_EQ(AllFiles(base_),
            (std::set<std::string>{"outside.txt", "root/link-out", "root/dirlink"}));
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
  EXPECT_EQ(
      AllFiles(root_ + "/d"),
      (std::set<std::string>{"a.txt", ".big.bin.0123456789abcdef.dctmp",
                             ".big.bin.0123456789abcdef.dctmp.journal", ".c.txt.livewrtr.dctmp"}));
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

TEST_F(LocalStoreTest, LinksPointingOutAtEveryDepthStopEveryOperation) {
  ::mkdir((base_ + "/outdir").c_str(), 0755);
  { std::ofstream(base_ + "/outdir/victim") << "keep"; }
  ::mkdir((root_ + "/a").c_str(), 0755);
  ::mkdir((root_ + "/a/b").c_str(), 0755);
  ::symlink((base_ + "/outdir").c_str(), (root_ + "/link").c_str());
  ::symlink("../../outdir", (root_ + "/a/link").c_str());
  ::symlink("../../../outdir", (root_ + "/a/b/link").c_str());
  for (std::string l : {"link", "a/link", "a/b/link"}) {
    SCOPED_TRACE(l);
    EXPECT_EQ(Put(l + "/new.txt", "x").code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(Put(l + "/sub/new.txt", "x").code(), StatusCode::kInvalidArgument);
    MultipartOptions mo;
    mo.size = 4;
    mo.part_size = 2;
    EXPECT_EQ(store_->StartMultipart(l + "/big.bin", mo).status().code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(store_->Stat(l + "/victim").status().code(), StatusCode::kInvalidArgument);
    io::StringSink sink;
    EXPECT_EQ(store_->Read(l + "/victim", {0, ByteRange::kToEnd}, sink, {}).code(),
              StatusCode::kInvalidArgument);
    EXPECT_TRUE(sink.str().empty());
    EXPECT_EQ(store_->Delete(l + "/victim").code(), StatusCode::kInvalidArgument);
    ListRequest req;
    req.prefix = l + "/";
    EXPECT_EQ(store_->List(req).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store_->RemoveStaleTemporaries(l + "/").status().code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(store_->CopyWithin(l + "/victim", "copy").status().code(),
              StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(AllFiles(base_ + "/outdir"), std::set<std::string>{"victim"});
  EXPECT_EQ(AllFiles(root_), (std::set<std::string>{"link", "a/link", "a/b/link"}));
  // Deleting a link removes the link, not its target.
  ASSERT_TRUE(store_->Delete("link").ok());
  EXPECT_EQ(AllFiles(base_ + "/outdir"), std::set<std::string>{"victim"});
}

TEST_F(LocalStoreTest, AJailedRootCannotLeaveItsJail) {
  std::string jail = base_ + "/pvcs";
  ::mkdir(jail.c_str(), 0755);
  ::mkdir((jail + "/vol").c_str(), 0755);
  ::mkdir((base_ + "/outdir").c_str(), 0755);
  ::symlink((base_ + "/outdir").c_str(), (jail + "/vol/link").c_str());
  ::symlink((base_ + "/outdir").c_str(), (jail + "/evil").c_str());
  for (std::string root :
       std::vector<std::string>{"vol/link", "vol/link/x/y", "evil", "evil/x", "vol/../../outdir",
                                "../outdir", "/abs", std::string("vol/a\0b", 7)}) {
    for (bool create : {false, true}) {
      LocalStoreOptions o;
      o.jail = jail;
      o.root = root;
      o.create_root = create;
      o.display_prefix = "pvc://" + root;
      auto s = LocalStore::Open(o);
      EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument)
          << root << ": " << s.status().ToString();
    }
  }
  EXPECT_TRUE(AllFiles(base_ + "/outdir").empty());
  struct stat st;
  EXPECT_NE(::lstat((base_ + "/outdir/x").c_str(), &st), 0);
  LocalStoreOptions ok;
  ok.jail = jail;
  ok.root = "vol/models/llama";
  ok.create_root = true;
  auto s = LocalStore::Open(ok);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->root(), jail + "/vol/models/llama");
}

TEST_F(LocalStoreTest, ListingsReportWhatTheyLeaveOut) {
  ASSERT_TRUE(Put("file.txt", "x").ok());
  ::mkdir((root_ + "/dir").c_str(), 0755);
  ::mkdir((base_ + "/outdir").c_str(), 0755);
  ::symlink("file.txt", (root_ + "/in-link").c_str());
  ::symlink("dir", (root_ + "/dir-link").c_str());
  ::symlink("nowhere", (root_ + "/dangling").c_str());
  ::symlink((base_ + "/outdir").c_str(), (root_ + "/out-link").c_str());
  ::mkfifo((root_ + "/fifo").c_str(), 0644);
  auto page = store_->List({});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  std::vector<std::string> objects;
  for (const auto& o : page->objects) objects.push_back(o.key);
  EXPECT_EQ(objects, (std::vector<std::string>{"file.txt", "in-link"}));
  std::map<std::string, SkippedEntry::Kind> skipped;
  for (const auto& e : page->skipped) {
    skipped[e.key] = e.kind;
    EXPECT_FALSE(e.reason.empty());
  }
  EXPECT_EQ(skipped, (std::map<std::string, SkippedEntry::Kind>{
                         {"dangling", SkippedEntry::Kind::kSymlink},
                         {"dir-link", SkippedEntry::Kind::kSymlink},
                         {"fifo", SkippedEntry::Kind::kSpecial},
                         {"out-link", SkippedEntry::Kind::kSymlink}}));
}

TEST_F(LocalStoreTest, SpecialAndPseudoFilesAreRefusedWithoutBlocking) {
  ::mkfifo((root_ + "/fifo").c_str(), 0644);
  auto start = std::chrono::steady_clock::now();
  io::StringSink sink;
  Status r = store_->Read("fifo", {0, ByteRange::kToEnd}, sink, {});
  EXPECT_EQ(r.code(), StatusCode::kInvalidArgument) << r.ToString();
  EXPECT_NE(r.message().find("FIFO"), std::string_view::npos) << r.ToString();
  EXPECT_EQ(store_->Stat("fifo").status().code(), StatusCode::kInvalidArgument);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  // /proc files report 0 bytes and have content: refused by name, never copied as empty.
  LocalStoreOptions o;
  o.root = "/proc/self";
  auto proc = LocalStore::Open(o);
  ASSERT_TRUE(proc.ok());
  auto st = (*proc)->Stat("status");
  EXPECT_EQ(st.status().code(), StatusCode::kInvalidArgument) << st.status().ToString();
  EXPECT_NE(st.status().message().find("/proc/self/status"), std::string_view::npos);
  EXPECT_NE(st.status().message().find("size of 0"), std::string_view::npos);
  io::StringSink proc_sink;
  EXPECT_EQ((*proc)->Read("status", {0, ByteRange::kToEnd}, proc_sink, {}).code(),
            StatusCode::kInvalidArgument);
  // A truly empty file is still an empty object.
  ASSERT_TRUE(Put("empty", "").ok());
  auto empty = store_->Stat("empty");
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(empty->size, 0u);
}

TEST_F(LocalStoreTest, APartialOfAChangedSourceIsDiscardedWhenTheDownloadRestarts) {
  MultipartOptions mo;
  mo.size = 10;
  mo.part_size = 5;
  mo.resume_fingerprint = "size=10 etag=v1";
  {
    auto up = store_->StartMultipart("m.bin", mo);
    ASSERT_TRUE(up.ok());
    ASSERT_TRUE((*up)->UploadPart(1, 0, io::AsBytes("12345")).ok());
  }  // interrupted: the partial and its journal stay for a resume
  EXPECT_EQ(AllFiles(root_).size(), 2u);
  // A journal whose partial was already published (a run killed between the two steps).
  { std::ofstream(root_ + "/.m.bin.00112233445566ff.dctmp.journal") << "datacube-journal 1"; }
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  LocalStoreOptions o;
  o.root = root_;
  auto rerun = *LocalStore::Open(o);
  mo.resume_fingerprint = "size=10 etag=v2";  // the source changed meanwhile
  auto up = rerun->StartMultipart("m.bin", mo);
  ASSERT_TRUE(up.ok());
  EXPECT_TRUE((*up)->completed_parts().empty());
  // Only the new partial and its journal: the stale pair is gone.
  EXPECT_EQ(AllFiles(root_).size(), 2u);
  auto p1 = (*up)->UploadPart(1, 0, io::AsBytes("abcde"));
  auto p2 = (*up)->UploadPart(2, 5, io::AsBytes("fghij"));
  ASSERT_TRUE(p1.ok() && p2.ok());
  auto done = (*up)->Complete({*p1, *p2}, crypto::Sha256Hex("abcdefghij"));
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(AllFiles(root_), std::set<std::string>{"m.bin"});
}

TEST_F(LocalStoreTest, RemoveStaleTemporariesTakesLeftoversOfEarlierRunsOnly) {
  ::mkdir((root_ + "/d").c_str(), 0755);
  { std::ofstream(root_ + "/d/.a.txt.k3j9x0aa.dctmp") << "half"; }
  { std::ofstream(root_ + "/d/.big.bin.0123456789abcdef.dctmp") << "parts"; }
  { std::ofstream(root_ + "/d/.big.bin.0123456789abcdef.dctmp.journal") << "datacube-journal"; }
  { std::ofstream(root_ + "/.hidden-user-file") << "mine"; }
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  LocalStoreOptions o;
  o.root = root_;
  auto fresh = *LocalStore::Open(o);
  { std::ofstream(root_ + "/d/.c.txt.livewrtr.dctmp") << "busy"; }
  auto removed = fresh->RemoveStaleTemporaries("");
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(*removed, 3u);
  EXPECT_EQ(AllFiles(root_),
            (std::set<std::string>{".hidden-user-file", "d/.c.txt.livewrtr.dctmp"}));
}

}  // namespace
}  // namespace datacube::storage
