#include "datacube/engine/transfer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <random>
#include <vector>

#include "datacube/crypto/sha256.h"
#include "datacube/storage/local/local_store.h"
#include "datacube/storage/memory/memory_store.h"
#include "datacube/storage/testing/fault_injecting_store.h"

namespace datacube::engine {
namespace {

using storage::FaultInjectingStore;
using storage::FaultPlan;
using storage::MemoryStore;

std::string Bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

TransferOptions FastOptions() {
  TransferOptions o;
  o.jobs = 4;
  o.part_size = 64 << 10;
  o.retry.max_attempts = 4;
  o.retry.initial_delay = std::chrono::milliseconds(1);
  o.retry.max_delay = std::chrono::milliseconds(2);
  return o;
}

TransferEndpoints Tree(std::shared_ptr<storage::ObjectStore> src,
                       std::shared_ptr<storage::ObjectStore> dst, bool dst_local = false) {
  TransferEndpoints e;
  e.src.store = std::move(src);
  e.dst.store = std::move(dst);
  e.dst.location.scheme = dst_local ? Scheme::kFile : Scheme::kS3;
  e.src.location.scheme = Scheme::kS3;
  return e;
}

class TransferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = std::make_shared<MemoryStore>("src");
    dst_ = std::make_shared<MemoryStore>("dst");
    src_->SetObject("small.txt", "hello");
    src_->SetObject("empty", "");
    src_->SetObject("dir/with space/ünï.bin", Bytes(1000, 1));
    src_->SetObject("big.bin", Bytes((64 << 10) * 5 + 77, 2));  // 6 parts at 64 KiB
  }
  void ExpectSameContent() {
    for (const auto& key : src_->Keys()) {
      auto got = dst_->GetObject(key);
      ASSERT_TRUE(got.has_value()) << key;
      EXPECT_TRUE(*got == *src_->GetObject(key)) << key;
    }
  }
  std::shared_ptr<MemoryStore> src_, dst_;
};

TEST_F(TransferTest, CopiesEverythingThenSkipsOnRerun) {
  auto ends = Tree(src_, dst_);
  auto report = RunTransfer(ends, FastOptions(), nullptr);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->status.ok()) << report->status.ToString();
  EXPECT_EQ(report->files_copied, 4u);
  ExpectSameContent();
  // Every file has the SHA-256 computed while it moved.
  for (const auto& f : report->files) {
    EXPECT_EQ(f.sha256, crypto::Sha256Hex(*src_->GetObject(f.path))) << f.path;
  }
  auto again = RunTransfer(ends, FastOptions(), nullptr);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->files_copied, 0u);
  EXPECT_EQ(again->files_skipped, 4u);
}

TEST_F(TransferTest, TransientFailuresAreRetried) {
  FaultPlan plan;
  plan.operation = "read";
  plan.fail_on_call = 1;
  plan.fail_count = 2;
  plan.error = UnavailableError("503 SlowDown");
  auto faulty = std::make_shared<FaultInjectingStore>(src_, plan);
  auto report = RunTransfer(Tree(faulty, dst_), FastOptions(), nullptr);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->status.ok()) << report->status.ToString();
  EXPECT_EQ(faulty->faults_injected(), 2);
  ExpectSameContent();
}

TEST_F(TransferTest, PermanentFailureIsNotRetriedAndNamesTheFile) {
  FaultPlan plan;
  plan.operation = "put";
  plan.fail_on_call = 1;
  plan.fail_count = 1000;
  plan.error = PermissionDeniedError("AccessDenied");
  auto faulty = std::make_shared<FaultInjectingStore>(dst_, plan);
  src_ = std::make_shared<MemoryStore>("src");
  src_->SetObject("only.txt", "x");
  auto report = RunTransfer(Tree(src_, faulty), FastOptions(), nullptr);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->files_failed, 1u);
  EXPECT_EQ(faulty->calls(), 1);  // no retry storm
  EXPECT_EQ(report->status.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(report->status.message().find("only.txt"), std::string_view::npos);
}

