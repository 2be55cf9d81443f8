#include "datacube/base/glob.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace datacube {
namespace {

bool M(const char* pattern, const char* path) {
  auto g = GlobPattern::Compile(pattern);
  EXPECT_TRUE(g.ok()) << pattern;
  return g->Matches(path);
}

TEST(GlobTest, StarStaysInOneSegment) {
  EXPECT_TRUE(M("*.json", "config.json"));
  EXPECT_TRUE(M("*.json", "a/b/config.json"));  // unanchored: matches the last segments
  EXPECT_FALSE(M("*.json", "config.json.bak"));
  EXPECT_FALSE(M("/*.json", "a/config.json"));  // anchored at the root
  EXPECT_TRUE(M("/*.json", "config.json"));
}

TEST(GlobTest, DoubleStarCrossesSegments) {
  EXPECT_TRUE(M("tmp/**", "tmp/a/b/c"));
  EXPECT_TRUE(M("/tmp/**", "tmp/x"));
  EXPECT_FALSE(M("/tmp/**", "other/tmp2/x"));
  EXPECT_TRUE(M("/**/*.bin", "a.bin"));
  EXPECT_TRUE(M("/**/*.bin", "x/y/a.bin"));
}

TEST(GlobTest, ClassesQuestionAndBraces) {
  EXPECT_TRUE(M("model-0000[1-3]-*.safetensors", "model-00002-of-00003.safetensors"));
  EXPECT_FALSE(M("model-0000[1-3]-*.safetensors", "model-00004-of-00004.safetensors"));
  EXPECT_TRUE(M("[!a]*", "bcd"));
  EXPECT_FALSE(M("[!a]*", "abc"));
  EXPECT_TRUE(M("?.txt", "a.txt"));
  EXPECT_FALSE(M("?.txt", "ab.txt"));
  EXPECT_TRUE(M("*.{json,txt}", "x.txt"));
  EXPECT_TRUE(M("*.{json,txt}", "x.json"));
  EXPECT_FALSE(M("*.{json,txt}", "x.bin"));
}

TEST(GlobTest, BadPatternsAreErrors) {
  EXPECT_FALSE(GlobPattern::Compile("").ok());
  EXPECT_FALSE(GlobPattern::Compile("[abc").ok());
  auto r = GlobPattern::Compile("{a,b");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("{a,b"), std::string_view::npos);
}

TEST(GlobTest, PathologicalPatternsStayFastAndBounded) {
  // Without memoised backtracking each of these takes exponential time.
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(M("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", std::string(200, 'a').c_str()));
  EXPECT_FALSE(M("**a**a**a**a**a**a**a**a**a**a**a**b",
                 (std::string(60, 'a') + "/" + std::string(60, 'a')).c_str()));
  EXPECT_TRUE(M("*a*a*a*a*a*a*a*a*b", (std::string(200, 'a') + "b").c_str()));
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 2.0);
  // {a,b} groups multiply: 2^30 alternatives are refused, not built.
  std::string groups;
  for (int i = 0; i < 30; ++i) groups += "{a,b}";
  auto r = GlobPattern::Compile(groups);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("alternatives"), std::string_view::npos);
  EXPECT_TRUE(GlobPattern::Compile("{a,b}{c,d}{e,f}").ok());
  r = GlobPattern::Compile(std::string(5000, 'x'));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("longer than"), std::string_view::npos);
}

TEST(PathFilterTest, ExcludeWinsThenIncludeSelects) {
  PathFilter f;
  EXPECT_TRUE(f.Selected("anything"));
  ASSERT_TRUE(f.AddInclude("*.safetensors").ok());
  ASSERT_TRUE(f.AddInclude("config.json").ok());
  ASSERT_TRUE(f.AddExclude("/old/**").ok());
  EXPECT_TRUE(f.Selected("model.safetensors"));
  EXPECT_TRUE(f.Selected("sub/config.json"));
  EXPECT_FALSE(f.Selected("README.md"));
  EXPECT_FALSE(f.Selected("old/model.safetensors"));
}

}  // namespace
}  // namespace datacube
