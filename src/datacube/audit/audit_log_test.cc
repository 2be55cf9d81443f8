#include "datacube/audit/audit_log.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "datacube/base/secret.h"
#include "datacube/crypto/sha256.h"

namespace datacube::audit {
namespace {

std::string TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "audit_test.XXXXXX").string();
  char* dir = mkdtemp(tmpl.data());
  EXPECT_NE(dir, nullptr);
  return tmpl;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);) lines.push_back(line);
  return lines;
}

Record Transfer(std::string detail = "") {
  Record r;
  r.actor = "alice";
  r.action = "transfer";
  r.source = "/data/in";
  r.destination = "s3://bucket/out/";
  r.data_class = "model-weights";
  r.bytes = 42;
  r.files = 2;
  r.manifest_digest = "sha256:" + std::string(64, 'a');
  r.result = "ok";
  r.detail = std::move(detail);
  return r;
}

TEST(AuditLog, FirstRecordHasGenesisPrevAndNextChainsToIt) {
  std::string path = TempDir() + "/audit.jsonl";
  auto log = Log::Open(path, false);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_TRUE((*log)->Append(Transfer()).ok());
  ASSERT_TRUE((*log)->Append(Transfer("second")).ok());
  auto lines = Lines(ReadAll(path));
  ASSERT_EQ(lines.size(), 2u);
  auto first = nlohmann::json::parse(lines[0]);
  auto second = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(first["prev"], std::string(kGenesisPrev));
  EXPECT_EQ(first["seq"], 1);
  EXPECT_EQ(first["class"], "model-weights");
  EXPECT_EQ(first["bytes"], 42);
  EXPECT_EQ(first["files"], 2);
  EXPECT_EQ(first["result"], "ok");
  EXPECT_EQ(first["time"].get<std::string>().size(),
            std::string("2026-01-01T00:00:00.000Z").size());
  EXPECT_EQ(second["prev"], crypto::Sha256Hex(lines[0]));
  EXPECT_EQ(second["seq"], 2);
  EXPECT_EQ(second["detail"], "second");
}

TEST(AuditLog, ReopenedLogContinuesTheChain) {
  std::string path = TempDir() + "/audit.jsonl";
  ASSERT_TRUE((*Log::Open(path, false))->Append(Transfer()).ok());
  ASSERT_TRUE((*Log::Open(path, false))->Append(Transfer()).ok());
  auto report = VerifyFile(path);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->valid) << report->reason;
  EXPECT_EQ(report->records, 2u);
}

TEST(AuditLog, NoCredentialLandsInTheLog) {
  RegisterSecretForRedaction("sEcReT-tOkEn-123");
  std::string path = TempDir() + "/audit.jsonl";
  Record r = Transfer("upload failed: 403 for key sEcReT-tOkEn-123");
  r.source = "https://user:pa55word@example.test/repo?X-Amz-Signature=abcdef&token=zz";
  r.destination = "s3://bucket/k?sig=sEcReT-tOkEn-123";
  ASSERT_TRUE((*Log::Open(path, false))->Append(r).ok());
  std::string text = ReadAll(path);
  EXPECT_EQ(text.find("sEcReT-tOkEn-123"), std::string::npos) << text;
  EXPECT_EQ(text.find("pa55word"), std::string::npos) << text;
  EXPECT_EQ(text.find("user"), std::string::npos) << text;
  EXPECT_EQ(text.find("abcdef"), std::string::npos) << text;
  auto json = nlohmann::json::parse(Lines(text)[0]);
  EXPECT_EQ(json["source"], "https://example.test/repo?***");
  EXPECT_EQ(json["destination"], "s3://bucket/k?***");
  EXPECT_EQ(json["detail"], "upload failed: 403 for key ***");
}

