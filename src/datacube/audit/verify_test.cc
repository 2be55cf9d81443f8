// One test per kind of tampering: each must be caught at the first bad line, with its reason.
#include <gtest/gtest.h>

#include <sstream>

#include "datacube/audit/audit_log.h"
#include "datacube/crypto/sha256.h"

namespace datacube::audit {
namespace {

// A valid log of `n` records, as lines without newlines.
std::vector<std::string> ValidLines(int n) {
  std::vector<std::string> lines;
  std::string prev(kGenesisPrev);
  for (int i = 1; i <= n; ++i) {
    Record r;
    r.time = "2026-12-02T21:00:0" + std::to_string(i) + ".000Z";
    r.actor = "alice";
    r.action = "transfer";
    r.source = "/data/in";
    r.destination = "s3://bucket/out/";
    r.bytes = 100 * i;
    r.files = 1;
    r.result = "ok";
    lines.push_back(FormatLine(r, i, prev));
    prev = crypto::Sha256Hex(lines.back());
  }
  return lines;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += line + "\n";
  return text;
}

TEST(Verify, ValidLogReportsItsRecordCountAndHead) {
  auto lines = ValidLines(5);
  VerifyReport report = VerifyText(Join(lines));
  EXPECT_TRUE(report.valid) << report.reason;
  EXPECT_EQ(report.records, 5u);
  EXPECT_EQ(report.head, crypto::Sha256Hex(lines.back()));
  EXPECT_TRUE(VerifyText("").valid);
}

TEST(Verify, EditedByteIsCaughtAtTheNextLine) {
  auto lines = ValidLines(5);
  size_t pos = lines[2].find("\"bytes\":300");
  ASSERT_NE(pos, std::string::npos);
  lines[2][pos + 8] = '9';  // 300 -> 900: still valid JSON, only the chain can tell
  VerifyReport report = VerifyText(Join(lines));
  EXPECT_FALSE(report.valid);
  EXPECT_EQ(report.bad_line, 4u);
  EXPECT_EQ(report.records, 3u);
  EXPECT_NE(report.reason.find("prev does not match the SHA-256 of line 3"), std::string::npos)
      << report.reason;
}

TEST(Verify, DeletedLineIsCaught) {
  auto lines = ValidLines(5);
  lines.erase(lines.begin() + 1);
  VerifyReport report = VerifyText(Join(lines));
  EXPECT_FALSE(report.valid);
  EXPECT_EQ(report.bad_line, 2u);
  EXPECT_NE(report.reason.find("prev does not match the SHA-256 of line 1"), std::string::npos)
      << report.reason;
}

TEST(Verify, DeletedFirstLineIsCaught) {
  auto lines = ValidLines(3);
  lines.erase(lines.begin());
  VerifyReport report = VerifyText(Join(lines));
  EXPECT_EQ(report.bad_line, 1u);
  EXPECT_NE(report.reason.find("first record's fixed value"), std::string::npos) << report.reason;
}

TEST(Verify, InsertedLineIsCaught) {
  auto lines = ValidLines(5);
  // A forged record chained correctly to line 2: the line after it no longer matches.
  Record forged;
  forged.action = "transfer";
  forged.result = "ok";
  lines.insert(lines.begin() + 2, FormatLine(forged, 3, crypto::Sha256Hex(lines[1])));
  VerifyReport report = VerifyText(Join(lines));
  EXPECT_FALSE(report.valid);
  EXPECT_EQ(report.bad_line, 4u);
  EXPECT_NE(report.reason.find("prev does not match the SHA-256 of line 3"), std::string::npos)
      << report.reason;
}

TEST(Verify, SwappedPairIsCaught) {
  auto lines = ValidLines(5);
  std::swap(lines[1], lines[2]);
  VerifyReport report = VerifyText(Join(lines));
  EXPECT_FALSE(report.valid);
  EXPECT_EQ(report.bad_line, 2u);
  EXPECT_NE(report.reason.find("prev does not match the SHA-256 of line 1"), std::string::npos)
      << report.reason;
}

TEST(Verify, TruncatedTailIsReportedAsTorn) {
  auto lines = ValidLines(5);
  std::string text = Join(lines);
  text.resize(text.size() - 10);
  VerifyReport report = VerifyText(text);
  EXPECT_FALSE(report.valid);
  EXPECT_TRUE(report.torn_tail);
  EXPECT_EQ(report.bad_line, 5u);
  EXPECT_EQ(report.records, 4u);
  EXPECT_NE(report.reason.find("torn tail: "), std::string::npos) << report.reason;
}

TEST(Verify, LineThatIsNotJsonIsNamed) {
  auto lines = ValidLines(3);
  lines[1] = "garbage";
  VerifyReport report = VerifyText(Join(lines));
  EXPECT_EQ(report.bad_line, 2u);
  EXPECT_EQ(report.reason, "not a JSON object");
}

TEST(Verify, MissingFileIsAnError) {
  auto report = VerifyFile("/nonexistent/audit.jsonl");
  EXPECT_FALSE(report.ok());
}

}  // namespace
}  // namespace datacube::audit
