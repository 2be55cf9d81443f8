// The transfer API as another program uses it: this test links the library, not the CLI.
#include "datacube/transfer/job.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "datacube/base/log.h"
#include "datacube/base/secret.h"
#include "datacube/crypto/sha256.h"
#include "datacube/storage/memory/memory_store.h"

namespace datacube::transfer {
namespace {

namespace fs = std::filesystem;

const std::string kBody(100 * 1024, 'x');

// Serves /a and /b. Each request waits (up to 5 s) until both files were asked for, so the two
// jobs of a test are certainly running at the same time.
class TwoFileServer {
 public:
  TwoFileServer() {
    auto serve = [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        seen_.insert(req.path);
        cv_.notify_all();
        cv_.wait_for(lock, std::chrono::seconds(5), [this] { return seen_.size() >= 2; });
      }
      res.set_header("ETag", "\"v1\"");
      res.set_header("x-amz-meta-sha256", crypto::Sha256Hex(kBody));
      res.set_content(kBody, "application/octet-stream");
    };
    server_.Get("/a", serve);
    server_.Get("/b", serve);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~TwoFileServer() {
    server_.stop();
    thread_.join();
  }
  std::string Url(const std::string& path, const std::string& query) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path + "?" + query;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> seen_;  // guarded by mu_
};

// What one job saw from inside, on the engine's worker threads.
struct Seen {
  std::mutex mu;
  bool own_redacted = false;
  bool other_kept = false;
  bool on_worker = false;
};

// Logs the job's own secret from the engine's workers, and checks there which secrets the
// redactor of that thread knows.
class SecretLoggingSink : public ProgressSink {
 public:
  SecretLoggingSink(std::string own, std::string other, std::thread::id job_thread, Seen* seen)
      : own_(std::move(own)), other_(std::move(other)), job_thread_(job_thread), seen_(seen) {}
  void OnFile(const engine::FileEvent& event) override {
    LogWarn("finished " + event.path + " with " + own_);
    std::lock_guard<std::mutex> lock(seen_->mu);
    seen_->own_redacted = Redact(own_).find(own_) == std::string::npos;
    seen_->other_kept = Redact(other_) == other_;
    seen_->on_worker = seen_->on_worker || std::this_thread::get_id() != job_thread_;
  }