TEST(AuditLog, TornTailIsCutAndRecordedByTheNextWriter) {
  std::string path = TempDir() + "/audit.jsonl";
  ASSERT_TRUE((*Log::Open(path, false))->Append(Transfer()).ok());
  {
    std::ofstream out(path, std::ios::app | std::ios::binary);
    out << R"({"seq":2,"time":"2026-)";  // a writer died mid-write
  }
  auto torn = VerifyFile(path);
  ASSERT_TRUE(torn.ok());
  EXPECT_FALSE(torn->valid);
  EXPECT_TRUE(torn->torn_tail);
  EXPECT_EQ(torn->bad_line, 2u);
  ASSERT_TRUE((*Log::Open(path, false))->Append(Transfer("after crash")).ok());
  auto report = VerifyFile(path);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->valid) << report->reason;
  auto lines = Lines(ReadAll(path));
  ASSERT_EQ(lines.size(), 3u);
  auto repair = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(repair["action"], "audit-repair");
  EXPECT_EQ(repair["detail"], "removed a torn tail of 22 bytes");
  EXPECT_EQ(nlohmann::json::parse(lines[2])["detail"], "after crash");
}

TEST(AuditLog, MirrorWritesTheSameLineToStdout) {
  std::string path = TempDir() + "/audit.jsonl";
  testing::internal::CaptureStdout();
  ASSERT_TRUE((*Log::Open(path, true))->Append(Transfer()).ok());
  std::string out = testing::internal::GetCapturedStdout();
  EXPECT_EQ(out, ReadAll(path));
}

TEST(AuditLog, OpenFailureNamesThePath) {
  auto log = Log::Open("/nonexistent-dir/audit.jsonl", false);
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find("/nonexistent-dir/audit.jsonl"), std::string::npos);
}

// Four real processes append 1,000 records each at once; the flock keeps the chain whole.
TEST(AuditLog, FourProcessesAppendingAtOnceLeaveAValidChain) {
  std::string path = TempDir() + "/audit.jsonl";
  constexpr int kProcesses = 4, kRecords = 1000;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto log = Log::Open(path, false);
      if (!log.ok()) _exit(2);
      for (int i = 0; i < kRecords; ++i) {
        if (!(*log)->Append(Transfer("p" + std::to_string(p) + " #" + std::to_string(i))).ok()) {
          _exit(3);
        }
      }
      _exit(0);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
  auto report = VerifyFile(path);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->valid) << "line " << report->bad_line << ": " << report->reason;
  EXPECT_EQ(report->records, uint64_t{kProcesses * kRecords});
}

TEST(ActorFrom, FlagThenEnvThenServiceAccountThenUser) {
  std::string dir = TempDir();
  std::string ns_file = dir + "/namespace";
  std::ofstream(ns_file) << "ml-prod";
  std::map<std::string, std::string> env = {{"DATACUBE_ACTOR", "ci-bot"},
                                            {"DATACUBE_SERVICE_ACCOUNT", "mover"},
                                            {"USER", "bob"},
                                            {"LOGNAME", "bob2"}};
  EXPECT_EQ(ActorFrom(env, "carol", ns_file), "carol");
  EXPECT_EQ(ActorFrom(env, "", ns_file), "ci-bot");
  env.erase("DATACUBE_ACTOR");
  EXPECT_EQ(ActorFrom(env, "", ns_file), "system:serviceaccount:ml-prod:mover");
  env["POD_NAMESPACE"] = "other";
  EXPECT_EQ(ActorFrom(env, "", ns_file), "system:serviceaccount:other:mover");
  env.erase("DATACUBE_SERVICE_ACCOUNT");
  EXPECT_EQ(ActorFrom(env, "", ns_file), "bob");
  env.erase("USER");
  EXPECT_EQ(ActorFrom(env, "", ns_file), "bob2");
  env.erase("LOGNAME");
  EXPECT_EQ(ActorFrom(env, "", ns_file), "uid:" + std::to_string(getuid()));
}

}  // namespace
}  // namespace datacube::audit
