#include "datacube/engine/planner.h"

#include <gtest/gtest.h>

namespace datacube::engine {
namespace {

storage::ObjectInfo Obj(uint64_t size, std::string sha = "", std::optional<int64_t> mtime = {}) {
  storage::ObjectInfo o;
  o.size = size;
  o.sha256 = std::move(sha);
  o.mtime_ns = mtime;
  return o;
}

constexpr int64_t kSec = 1'000'000'000;

TEST(PlannerTest, DecideRules) {
  struct Case {
    storage::ObjectInfo src;
    std::optional<storage::ObjectInfo> dst;
    CompareMode mode;
    PlanAction want;
    const char* reason;
  };
  const std::string a(64, 'a'), b(64, 'b');
  std::vector<Case> cases = {
      {Obj(1), std::nullopt, CompareMode::kSizeAndTime, PlanAction::kCopy, "new"},
      {Obj(1), Obj(2), CompareMode::kSizeAndTime, PlanAction::kCopy, "size differs"},
      {Obj(5, a), Obj(5, a), CompareMode::kSizeAndTime, PlanAction::kSkip, "same SHA-256"},
      {Obj(5, a), Obj(5, b), CompareMode::kSizeAndTime, PlanAction::kCopy, "content differs"},
      // Hashes win over times.
      {Obj(5, a, 1 * kSec), Obj(5, b, 1 * kSec), CompareMode::kSizeAndTime, PlanAction::kCopy,
       "content differs"},
      {Obj(5, "", 10 * kSec), Obj(5, "", 10 * kSec + 5), CompareMode::kSizeAndTime,
       PlanAction::kSkip, "same size and time"},
      {Obj(5, "", 10 * kSec), Obj(5, "", 20 * kSec), CompareMode::kSizeAndTime, PlanAction::kCopy,
       "modification time differs"},
      {Obj(5), Obj(5), CompareMode::kSizeAndTime, PlanAction::kSkip, "same size"},
      {Obj(5, "", 1), Obj(5, "", 99 * kSec), CompareMode::kChecksum, PlanAction::kCopy,
       "no SHA-256 to compare"},
      {Obj(5, a), Obj(5, a), CompareMode::kChecksum, PlanAction::kSkip, "same SHA-256"},
      {Obj(5, a), Obj(5, b), CompareMode::kSizeOnly, PlanAction::kSkip, "same size"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    PlanItem item = Decide("f", cases[i].src, cases[i].dst, cases[i].mode);
    EXPECT_EQ(item.action, cases[i].want) << "case " << i;
    EXPECT_EQ(item.reason, cases[i].reason) << "case " << i;
  }
}

TEST(PlannerTest, DeletesOnlyWhenAsked) {
  std::map<std::string, storage::ObjectInfo> src = {{"keep", Obj(1)}, {"new", Obj(2)}};
  std::map<std::string, storage::ObjectInfo> dst = {{"keep", Obj(1)}, {"extra", Obj(3)}};
  auto plan = Plan(src, dst, {CompareMode::kSizeAndTime, false});
  ASSERT_EQ(plan.size(), 2u);
  plan = Plan(src, dst, {CompareMode::kSizeAndTime, true});
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_EQ(plan[2].action, PlanAction::kDelete);
  EXPECT_EQ(plan[2].rel, "extra");
  EXPECT_EQ(plan[0].rel, "keep");
  EXPECT_EQ(plan[0].action, PlanAction::kSkip);
  EXPECT_EQ(plan[1].action, PlanAction::kCopy);
}

TEST(PlannerTest, AFileThatIsAlsoADirectoryConflictsOnAFileSystemDestination) {
  std::map<std::string, storage::ObjectInfo> src = {
      {"a", Obj(1)}, {"a/b", Obj(2)}, {"a.txt", Obj(3)}, {"ab", Obj(4)}, {"c", Obj(5)}};
  PlanOptions tree;
  tree.tree_destination = true;
  auto plan = Plan(src, {}, tree);
  std::map<std::string, PlanAction> got;
  for (const auto& item : plan) got[item.rel] = item.action;
  EXPECT_EQ(got["a"], PlanAction::kConflict);
  EXPECT_EQ(got["a/b"], PlanAction::kCopy);
  EXPECT_EQ(got["a.txt"], PlanAction::kCopy);  // sorts between "a" and "a/b"
  EXPECT_EQ(got["ab"], PlanAction::kCopy);
  EXPECT_EQ(got["c"], PlanAction::kCopy);
  for (const auto& item : plan) {
    if (item.rel == "a") EXPECT_NE(item.reason.find("\"a/b\""), std::string::npos) << item.reason;
  }
  // An object store holds both keys happily.
  for (const auto& item : Plan(src, {}, PlanOptions{})) {
    EXPECT_EQ(item.action, PlanAction::kCopy) << item.rel;
  }
}

TEST(PlannerTest, ConflictsWithWhatTheDestinationAlreadyHolds) {
  std::map<std::string, storage::ObjectInfo> src = {
      {"d", Obj(1)}, {"f/x", Obj(2)}, {"g/h/i", Obj(3)}};
  std::map<std::string, storage::ObjectInfo> dst = {
      {"d/old", Obj(1)}, {"f", Obj(2)}, {"g/h", Obj(3)}};
  auto conflicts = FindPathConflicts(src, dst);
  ASSERT_EQ(conflicts.size(), 3u);
  EXPECT_NE(conflicts["d"].find("directory"), std::string::npos);
  EXPECT_NE(conflicts["f/x"].find("file \"f\""), std::string::npos);
  EXPECT_NE(conflicts["g/h/i"].find("file \"g/h\""), std::string::npos);
  EXPECT_TRUE(FindPathConflicts({{"x/y", Obj(1)}}, {{"x/z", Obj(1)}}).empty());
}

}  // namespace
}  // namespace datacube::engine