TEST_F(TransferTest, CorruptedReadIsDetectedAndRetried) {
  // MemoryStore reports each object's SHA-256, so a flipped byte cannot pass.
  FaultPlan plan;
  plan.operation = "read";
  plan.corrupt_read_at = 3;
  plan.damage_reads = 1;
  auto faulty = std::make_shared<FaultInjectingStore>(src_, plan);
  auto report = RunTransfer(Tree(faulty, dst_), FastOptions(), nullptr);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->status.ok()) << report->status.ToString();
  ExpectSameContent();
}

TEST_F(TransferTest, PersistentCorruptionFailsAndWritesNothing) {
  src_ = std::make_shared<MemoryStore>("src");
  src_->SetObject("big.bin", Bytes((64 << 10) * 3, 5));
  src_->SetObject("small.bin", Bytes(100, 6));
  FaultPlan plan;
  plan.operation = "read";
  plan.corrupt_read_at = 10;
  auto faulty = std::make_shared<FaultInjectingStore>(src_, plan);
  auto report = RunTransfer(Tree(faulty, dst_), FastOptions(), nullptr);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->files_failed, 2u);
  EXPECT_EQ(report->status.code(), StatusCode::kDataLoss);
  EXPECT_NE(report->status.message().find("checksum mismatch"), std::string_view::npos);
  EXPECT_TRUE(dst_->Keys().empty());
  EXPECT_EQ(dst_->open_uploads(), 0u);  // failed multipart uploads were aborted
}

TEST_F(TransferTest, TruncatedReadIsDetected) {
  src_ = std::make_shared<MemoryStore>("src");
  src_->SetObject("f", Bytes(5000, 8));
  FaultPlan plan;
  plan.operation = "read";
  plan.truncate_reads_to = 100;
  plan.damage_reads = 1;
  auto faulty = std::make_shared<FaultInjectingStore>(src_, plan);
  auto report = RunTransfer(Tree(faulty, dst_), FastOptions(), nullptr);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->status.ok()) << report->status.ToString();
  EXPECT_EQ(*dst_->GetObject("f"), *src_->GetObject("f"));
}

TEST(HashObjectTest, OverlappedReadsHashEverySizeAroundTheHalfBufferBoundaries) {
  auto store = std::make_shared<MemoryStore>("h");
  // 16 KiB buffer: two 8 KiB halves, read ahead one while the other is hashed.
  std::vector<uint8_t> buffer(16 << 10);
  const size_t half = 8 << 10;
  for (size_t size : {size_t{0}, size_t{1}, half - 1, half, half + 1, 2 * half, 2 * half + 1,
                      5 * half + 3, size_t{100000}}) {
    std::string data = Bytes(size, size);
    store->SetObject("f", data);
    auto got = HashObject(*store, "f", buffer);
    ASSERT_TRUE(got.ok()) << size << ": " << got.status().ToString();
    EXPECT_EQ(*got, crypto::Sha256Hex(data)) << size;
    // A buffer too small to halve takes turns: read, then hash.
    std::vector<uint8_t> tiny(3000);
    auto sequential = HashObject(*store, "f", tiny);
    ASSERT_TRUE(sequential.ok()) << size;
    EXPECT_EQ(*sequential, crypto::Sha256Hex(data)) << size;
  }
}

TEST(HashObjectTest, AShortReadAheadIsAnErrorNotAWrongHash) {
  auto inner = std::make_shared<MemoryStore>("h");
  inner->SetObject("f", Bytes(50000, 9));
  FaultPlan plan;
  plan.operation = "read";
  plan.truncate_reads_to = 100;
  auto faulty = std::make_shared<FaultInjectingStore>(inner, plan);
  std::vector<uint8_t> buffer(16 << 10);
  auto got = HashObject(*faulty, "f", buffer);
  EXPECT_EQ(got.status().code(), StatusCode::kDataLoss) << got.status().ToString();
}

