// datacube gc end to end: a directory with mixed ages (mtimes set with utimensat) and a Ceph RGW
// prefix with two upload batches, dry run then --apply, and the deletions in the audit log.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <ctime>
#include <nlohmann/json.hpp>
#include <set>

#include "datacube/audit/audit_log.h"
#include "testing/test_util/test_util.h"
#include "tests/s3_test_fixture.h"

namespace datacube::testing {
namespace {

constexpr int64_t kDay = 86400;
const std::string kNow = "2026-06-01T00:00:00Z";
constexpr int64_t kNowSec = 1780272000;  // kNow

CommandResult Dc(std::vector<std::string> args) {
  args.insert(args.begin(), DatacubeBin());
  return RunCommand(args);
}

void Age(const std::string& path, int64_t seconds_before_now) {
  timespec times[2] = {{kNowSec - seconds_before_now, 0}, {kNowSec - seconds_before_now, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << path;
}

// The paths of the JSON lines of `gc --json` whose state is `state`.
std::set<std::string> PathsIn(const std::string& out, const std::string& state) {
  std::set<std::string> paths;
  size_t start = 0;
  while (start < out.size()) {
    size_t end = out.find('\n', start);
    if (end == std::string::npos) end = out.size();
    auto j = nlohmann::json::parse(out.substr(start, end - start), nullptr, false);
    if (j.is_object() && j["state"] == state) paths.insert(j["path"].get<std::string>());
    start = end + 1;
  }
  return paths;
}

// The destinations of the audit log's delete records with result `result`; the chain must verify.
std::set<std::string> AuditedDeletes(const std::string& log, const std::string& result) {
  auto report = audit::VerifyFile(log);
  EXPECT_TRUE(report.ok() && report->valid) << (report.ok() ? report->reason : "unreadable");
  std::set<std::string> destinations;
  std::string text = ReadFile(log);
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    auto j = nlohmann::json::parse(text.substr(start, end - start), nullptr, false);
    if (j.is_object() && j["action"] == "delete" && j["result"] == result) {
      destinations.insert(j["destination"].get<std::string>());
    }
    start = end + 1;
  }
  return destinations;
}

class GcDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* d :
         {"t", "t/checkpoint-1", "t/checkpoint-2", "t/inference-cache", "t/notes"}) {
      ::mkdir((tmp_ / d).c_str(), 0755);
    }
    // Default policy: checkpoints 30 days, inference cache 7 days, nothing else expires.
    Put("checkpoint-1/old.pt", 31 * kDay);  // expired
    Put("checkpoint-2/new.pt", 29 * kDay);  // kept: within 30 days
    Put("run.ckpt", 45 * kDay);             // expired (*.ckpt)
    Put("inference-cache/a", 8 * kDay);     // expired
    Put("inference-cache/b", 6 * kDay);     // kept
    Put("notes/readme.txt", 900 * kDay);    // kept: no class rule matches
    Put("model.safetensors", 900 * kDay);   // kept: no class rule matches
  }
  void Put(const std::string& rel, int64_t age) {
    WriteFile(tmp_ / ("t/" + rel), rel);
    Age(tmp_ / ("t/" + rel), age);
  }
  TempDir tmp_;
};