 private:
  std::string own_, other_;
  std::thread::id job_thread_;
  Seen* seen_;
};

class JobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("datacube-job-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(JobTest, ConcurrentJobsRedactOnlyTheirOwnSecretsAndLeaveNothingBehind) {
  TwoFileServer server;
  const std::string secret_a = "sig=tenant-a-5f1c9d2e7b";
  const std::string secret_b = "sig=tenant-b-0a8e4c6f13";
  const size_t process_before = ProcessRedactor().size();
  Seen seen_a, seen_b;
  std::mutex results_mu;
  std::vector<Status> results;
  auto run = [&](const std::string& path, const std::string& own, const std::string& other,
                 Seen* seen) {
    JobRedactionScope scope;  // one job, one redactor
    SecretLoggingSink sink(own, other, std::this_thread::get_id(), seen);
    JobOptions options;
    auto src = ParseLocation(server.Url(path, own));
    auto dst = ParseLocation((dir_ / path.substr(1)).string());
    Status status = src.status();
    if (src.ok() && dst.ok()) {
      auto report = RunJob(*src, *dst, options, &sink, {});
      status = report.ok() ? report->transfer.status : report.status();
      // The job's secret is known while the job runs, and only to its own redactor.
      EXPECT_GT(scope.redactor().size(), 0u);
    }
    std::lock_guard<std::mutex> lock(results_mu);
    results.push_back(status);
  };
  testing::internal::CaptureStderr();
  std::thread a(run, "/a", secret_a, secret_b, &seen_a);
  std::thread b(run, "/b", secret_b, secret_a, &seen_b);
  a.join();
  b.join();
  const std::string log = testing::internal::GetCapturedStderr();

  for (const Status& s : results) ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(fs::file_size(dir_ / "a"), kBody.size());
  EXPECT_EQ(fs::file_size(dir_ / "b"), kBody.size());
  // Each job's log line is there, with its secret scrubbed.
  EXPECT_NE(log.find("finished a with ***"), std::string::npos) << log;
  EXPECT_NE(log.find("finished b with ***"), std::string::npos) << log;
  EXPECT_EQ(log.find("tenant-a-5f1c9d2e7b"), std::string::npos) << log;
  EXPECT_EQ(log.find("tenant-b-0a8e4c6f13"), std::string::npos) << log;
  // Inside each job, on the engine's worker threads: its own secret redacted, the other tenant's
  // secret not known there.
  for (Seen* seen : {&seen_a, &seen_b}) {
    EXPECT_TRUE(seen->own_redacted);
    EXPECT_TRUE(seen->other_kept);
    EXPECT_TRUE(seen->on_worker);
  }
  // Nothing of either job stays behind once they ended.
  EXPECT_EQ(ProcessRedactor().size(), process_before);
  EXPECT_EQ(CurrentRedactor(), nullptr);
  EXPECT_EQ(Redact(secret_a), secret_a);
  EXPECT_EQ(Redact(secret_b), secret_b);
}

TEST_F(JobTest, RoutesByLocation) {
  JobOptions options;
  auto loc = [](const std::string& text) { return *ParseLocation(text); };
  EXPECT_EQ(RouteFor(loc("git+https://host/o/r.git"), loc("/tmp/x"), options), Route::kGitClone);
  EXPECT_EQ(RouteFor(loc("/tmp/x"), loc("git+https://host/o/r.git"), options), Route::kGitPush);
  EXPECT_EQ(RouteFor(loc("/tmp/x"), loc("hf://org/name"), options), Route::kHfUpload);
  EXPECT_EQ(RouteFor(loc("hf://org/name"), loc("/tmp/x"), options), Route::kEngine);
  EXPECT_EQ(RouteFor(loc("s3://bucket/p/"), loc("/tmp/x"), options), Route::kEngine);
  options.hf.session = true;
  EXPECT_EQ(RouteFor(loc("hf://org/name"), loc("/tmp/x"), options), Route::kHfDownload);
  // sync to the Hub is a per-file mirror through the engine, not an upload session.
  options.transfer.delete_extra = true;
  EXPECT_EQ(RouteFor(loc("/tmp/x"), loc("hf://org/name"), options), Route::kEngine);
}

TEST_F(JobTest, SchemesWithoutABackendAreSaidSo) {
  EXPECT_TRUE(SchemeSupported(Scheme::kS3));
  EXPECT_TRUE(SchemeSupported(Scheme::kGit));
  EXPECT_TRUE(SchemeSupported(Scheme::kPvc));
  EXPECT_FALSE(SchemeSupported(Scheme::kAzure));
}

TEST_F(JobTest, WritesTheManifestAndSummarizesTheLocalSide) {
  auto src = std::make_shared<storage::MemoryStore>();
  src->SetObject("one.bin", "first file");
  src->SetObject("sub/two.bin", "second");
  auto dst = std::make_shared<storage::MemoryStore>();
  JobOptions options;
  options.manifest_out = (dir_ / "manifest.jsonl").string();
  options.summarize_local_side = true;
  options.open_endpoints = [&]() -> Result<TransferEndpoints> {
    TransferEndpoints ends;
    ends.src.store = src;
    ends.dst.store = dst;
    return ends;
  };
  auto report =
      RunJob(*ParseLocation("s3://bucket/"), *ParseLocation("/tmp/sink/"), options, nullptr, {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_TRUE(report->transfer.status.ok()) << report->transfer.status.ToString();
  EXPECT_EQ(report->transfer.files_copied, 2u);
  auto manifest = ReadManifestFile(options.manifest_out);
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  ASSERT_EQ(manifest->size(), 2u);
  EXPECT_EQ((*manifest)[0].path, "one.bin");
  EXPECT_EQ((*manifest)[0].sha256, crypto::Sha256Hex("first file"));
  EXPECT_EQ((*manifest)[1].path, "sub/two.bin");
  ASSERT_TRUE(report->summary.has_value());
  EXPECT_EQ(report->summary->files, 2u);
  EXPECT_EQ(report->summary->bytes, 16u);
  EXPECT_EQ(report->summary->manifest_digest.rfind("sha256:", 0), 0u);
}

TEST_F(JobTest, ACancelledJobWritesNoManifest) {
  auto src = std::make_shared<storage::MemoryStore>();
  src->SetObject("one.bin", "first file");
  JobOptions options;
  options.manifest_out = (dir_ / "manifest.jsonl").string();
  options.open_endpoints = [&]() -> Result<TransferEndpoints> {
    TransferEndpoints ends;
    ends.src.store = src;
    ends.dst.store = std::make_shared<storage::MemoryStore>();
    return ends;
  };
  std::stop_source stop;
  stop.request_stop();
  auto report = RunJob(*ParseLocation("s3://bucket/"), *ParseLocation("/tmp/sink/"), options,
                       nullptr, stop.get_token());
  EXPECT_FALSE(fs::exists(options.manifest_out));
}

TEST_F(JobTest, SyncOfASingleFileIsRefusedBeforeAnythingMoves) {
  auto src = std::make_shared<storage::MemoryStore>();
  src->SetObject("one.bin", "first file");
  auto dst = std::make_shared<storage::MemoryStore>();
  JobOptions options;
  options.transfer.delete_extra = true;
  options.open_endpoints = [&]() -> Result<TransferEndpoints> {
    TransferEndpoints ends;
    ends.src.store = src;
    ends.src.key = "one.bin";
    ends.single = true;
    ends.dst.store = dst;
    ends.dst.key = "one.bin";
    return ends;
  };
  auto report = RunJob(*ParseLocation("s3://bucket/one.bin"), *ParseLocation("/tmp/one.bin"),
                       options, nullptr, {});
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(report.status().message().find("sync needs a directory"), std::string::npos);
  EXPECT_FALSE(dst->GetObject("one.bin").has_value());
}

TEST_F(JobTest, GitRefusesSyncAndObjectStores) {
  JobOptions options;
  options.transfer.delete_extra = true;
  auto sync = RunJob(*ParseLocation("git+https://127.0.0.1:1/o/r.git"),
                     *ParseLocation((dir_ / "clone").string()), options, nullptr, {});
  ASSERT_FALSE(sync.ok());
  EXPECT_NE(sync.status().message().find("sync does not work with git"), std::string::npos);
  options.transfer.delete_extra = false;
  auto s3 = RunJob(*ParseLocation("git+https://127.0.0.1:1/o/r.git"),
                   *ParseLocation("s3://bucket/x/"), options, nullptr, {});
  ASSERT_FALSE(s3.ok());
  EXPECT_EQ(s3.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(dir_ / "clone"));
}

}  // namespace
}  // namespace datacube::transfer
