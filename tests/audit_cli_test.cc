// `datacube audit append` and `datacube audit verify` end to end: exit codes, the line a broken
// chain is reported at, and several processes appending at once.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "testing/test_util/test_util.h"

namespace datacube::testing {
namespace {

CommandResult Dc(std::vector<std::string> args, CommandOptions options = {}) {
  args.insert(args.begin(), DatacubeBin());
  return RunCommand(args, options);
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += line + "\n";
  return out;
}

class AuditCliTest : public ::testing::Test {
 protected:
  void Append(int n) {
    for (int i = 0; i < n; ++i) {
      auto r =
          Dc({"audit", "append", "--audit-log", log_, "--action", "transfer", "--actor", "alice",
              "--source", "/data/in", "--destination", "s3://user:pw@bucket/x?X-Amz-Signature=abc",
              "--result", "ok", "--files", std::to_string(i)});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
  }
  TempDir tmp_;
  std::string log_ = tmp_ / "audit.log";
};

TEST_F(AuditCliTest, AValidChainVerifiesAndNoCredentialIsWritten) {
  Append(3);
  auto r = Dc({"audit", "verify", log_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("valid chain of 3 records"), std::string::npos) << r.out;
  const std::string text = ReadFile(log_);
  EXPECT_EQ(text.find("pw@"), std::string::npos) << text;
  EXPECT_EQ(text.find("abc"), std::string::npos) << text;
  auto first = nlohmann::json::parse(Lines(text)[0]);
  EXPECT_EQ(first["actor"], "alice");
  EXPECT_EQ(first["action"], "transfer");
}

TEST_F(AuditCliTest, AnEditedRecordIsNamedByTheLineThatNoLongerChains) {
  Append(4);
  auto lines = Lines(ReadFile(log_));
  auto pos = lines[1].find("\"files\":1");
  ASSERT_NE(pos, std::string::npos) << lines[1];
  lines[1].replace(pos, 9, "\"files\":7");
  WriteFile(log_, Join(lines));
  auto r = Dc({"audit", "verify", "--json", log_});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["valid"], false);
  EXPECT_EQ(report["bad_line"], 3) << r.out;
}

TEST_F(AuditCliTest, DeletedAndSwappedLinesAreCaught) {
  Append(4);
  auto lines = Lines(ReadFile(log_));
  auto deleted = lines;
  deleted.erase(deleted.begin() + 1);
  WriteFile(log_, Join(deleted));
  auto r = Dc({"audit", "verify", log_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("audit.log:2: broken chain"), std::string::npos) << r.err;

  auto swapped = lines;
  std::swap(swapped[1], swapped[2]);
  WriteFile(log_, Join(swapped));
  r = Dc({"audit", "verify", log_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("audit.log:2: broken chain"), std::string::npos) << r.err;
}

TEST_F(AuditCliTest, ATruncatedTailFailsVerification) {
  Append(2);
  std::string text = ReadFile(log_);
  WriteFile(log_, text.substr(0, text.size() - 10));
  auto r = Dc({"audit", "verify", log_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("torn tail"), std::string::npos) << r.err;
}

TEST_F(AuditCliTest, FourProcessesAppendingAtOnceLeaveOneChain) {
  const int kPerProcess = 50;
  std::vector<int> pids;
  for (int p = 0; p < 4; ++p) {
    const std::string script = "for i in $(seq " + std::to_string(kPerProcess) + "); do \"" +
                               DatacubeBin() + "\" audit append --audit-log \"" + log_ +
                               "\" --action transfer --actor p" + std::to_string(p) +
                               " --result ok || exit 1; done";
    pids.push_back(SpawnCommand({"/bin/sh", "-c", script}, tmp_ / ("out" + std::to_string(p)),
                                tmp_ / ("err" + std::to_string(p))));
  }
  for (int pid : pids) EXPECT_EQ(WaitCommand(pid), 0);
  auto r = Dc({"audit", "verify", log_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("valid chain of 200 records"), std::string::npos) << r.out;
}

TEST_F(AuditCliTest, MissingFileAndMissingArgumentsAreClearErrors) {
  auto r = Dc({"audit", "verify", tmp_ / "nope.log"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("nope.log"), std::string::npos) << r.err;
  r = Dc({"audit", "append", "--audit-log", log_, "--result", "ok"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--action"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace datacube::testing
