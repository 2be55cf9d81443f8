// The runner against an in-memory source (wrapped in fault injection) and a real PVC directory:
// attempts and backoffLimit, the per-attempt deadline, sync deletes, status updates and the
// manifest digest.
#include "datacube/cube/runner.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mutex>

#include "datacube/engine/manifest.h"
#include "datacube/io/atomic_file_writer.h"
#include "datacube/storage/memory/memory_store.h"
#include "datacube/storage/testing/fault_injecting_store.h"
#include "datacube/transfer/registry.h"

namespace datacube::cube {
namespace {

namespace fs = std::filesystem;

std::string CubeYaml(const std::string& executor, const std::string& sink_extra = "") {
  return R"(apiVersion: tensorstack.dev/v1beta1
kind: DataCube
metadata: {name: runner-test, namespace: team-a}
spec:
  source:
    type: s3
    options:
    - {name: s3-endpoint, value: "http://127.0.0.1:1"}
    - {name: s3-access-key-id, value: AKID}
    - {name: s3-secret-access-key, valueFrom: {secretKeyRef: {name: s3, key: secret}}}
    - {name: s3-uri, value: "s3://bucket/models"}
  sink:
    type: pvc
    pvc:
      name: vol
      subPath: dl
)" + sink_extra +
         "  executor:\n" + executor;
}

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("runner-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "pvc" / "vol");
    fs::create_directories(root_ / "secrets" / "s3");
    std::ofstream(root_ / "secrets" / "s3" / "secret") << "runner-secret-value-42";
    source_ = std::make_shared<storage::MemoryStore>("mem");
    source_->SetObject("models/a.bin", std::string(300'000, 'a'));
    source_->SetObject("models/sub/b.json", "{\"b\": 1}");
  }
  void TearDown() override { fs::remove_all(root_); }

  RunOptions Options(storage::FaultPlan plan = {}) {
    RunOptions o;
    o.sources.secrets_dir = (root_ / "secrets").string();
    o.plan.pvc_root = (root_ / "pvc").string();
    o.plan.process_env = [](const std::string&) { return std::nullopt; };
    o.attempt_backoff = std::chrono::milliseconds(10);
    o.status_interval = std::chrono::milliseconds(100);
    auto faulty = std::make_shared<storage::FaultInjectingStore>(source_, plan);
    faulty_ = faulty;
    o.open = [faulty](const CubeTransfer& t) -> Result<transfer::TransferEndpoints> {
      transfer::TransferEndpoints ends;
      ends.src.store = faulty;
      ends.src.location = t.source;
      ends.src.key = "models/";
      ends.src_prefix = "models/";
      DC_ASSIGN_OR_RETURN(ends.dst,
                          transfer::OpenLocation(t.sink, t.config, transfer::OpenMode::kWriteTree));
      ends.dst_prefix = ends.dst.key;
      return ends;
    };
    o.on_status = [this](const CubeStatus& s) {
      std::lock_guard<std::mutex> lock(mu_);
      statuses_.push_back(s);
    };
    return o;
  }

  RunOutcome Run(const std::string& yaml, const RunOptions& options) {
    LoadResult loaded = LoadCube(yaml, "cube.yaml", {});
    return RunCube(loaded, options);
  }

  std::string Sink(const std::string& rel) { return (root_ / "pvc" / "vol" / "dl" / rel).string(); }

  fs::path root_;
  std::shared_ptr<storage::MemoryStore> source_;
  std::shared_ptr<storage::FaultInjectingStore> faulty_;
  std::mutex mu_;
  std::vector<CubeStatus> statuses_;
};

// Listing fails in the first two attempts (one list call per attempt; --retries 1 keeps the
// engine from retrying requests itself).
storage::FaultPlan FailFirstTwoListings() {
  storage::FaultPlan plan;
  plan.operation = "list";
  plan.fail_on_call = 1;
  plan.fail_count = 2;
  plan.error = UnavailableError("injected: 503 SlowDown");
  return plan;
}

TEST_F(RunnerTest, SucceedsWithStatusProgressAndManifestDigest) {
  RunOutcome out = Run(CubeYaml("    options: {backoffLimit: 0}\n"), Options());
  ASSERT_EQ(out.exit_code, 0) << out.error.ToString();
  EXPECT_EQ(fs::file_size(Sink("a.bin")), 300'000u);
  EXPECT_TRUE(fs::exists(Sink("sub/b.json")));
  const CubeStatus& s = out.status;
  EXPECT_EQ(s.phase, Phase::kSucceeded);
  EXPECT_EQ(s.name, "runner-test");
  EXPECT_EQ(s.namespace_, "team-a");
  EXPECT_EQ(s.attempts, 1);
  ASSERT_EQ(s.conditions.size(), 3u);
  EXPECT_EQ(s.conditions[0].type, "Initialized");
  EXPECT_TRUE(s.conditions[0].status);
  EXPECT_EQ(s.conditions[1].type, "Complete");
  EXPECT_TRUE(s.conditions[1].status);
  EXPECT_EQ(s.conditions[1].message, "The DataCube is complete");
  EXPECT_EQ(s.conditions[2].type, "Failed");
  EXPECT_FALSE(s.conditions[2].status);
  EXPECT_FALSE(s.completion_time.empty());
  ASSERT_TRUE(s.progress);
  EXPECT_EQ(s.progress->bytes_done, 300'008u);
  EXPECT_EQ(s.progress->files_total, 2u);
  ASSERT_TRUE(s.result);
  EXPECT_EQ(s.result->files, 2u);
  EXPECT_EQ(s.result->files_copied, 2u);
  // Compute the expected digest from the files themselves, independently of the runner.
  auto local = transfer::OpenLocation(*ParseLocation(root_.string() + "/pvc/vol/dl"), {},
                                      transfer::OpenMode::kRead);
  ASSERT_TRUE(local.ok());
  auto manifest = engine::BuildManifest(*local->store, "", 1, nullptr);
  ASSERT_TRUE(manifest.ok());
  EXPECT_EQ(s.result->manifest_digest, "sha256:" + engine::ManifestDigest(*manifest));
  // Watchers saw Pending, then Running, then Succeeded.
  std::lock_guard<std::mutex> lock(mu_);
  ASSERT_GE(statuses_.size(), 3u);
  EXPECT_EQ(statuses_.front().phase, Phase::kPending);
  bool saw_running = false;
  for (const auto& st : statuses_) saw_running = saw_running || st.phase == Phase::kRunning;
  EXPECT_TRUE(saw_running);
  EXPECT_EQ(statuses_.back().phase, Phase::kSucceeded);
}

TEST_F(RunnerTest, RetriesFailedAttemptsUpToBackoffLimit) {
  std::string exec = "    options:\n      backoffLimit: 2\n      extraArgs: [--retries, \"1\"]\n";
  RunOutcome out = Run(CubeYaml(exec), Options(FailFirstTwoListings()));
  ASSERT_EQ(out.exit_code, 0) << out.error.ToString();
  EXPECT_EQ(out.status.phase, Phase::kSucceeded);
  EXPECT_EQ(out.status.attempts, 3);
  EXPECT_TRUE(fs::exists(Sink("a.bin")));
  // While retrying, Failed stayed False with reason Retrying.
  std::lock_guard<std::mutex> lock(mu_);
  bool saw_retrying = false;
  for (const auto& st : statuses_) {
    const Condition* f = st.FindCondition("Failed");
    if (f && !f->status && f->reason == "Retrying") saw_retrying = true;
  }
  EXPECT_TRUE(saw_retrying);
}

TEST_F(RunnerTest, GivesUpWithBackoffLimitExceeded) {
  std::string exec = "    options:\n      backoffLimit: 1\n      extraArgs: [--retries, \"1\"]\n";
  RunOutcome out = Run(CubeYaml(exec), Options(FailFirstTwoListings()));
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_EQ(out.status.phase, Phase::kFailed);
  EXPECT_EQ(out.status.attempts, 2);
  const Condition* failed = out.status.FindCondition("Failed");
  ASSERT_NE(failed, nullptr);
  EXPECT_TRUE(failed->status);
  EXPECT_EQ(failed->reason, "BackoffLimitExceeded");
  EXPECT_NE(failed->message.find("2 attempts failed"), std::string::npos) << failed->message;
  EXPECT_NE(failed->message.find("Unavailable"), std::string::npos) << failed->message;
  EXPECT_FALSE(out.status.FindCondition("Complete")->status);
  EXPECT_FALSE(fs::exists(Sink("a.bin")));
}

TEST_F(RunnerTest, DeadlineEndsTheAttemptWithinTwoSecondsAndLeavesNoTornFile) {
  source_->SetObject("models/big.bin", std::string(4 << 20, 'x'));
  // 4 MiB at 256 KiB/s takes 16 s; the deadline is 1 s.
  std::string exec =
      "    options:\n      activeDeadlineSeconds: 1\n      extraArgs: [--bwlimit, 256K, "
      "--part-size, 1M]\n";
  auto start = std::chrono::steady_clock::now();
  RunOutcome out = Run(CubeYaml(exec), Options());
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_LT(secs, 1.0 + 2.0);
  EXPECT_GE(secs, 0.9);
  const Condition* failed = out.status.FindCondition("Failed");
  ASSERT_NE(failed, nullptr);
  EXPECT_TRUE(failed->status);
  EXPECT_EQ(failed->reason, "DeadlineExceeded");
  EXPECT_NE(failed->message.find("activeDeadlineSeconds (1s)"), std::string::npos);
  // Whatever was written is either complete and correct, or a hidden temporary.
  for (const auto& entry : fs::recursive_directory_iterator(root_ / "pvc")) {
    if (!entry.is_regular_file()) continue;
    std::string name = entry.path().filename().string();
    if (io::IsTempName(name)) continue;
    std::string rel = fs::relative(entry.path(), root_ / "pvc" / "vol" / "dl").string();
    auto original = source_->GetObject("models/" + rel);
    ASSERT_TRUE(original) << rel;
    EXPECT_EQ(fs::file_size(entry.path()), original->size()) << "torn file " << rel;
  }
  EXPECT_FALSE(fs::exists(Sink("big.bin")));
}

TEST_F(RunnerTest, SyncDeletesExtrasOnlyAfterTheWholeCopySucceeded) {
  fs::create_directories(Sink(""));
  std::ofstream(Sink("stale.txt")) << "not in the source";
  // Every read fails: the copy fails and nothing may be deleted.
  storage::FaultPlan broken;
  broken.operation = "read";
  broken.fail_on_call = 1;
  broken.fail_count = 1000;
  broken.error = PermissionDeniedError("injected: AccessDenied");
  std::string exec = "    options:\n      sync: true\n      extraArgs: [--retries, \"1\"]\n";
  RunOutcome failed = Run(CubeYaml(exec), Options(broken));
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_EQ(failed.status.FindCondition("Failed")->reason, "PermissionDenied");
  EXPECT_TRUE(fs::exists(Sink("stale.txt")));

  RunOutcome ok = Run(CubeYaml(exec), Options());
  ASSERT_EQ(ok.exit_code, 0) << ok.error.ToString();
  EXPECT_FALSE(fs::exists(Sink("stale.txt")));
  EXPECT_TRUE(fs::exists(Sink("a.bin")));
  ASSERT_TRUE(ok.status.result);
  EXPECT_EQ(ok.status.result->files_deleted, 1u);
}

TEST_F(RunnerTest, CorruptReadsAreCaughtAndTheFileIsFetchedAgain) {
  storage::FaultPlan corrupt;
  corrupt.operation = "read";
  corrupt.corrupt_read_at = 10;
  corrupt.damage_reads = 1;
  source_->SetObject("models/a.bin", std::string(300'000, 'a'));
  RunOutcome out = Run(CubeYaml("    options: {backoffLimit: 0}\n"), Options(corrupt));
  // The memory store knows each object's SHA-256, so the engine detects the flipped byte and
  // copies the file again within the attempt.
  ASSERT_EQ(out.exit_code, 0) << out.error.ToString();
  std::ifstream in(Sink("a.bin"), std::ios::binary);
  std::string got((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(got, std::string(300'000, 'a'));
}

TEST_F(RunnerTest, InvalidSpecFailsWithStatusAndExitCode2) {
  std::string yaml = CubeYaml("    options: {backoffLimit: -1}\n");
  RunOutcome out = Run(yaml, Options());
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_EQ(out.status.phase, Phase::kFailed);
  const Condition* failed = out.status.FindCondition("Failed");
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->reason, "InvalidSpec");
  EXPECT_NE(failed->message.find("spec.executor.options.backoffLimit"), std::string::npos);
  EXPECT_EQ(out.status.FindCondition("Initialized")->status, false);
}

TEST_F(RunnerTest, MissingSecretIsSecretNotFound) {
  fs::remove(root_ / "secrets" / "s3" / "secret");
  RunOutcome out = Run(CubeYaml("    options: {backoffLimit: 3}\n"), Options());
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_EQ(out.status.attempts, 0);
  const Condition* failed = out.status.FindCondition("Failed");
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->reason, "SecretNotFound");
  EXPECT_NE(failed->message.find("secret \"s3\" key \"secret\" not found"), std::string::npos)
      << failed->message;
}

TEST_F(RunnerTest, MissingPvcWithoutTemplateIsNotFoundAndTemplateCreatesIt) {
  fs::remove_all(root_ / "pvc" / "vol");
  RunOutcome out = Run(CubeYaml("    options: {}\n"), Options());
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_EQ(out.status.FindCondition("Failed")->reason, "NotFound");
  EXPECT_NE(out.status.FindCondition("Failed")->message.find("add spec.sink.pvc.template"),
            std::string::npos);

  std::string with_template =
      "      template:\n        spec:\n          accessModes: [ReadWriteOnce]\n"
      "          resources: {requests: {storage: 1Gi}}\n";
  out = Run(CubeYaml("    options: {}\n", with_template), Options());
  ASSERT_EQ(out.exit_code, 0) << out.error.ToString();
  EXPECT_TRUE(fs::exists(Sink("a.bin")));
}

TEST_F(RunnerTest, DryRunChangesNothing) {
  RunOptions o = Options();
  o.dry_run = true;
  RunOutcome out = Run(CubeYaml("    options: {}\n"), o);
  ASSERT_EQ(out.exit_code, 0) << out.error.ToString();
  EXPECT_FALSE(fs::exists(Sink("")));
  int planned = 0;
  for (const auto& f : out.report.files) planned += f.action == transfer::FileAction::kPlannedCopy;
  EXPECT_EQ(planned, 2);
}

TEST_F(RunnerTest, InterruptStopsWithoutRetrying) {
  source_->SetObject("models/big.bin", std::string(4 << 20, 'x'));
  std::stop_source interrupt;
  RunOptions o = Options();
  o.interrupt = interrupt.get_token();
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    interrupt.request_stop();
  });
  std::string exec = "    options:\n      backoffLimit: 5\n      extraArgs: [--bwlimit, 256K]\n";
  RunOutcome out = Run(CubeYaml(exec), o);
  stopper.join();
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_EQ(out.status.attempts, 1);
  EXPECT_EQ(out.status.FindCondition("Failed")->reason, "Interrupted");
}

}  // namespace
}  // namespace datacube::cube