// Counts bytes the way a progress bar does.
class ByteCounter final : public ProgressSink {
 public:
  void OnBytes(uint64_t n) override {
    done_ += n;
    uint64_t seen = max_.load();
    while (done_.load() > seen && !max_.compare_exchange_weak(seen, done_.load())) {
    }
  }
  void OnBytesRetracted(uint64_t n) override { done_ -= n; }
  uint64_t done() const { return done_; }
  uint64_t max() const { return max_; }

 private:
  std::atomic<uint64_t> done_{0}, max_{0};
};

TEST_F(TransferTest, ProgressCountsEveryByteOnceThroughRetriedReads) {
  src_ = std::make_shared<MemoryStore>("src");
  const uint64_t total = (64 << 10) * 4 + 5000 + 3000;
  src_->SetObject("big.bin", Bytes((64 << 10) * 4, 11));
  src_->SetObject("a", Bytes(5000, 12));
  src_->SetObject("b", Bytes(3000, 13));
  FaultPlan plan;
  plan.operation = "read";
  plan.truncate_reads_to = 100;  // each damaged read delivers 100 bytes, then is retried
  plan.damage_reads = 3;
  auto faulty = std::make_shared<FaultInjectingStore>(src_, plan);
  ByteCounter counter;
  auto report = RunTransfer(Tree(faulty, dst_), FastOptions(), &counter);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->status.ok()) << report->status.ToString();
  EXPECT_EQ(counter.done(), total);
  EXPECT_LE(counter.max(), total) << "bytes of failed attempts were taken back";
}

TEST_F(TransferTest, InterruptedMultipartResumesFromCompletedParts) {
  src_ = std::make_shared<MemoryStore>("src");
  std::string data = Bytes((64 << 10) * 8, 9);
  src_->SetObject("big.bin", data);
  FaultPlan plan;
  plan.operation = "upload_part";
  plan.fail_on_call = 5;
  plan.fail_count = 1000;
  // A transient failure that outlasts the retries: the upload is kept for the next run.
  plan.error = UnavailableError("injected outage");
  auto failing = std::make_shared<FaultInjectingStore>(dst_, plan);
  TransferOptions opts = FastOptions();
  opts.jobs = 1;  // deterministic: parts 1-4 succeed, then failures
  auto first = RunTransfer(Tree(src_, failing), opts, nullptr);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->files_failed, 1u);
  EXPECT_FALSE(dst_->GetObject("big.bin").has_value());
  EXPECT_EQ(dst_->open_uploads(), 1u);  // kept for resume
  EXPECT_EQ(first->status.code(), StatusCode::kUnavailable);

  FaultPlan count_only;
  count_only.operation = "upload_part";
  auto counting = std::make_shared<FaultInjectingStore>(dst_, count_only);
  auto second = RunTransfer(Tree(src_, counting), opts, nullptr);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->status.ok()) << second->status.ToString();
  EXPECT_EQ(counting->calls(), 4);  // only parts 5-8 uploaded again
  EXPECT_TRUE(*dst_->GetObject("big.bin") == data);
  EXPECT_EQ(second->files[0].sha256, crypto::Sha256Hex(data));
}

TEST_F(TransferTest, SyncDeletesExtrasOnlyAfterSuccess) {
  dst_->SetObject("extra.txt", "old");
  TransferOptions opts = FastOptions();
  opts.delete_extra = true;
  // A failing copy: nothing is deleted.
  FaultPlan plan;
  plan.operation = "put";
  plan.fail_on_call = 1;
  plan.fail_count = 1000;
  plan.error = PermissionDeniedError("denied");
  auto failing = std::make_shared<FaultInjectingStore>(dst_, plan);
  auto bad = RunTransfer(Tree(src_, failing), opts, nullptr);
  ASSERT_TRUE(bad.ok());
  EXPECT_GT(bad->files_failed, 0u);
  EXPECT_TRUE(dst_->GetObject("extra.txt").has_value());
  // A clean run deletes it.
  auto good = RunTransfer(Tree(src_, dst_), opts, nullptr);
  ASSERT_TRUE(good.ok());
  EXPECT_TRUE(good->status.ok()) << good->status.ToString();
  EXPECT_EQ(good->files_deleted, 1u);
  EXPECT_FALSE(dst_->GetObject("extra.txt").has_value());
  ExpectSameContent();
}