TEST_F(GcDirTest, DryRunListsExactlyTheExpiredAndApplyDeletesExactlyThose) {
  const std::set<std::string> expired{"checkpoint-1/old.pt", "inference-cache/a", "run.ckpt"};
  auto all = ListFilesRecursive(tmp_ / "t");
  auto dry = Dc({"gc", tmp_ / "t", "--json", "--now", kNow});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_EQ(PathsIn(dry.out, "expired"), expired) << dry.out;
  EXPECT_EQ(PathsIn(dry.out, "kept").size(), 4u) << dry.out;
  EXPECT_TRUE(Contains(dry.out, R"("path":"notes/readme.txt","state":"kept","class":"")"));
  EXPECT_TRUE(Contains(dry.out, "kept: no class rule matches"));
  EXPECT_EQ(ListFilesRecursive(tmp_ / "t"), all) << "a dry run deleted something";

  // Plain output lists the expired ones only, with class, age and rule.
  auto text = Dc({"gc", tmp_ / "t", "--dry-run", "--now", kNow});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_TRUE(Contains(text.out, "expired  run.ckpt  class=checkpoint  age=3888000s  rule=*.ckpt"))
      << text.out;
  EXPECT_FALSE(Contains(text.out, "notes/readme.txt")) << text.out;

  const std::string log = tmp_ / "audit.jsonl";
  auto apply = Dc({"gc", tmp_ / "t", "--apply", "--json", "--now", kNow, "--audit-log", log});
  ASSERT_EQ(apply.exit_code, 0) << apply.err;
  EXPECT_EQ(PathsIn(apply.out, "deleted"), expired) << apply.out;
  EXPECT_EQ(ListFilesRecursive(tmp_ / "t"),
            (std::vector<std::string>{"checkpoint-2/new.pt", "inference-cache/b",
                                      "model.safetensors", "notes/readme.txt"}));
  std::set<std::string> want;
  for (const auto& rel : expired) want.insert(tmp_ / ("t/" + rel));
  EXPECT_EQ(AuditedDeletes(log, "ok"), want);
  EXPECT_TRUE(Contains(ReadFile(log), R"("class":"inference-cache")"));
}

// manifest-time: a class whose age comes from the manifest that lists the files, not from the
// files' own mtimes.
TEST_F(GcDirTest, ManifestTimeRuleAgesFilesByTheirManifest) {
  WriteFile(tmp_ / "policy.yaml", R"(version: 1
classes:
  shards:
    sensitivity: internal
    retention: 10d
    age_from: manifest-time
    approved_regions: ["*"]
    allowed_providers: [local]
    match: ["shards/**"]
)");
  ::mkdir((tmp_ / "t/shards").c_str(), 0755);
  ::mkdir((tmp_ / "t/shards/old").c_str(), 0755);
  ::mkdir((tmp_ / "t/shards/new").c_str(), 0755);
  for (const char* f : {"shards/old/a", "shards/new/b", "shards/loose"}) Put(f, 0);
  WriteFile(tmp_ / "t/shards/old/manifest.jsonl",
            R"({"path":"a","size":12,"sha256":")" + std::string(64, '0') + "\"}\n");
  Age(tmp_ / "t/shards/old/manifest.jsonl", 11 * kDay);
  WriteFile(tmp_ / "t/shards/new/b.manifest.jsonl",
            R"({"path":"b","size":12,"sha256":")" + std::string(64, '0') + "\"}\n");
  Age(tmp_ / "t/shards/new/b.manifest.jsonl", 9 * kDay);
  auto dry = Dc({"gc", tmp_ / "t", "--policy", tmp_ / "policy.yaml", "--json", "--now", kNow});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_EQ(PathsIn(dry.out, "expired"), (std::set<std::string>{"shards/old/a"})) << dry.out;
  EXPECT_TRUE(Contains(dry.out, R"("path":"shards/loose","state":"kept","class":"shards")"));
  EXPECT_TRUE(Contains(dry.out, "kept: no manifest lists it")) << dry.out;
}

TEST(GcUsage, BadFlagsAreUsageErrors) {
  TempDir tmp;
  auto both = Dc({"gc", tmp.path(), "--apply", "--dry-run"});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_TRUE(Contains(both.err, "--apply and --dry-run exclude each other")) << both.err;
  auto now = Dc({"gc", tmp.path(), "--now", "yesterday"});
  EXPECT_EQ(now.exit_code, 2);
  EXPECT_TRUE(Contains(now.err, "--now: want an RFC 3339 UTC time")) << now.err;
  WriteFile(tmp / "bad.yaml", "version: 1\nclasses:\n  c:\n    retention: forever\n");
  auto policy = Dc({"gc", tmp.path(), "--policy", tmp / "bad.yaml"});
  EXPECT_EQ(policy.exit_code, 2);
  EXPECT_TRUE(Contains(policy.err, "retention")) << policy.err;
}

