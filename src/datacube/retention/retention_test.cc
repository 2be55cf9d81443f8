#include "datacube/retention/retention.h"

#include <gtest/gtest.h>

namespace datacube::retention {
namespace {

constexpr int64_t kDay = 86400LL * 1000 * 1000 * 1000;

policy::Policy TestPolicy() {
  policy::Policy p;
  policy::ClassRule ckpt;
  ckpt.name = "checkpoint";
  ckpt.retention = std::chrono::seconds(30 * 86400);
  ckpt.match = {"ckpt/**"};
  policy::ClassRule cache;
  cache.name = "inference-cache";
  cache.retention = std::chrono::seconds(86400);
  cache.age_from = "manifest-time";
  cache.match = {"cache/**"};
  policy::ClassRule weights;
  weights.name = "model-weights";
  weights.match = {"*.safetensors"};
  p.classes = {ckpt, cache, weights};
  return p;
}

TEST(Retention, ExpiresOnlyMatchedEntriesOlderThanTheirRule) {
  int64_t now = 100 * kDay;
  std::vector<Entry> entries = {
      {"ckpt/old.pt", now - 31 * kDay, {}},
      {"ckpt/new.pt", now - 29 * kDay, {}},
      {"cache/a.bin", now - 90 * kDay, now - 2 * kDay},
      {"cache/b.bin", now - 90 * kDay, now},
      {"model.safetensors", now - 99 * kDay, {}},
      {"notes/readme.txt", now - 99 * kDay, {}},
  };
  auto verdicts = Decide(TestPolicy(), entries, now);
  ASSERT_TRUE(verdicts.ok()) << verdicts.status().ToString();
  ASSERT_EQ(verdicts->size(), 6u);
  std::vector<bool> expired;
  for (const Verdict& v : *verdicts) expired.push_back(v.expired);
  EXPECT_EQ(expired, (std::vector<bool>{true, false, true, false, false, false}));
  EXPECT_EQ((*verdicts)[0].data_class, "checkpoint");
  EXPECT_EQ((*verdicts)[0].age, std::chrono::seconds(31 * 86400));
  EXPECT_EQ((*verdicts)[2].age, std::chrono::seconds(2 * 86400));  // manifest time, not object
  EXPECT_EQ((*verdicts)[4].reason, "kept: class has no retention");
  EXPECT_EQ((*verdicts)[5].reason, "kept: no class rule matches");
  EXPECT_EQ((*verdicts)[5].data_class, "");
}

TEST(Retention, ManifestTimeRuleKeepsWhatNoManifestLists) {
  auto verdicts = Decide(TestPolicy(), {{"cache/x", 0, {}}}, 100 * kDay);
  ASSERT_TRUE(verdicts.ok());
  EXPECT_FALSE((*verdicts)[0].expired);
  EXPECT_EQ((*verdicts)[0].reason, "kept: no manifest lists it");
}

TEST(Retention, ExpiresAFractionOfASecondPastTheRetention) {
  int64_t retention_ns = 30 * kDay;
  auto verdicts = Decide(TestPolicy(), {{"ckpt/late", 0, {}}, {"ckpt/exact", 1'000'000, {}}},
                         retention_ns + 1'000'000);
  ASSERT_TRUE(verdicts.ok());
  EXPECT_TRUE((*verdicts)[0].expired);  // 1 ms past: expired, although its age in whole s is 30 d
  EXPECT_EQ((*verdicts)[0].age, std::chrono::seconds(30 * 86400));
  EXPECT_FALSE((*verdicts)[1].expired);  // exactly the retention: kept
}

TEST(Retention, RejectsUnknownAgeFrom) {
  policy::Policy p = TestPolicy();
  p.classes[0].age_from = "creation";
  auto verdicts = Decide(p, {}, 0);
  ASSERT_FALSE(verdicts.ok());
  EXPECT_NE(verdicts.status().ToString().find("age_from must be object-time"), std::string::npos);
}

}  // namespace
}  // namespace datacube::retention