TEST_F(TransferTest, FiltersAndDryRun) {
  TransferOptions opts = FastOptions();
  ASSERT_TRUE(opts.filter.AddInclude("*.bin").ok());
  ASSERT_TRUE(opts.filter.AddExclude("/big.bin").ok());
  opts.dry_run = true;
  auto dry = RunTransfer(Tree(src_, dst_), opts, nullptr);
  ASSERT_TRUE(dry.ok());
  EXPECT_TRUE(dst_->Keys().empty());
  ASSERT_EQ(dry->files.size(), 1u);
  EXPECT_EQ(dry->files[0].path, "dir/with space/ünï.bin");
  EXPECT_EQ(dry->files[0].action, FileAction::kPlannedCopy);
  opts.dry_run = false;
  auto real = RunTransfer(Tree(src_, dst_), opts, nullptr);
  ASSERT_TRUE(real.ok());
  EXPECT_EQ(dst_->Keys(), std::vector<std::string>{"dir/with space/ünï.bin"});
}

TEST_F(TransferTest, ChecksumModeFindsSameSizeDifferentContent) {
  ASSERT_TRUE(RunTransfer(Tree(src_, dst_), FastOptions(), nullptr).ok());
  // Same size, new bytes, and an old mtime on the source so times look "unchanged".
  dst_->SetObject("small.txt", "HELLO", src_->Stat("small.txt")->mtime_ns);
  TransferOptions opts = FastOptions();
  opts.compare = CompareMode::kChecksum;
  auto report = RunTransfer(Tree(src_, dst_), opts, nullptr);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->files_copied, 1u);
  EXPECT_EQ(*dst_->GetObject("small.txt"), "hello");
}

TEST_F(TransferTest, OneLargeFileUsesEveryWorker) {
  src_ = std::make_shared<MemoryStore>("src");
  src_->SetObject("one.bin", Bytes((64 << 10) * 16, 13));
  FaultPlan slow;
  slow.operation = "read";
  slow.read_delay_ms = 20;  // long enough that parallel reads overlap
  auto counting = std::make_shared<FaultInjectingStore>(src_, slow);
  TransferOptions opts = FastOptions();
  opts.jobs = 4;
  auto report = RunTransfer(Tree(counting, dst_), opts, nullptr);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->status.ok()) << report->status.ToString();
  EXPECT_GE(counting->max_concurrent_reads(), 3);
  EXPECT_TRUE(*dst_->GetObject("one.bin") == *src_->GetObject("one.bin"));
}

TEST_F(TransferTest, StoresOfOneServiceCopyServerSide) {
  auto report = RunTransfer(Tree(src_, dst_), FastOptions(), nullptr);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->status.ok()) << report->status.ToString();
  EXPECT_EQ(dst_->server_side_copies(), 4);
  ExpectSameContent();
  for (const auto& f : report->files) {
    EXPECT_EQ(f.sha256, crypto::Sha256Hex(*src_->GetObject(f.path))) << f.path;
  }
}

// A store whose listings lack SHA-256 and preserved mtimes, like S3's ListObjectsV2.
class ThinListingStore final : public storage::ObjectStore {
 public:
  explicit ThinListingStore(std::shared_ptr<MemoryStore> inner) : inner_(std::move(inner)) {}
  storage::Capabilities capabilities() const override {
    auto c = inner_->capabilities();
    c.list_has_metadata = false;
    return c;
  }
  std::string UrlFor(std::string_view k) const override { return inner_->UrlFor(k); }
  Result<storage::ObjectInfo> Stat(std::string_view k) override {
    ++stats;
    return inner_->Stat(k);
  }
  Result<storage::ListPage> List(const storage::ListRequest& r) override {
    DC_ASSIGN_OR_RETURN(auto page, inner_->List(r));
    for (auto& o : page.objects) {
      o.sha256.clear();
      o.mtime_ns = 1;  // "upload time": never equal to a source's mtime
    }
    return page;
  }
  Status Read(std::string_view k, ByteRange r, io::ByteSink& s,
              const storage::ReadOptions& o) override {
    return inner_->Read(k, r, s, o);
  }
  Result<storage::ObjectInfo> Put(std::string_view k, io::ByteSource& d,
                                  const storage::WriteOptions& o) override {
    return inner_->Put(k, d, o);
  }
  Result<std::unique_ptr<storage::MultipartUpload>> StartMultipart(
      std::string_view k, const storage::MultipartOptions& o) override {
    return inner_->StartMultipart(k, o);
  }
  Status Delete(std::string_view k) override { return inner_->Delete(k); }
  std::atomic<int> stats{0};

