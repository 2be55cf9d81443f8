#include "datacube/base/units.h"

#include <gtest/gtest.h>

namespace datacube {
namespace {

TEST(UnitsTest, Sizes) {
  EXPECT_EQ(*ParseSize("0"), 0u);
  EXPECT_EQ(*ParseSize("600"), 600u);
  EXPECT_EQ(*ParseSize("64M"), 64ull << 20);
  EXPECT_EQ(*ParseSize("64m"), 64ull << 20);
  EXPECT_EQ(*ParseSize("1Gi"), 1ull << 30);
  EXPECT_EQ(*ParseSize("1GiB"), 1ull << 30);
  EXPECT_EQ(*ParseSize("512k"), 512ull << 10);
  EXPECT_EQ(*ParseSize("10MB"), 10'000'000u);
  EXPECT_EQ(*ParseSize("1.5G"), 3ull << 29);
  EXPECT_EQ(*ParseSize("2T"), 2ull << 40);
}

TEST(UnitsTest, BadSizesNameTheText) {
  for (const char* bad : {"", "M", "12X", "1.2.3", "-5", "10 MiBs"}) {
    auto r = ParseSize(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find(std::string("\"") + bad + "\""), std::string_view::npos);
  }
}

TEST(UnitsTest, Durations) {
  using std::chrono::milliseconds;
  EXPECT_EQ(*ParseDuration("600"), milliseconds(600'000));
  EXPECT_EQ(*ParseDuration("10m"), milliseconds(600'000));
  EXPECT_EQ(*ParseDuration("1h"), milliseconds(3'600'000));
  EXPECT_EQ(*ParseDuration("1h30m"), milliseconds(5'400'000));
  EXPECT_EQ(*ParseDuration("250ms"), milliseconds(250));
  EXPECT_EQ(*ParseDuration("1.5s"), milliseconds(1500));
  EXPECT_EQ(*ParseDuration("2d"), milliseconds(172'800'000));
  for (const char* bad : {"", "h", "10x", "1h30", "-1"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
}

TEST(UnitsTest, HugeValuesAreRefusedNotWrapped) {
  // 100000000h is about 11,000 years: as a wait it would overflow the clock and not wait at all.
  for (const char* huge : {"100000000h", "9999999999999999999999", "400d", "1e3"}) {
    auto r = ParseDuration(huge);
    ASSERT_FALSE(r.ok()) << huge;
    EXPECT_NE(r.status().message().find(std::string("\"") + huge + "\""), std::string_view::npos)
        << r.status().message();
  }
  EXPECT_EQ(*ParseDuration("366d"), kMaxDuration);
  for (const char* huge : {"99999999999999999999", "16E", "9999999P", "-1"}) {
    EXPECT_FALSE(ParseSize(huge).ok()) << huge;
  }
}

TEST(UnitsTest, Formatting) {
  EXPECT_EQ(FormatBytes(12), "12 B");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(FormatBytes(3ull << 30), "3.0 GiB");
  EXPECT_EQ(FormatDuration(std::chrono::milliseconds(120)), "120ms");
  EXPECT_EQ(FormatDuration(std::chrono::milliseconds(4200)), "4.2s");
  EXPECT_EQ(FormatDuration(std::chrono::milliseconds(3723000)), "1h02m03s");
}

}  // namespace
}  // namespace datacube