// "2026-12-02T21:51:36.904Z" -> seconds since the epoch (whole seconds; RGW keeps milliseconds).
int64_t ParseIso(const std::string& text) {
  std::tm tm{};
  EXPECT_NE(strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm), nullptr) << text;
  return timegm(&tm);
}

std::string FormatIso(int64_t seconds) {
  std::time_t t = seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

class GcRgwTest : public S3TestFixture {
 protected:
  // LastModified of every object under the test prefix, by key relative to it.
  std::map<std::string, std::string> LastModified() {
    auto r = clients().Aws(
        {"s3api", "list-objects-v2", "--output", "json", "--bucket", bucket_, "--prefix", prefix_});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::map<std::string, std::string> out;
    auto j = nlohmann::json::parse(r.out.empty() ? "{}" : r.out, nullptr, false);
    for (const auto& o : j.value("Contents", nlohmann::json::array())) {
      out[o["Key"].get<std::string>().substr(prefix_.size())] = o["LastModified"];
    }
    return out;
  }
  void Upload(const std::vector<std::string>& rels) {
    for (const auto& rel : rels) {
      WriteFile(tmp_ / "up", rel);
      auto r = clients().Datacube({"-q", "cp", tmp_ / "up", Url(rel)});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
  }
};

TEST_F(GcRgwTest, DryRunListsExactlyTheFirstBatchAndApplyDeletesExactlyIt) {
  const std::vector<std::string> first{"checkpoint-1/a.pt", "checkpoint-1/b.pt", "old.ckpt"};
  const std::vector<std::string> second{"checkpoint-2/c.pt", "new.ckpt"};
  const std::vector<std::string> unclassified{"weights/model.safetensors", "readme.txt"};
  Upload(first);
  Upload(unclassified);
  auto t1 = LastModified();
  ASSERT_EQ(t1.size(), 5u);
  int64_t first_newest = 0;
  for (const auto& [rel, lm] : t1) first_newest = std::max(first_newest, ParseIso(lm));
  // LastModified has whole seconds: the second batch must be written in a later second.
  while (std::time(nullptr) <= first_newest) ::usleep(50'000);
  Upload(second);
  auto all = LastModified();
  ASSERT_EQ(all.size(), 7u);
  int64_t second_oldest = INT64_MAX;
  for (const auto& rel : second) second_oldest = std::min(second_oldest, ParseIso(all[rel]));
  ASSERT_GT(second_oldest, first_newest);
  // At this "now", the second batch is exactly 30 days old (kept: not older than the retention)
  // and the first more than 30 days (expired); the unclassified objects are far older still.
  const std::string now = FormatIso(second_oldest + 30 * kDay);
  const std::set<std::string> expired(first.begin(), first.end());

  auto dry = clients().Datacube({"gc", Url(""), "--json", "--now", now});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_EQ(PathsIn(dry.out, "expired"), expired) << dry.out;
  EXPECT_TRUE(Contains(dry.out, R"("path":"readme.txt","state":"kept","class":"")")) << dry.out;
  EXPECT_EQ(LastModified().size(), 7u) << "a dry run deleted something";

  const std::string log = tmp_ / "audit.jsonl";
  auto apply =
      clients().Datacube({"gc", Url(""), "--apply", "--json", "--now", now, "--audit-log", log});
  ASSERT_EQ(apply.exit_code, 0) << apply.err;
  EXPECT_EQ(PathsIn(apply.out, "deleted"), expired) << apply.out;
  std::set<std::string> left;
  for (const auto& [rel, lm] : LastModified()) left.insert(rel);
  EXPECT_EQ(left, (std::set<std::string>{"checkpoint-2/c.pt", "new.ckpt", "readme.txt",
                                         "weights/model.safetensors"}));
  std::set<std::string> want;
  for (const auto& rel : first) want.insert(Url(rel));
  EXPECT_EQ(AuditedDeletes(log, "ok"), want);
}

}  // namespace
}  // namespace datacube::testing