 private:
  std::shared_ptr<MemoryStore> inner_;
};

TEST_F(TransferTest, ThinListingsAreCompletedByStatSoRerunsSkip) {
  auto thin_dst = std::make_shared<ThinListingStore>(dst_);
  ASSERT_TRUE(RunTransfer(Tree(src_, thin_dst), FastOptions(), nullptr).ok());
  auto again = RunTransfer(Tree(src_, thin_dst), FastOptions(), nullptr);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->files_copied, 0u);  // without Stat, the listing's mtime would force copies
  EXPECT_EQ(again->files_skipped, 4u);
  EXPECT_GE(thin_dst->stats.load(), 4);
}

TEST_F(TransferTest, ThinListingSourcesAreStillVerified) {
  // The large file's SHA-256 is only known through Stat; a corrupted byte must still be caught.
  src_ = std::make_shared<MemoryStore>("src");
  src_->SetObject("big.bin", Bytes((64 << 10) * 4, 14));
  auto thin_src = std::make_shared<ThinListingStore>(src_);
  FaultPlan plan;
  plan.operation = "read";
  plan.corrupt_read_at = 100;
  auto corrupt = std::make_shared<FaultInjectingStore>(thin_src, plan);
  auto report = RunTransfer(Tree(corrupt, dst_), FastOptions(), nullptr);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->status.code(), StatusCode::kDataLoss) << report->status.ToString();
  EXPECT_FALSE(dst_->GetObject("big.bin").has_value());
}

class LocalDestinationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dc-xfer-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    storage::LocalStoreOptions o;
    o.root = dir_ + "/dst";
    o.create_root = true;
    dst_ = *storage::LocalStore::Open(o);
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  std::string dir_;
  std::shared_ptr<storage::LocalStore> dst_;
};

TEST_F(LocalDestinationTest, UnsafeKeysAreSkippedOrFailWithStrict) {
  auto src = std::make_shared<MemoryStore>("src");
  src->SetObject("ok.txt", "fine");
  src->SetObject("../../etc/passwd", "evil");
  src->SetObject("a/../../b", "evil");
  auto report = RunTransfer(Tree(src, dst_, true), FastOptions(), nullptr);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->files_copied, 1u);
  EXPECT_EQ(report->keys_refused, 2u);
  EXPECT_NE(::access((dir_ + "/dst/ok.txt").c_str(), F_OK), -1);
  EXPECT_EQ(::access((dir_ + "/etc/passwd").c_str(), F_OK), -1);
  EXPECT_EQ(::access((dir_ + "/b").c_str(), F_OK), -1);

  TransferOptions strict = FastOptions();
  strict.strict_keys = true;
  auto refused = RunTransfer(Tree(src, dst_, true), strict, nullptr);
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find(".."), std::string_view::npos);
}

TEST_F(LocalDestinationTest, LargeFileThroughLocalMultipart) {
  auto src = std::make_shared<MemoryStore>("src");
  std::string data = Bytes((64 << 10) * 10 + 5, 12);
  src->SetObject("m/model.safetensors", data);
  auto report = RunTransfer(Tree(src, dst_, true), FastOptions(), nullptr);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->status.ok()) << report->status.ToString();
  auto st = dst_->Stat("m/model.safetensors");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->size, data.size());
  auto listing = dst_->List({});
  ASSERT_EQ(listing->objects.size(), 1u);  // no temporary files or journals visible
}

}  // namespace
}  // namespace datacube::engine
