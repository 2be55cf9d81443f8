#include "datacube/storage/s3/s3_listing.h"

#include <gtest/gtest.h>

namespace datacube::storage::s3 {
namespace {

ListObjectsPage Page(std::vector<std::string> keys, std::string next = "",
                     std::vector<std::string> prefixes = {}) {
  ListObjectsPage p;
  for (auto& k : keys) p.objects.push_back({k, 1, "", std::nullopt});
  p.common_prefixes = std::move(prefixes);
  p.truncated = !next.empty();
  p.next_continuation_token = std::move(next);
  return p;
}

std::string Message(const Status& s) { return std::string(s.message()); }

TEST(S3ListingTest, CursorRoundTripsAndForeignTokensPassThrough) {
  ListCursor c{"tok:1:x", "p/a\nb", "p/d/", 7};
  ListCursor back = DecodeListCursor(EncodeListCursor(c));
  EXPECT_EQ(back.server_token, c.server_token);
  EXPECT_EQ(back.last_key, c.last_key);
  EXPECT_EQ(back.last_prefix, c.last_prefix);
  EXPECT_EQ(back.empty_pages, 7u);
  EXPECT_EQ(DecodeListCursor("plain-token").server_token, "plain-token");
  EXPECT_EQ(DecodeListCursor("dc1:99:short").server_token, "dc1:99:short");
}

TEST(S3ListingTest, KeysOutsideThePrefixAreRefusedNotRemapped) {
  ListCursor c;
  Status s = CheckListPage({"p/", true, true}, Page({"p/a", "q/zzevil"}), c);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(Message(s).find("\"q/zzevil\" is outside the requested prefix \"p/\""),
            std::string::npos)
      << Message(s);
  ListCursor c2;
  s = CheckListPage({"p/", false, true}, Page({}, "", {"x/"}), c2);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(Message(s).find("common prefix \"x/\""), std::string::npos) << Message(s);
}

TEST(S3ListingTest, RepeatedContinuationTokenIsRefused) {
  ListCursor c;
  ASSERT_TRUE(CheckListPage({"", true, true}, Page({"a"}, "T"), c).ok());
  EXPECT_EQ(c.server_token, "T");
  // The answer to token T names T again (with nothing new): an endless loop.
  Status s = CheckListPage({"", true, true}, Page({}, "T"), c);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(Message(s).find("same token again"), std::string::npos) << Message(s);
}

TEST(S3ListingTest, PagesThatGoBackwardsAreRefused) {
  // A token that leads back to an earlier page brings keys already listed.
  ListCursor c;
  ASSERT_TRUE(CheckListPage({"", true, true}, Page({"a", "b"}, "T1"), c).ok());
  ASSERT_TRUE(CheckListPage({"", true, true}, Page({"c"}, "T2"), c).ok());
  Status s = CheckListPage({"", true, true}, Page({"a", "b"}, "T1"), c);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(Message(s).find("does not sort after \"c\""), std::string::npos) << Message(s);
  // Within one page too.
  ListCursor c2;
  EXPECT_FALSE(CheckListPage({"", true, true}, Page({"b", "a"}), c2).ok());
  // Directory buckets are not ordered: only the order check is skipped.
  ListCursor c3;
  EXPECT_TRUE(CheckListPage({"", true, false}, Page({"b", "a"}), c3).ok());
}

TEST(S3ListingTest, EndlessEmptyPagesAreRefused) {
  ListCursor c;
  Status s;
  uint32_t pages = 0;
  for (; pages < 1000 && s.ok(); ++pages) {
    s = CheckListPage({"", true, true}, Page({}, "T" + std::to_string(pages % 2)), c);
  }
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_EQ(pages, kMaxEmptyPagesInARow + 1);
  EXPECT_NE(Message(s).find("never end"), std::string::npos) << Message(s);
}

TEST(S3ListingTest, OversizedPagesAreRefused) {
  std::vector<std::string> keys;
  for (int i = 0; i < 1001; ++i) keys.push_back("k" + std::to_string(100000 + i));
  ListCursor c;
  EXPECT_EQ(CheckListPage({"", true, true}, Page(keys), c).code(), StatusCode::kInternal);
}

TEST(S3ListingTest, QuoteKeyEscapesControlCharactersInHex) {
  EXPECT_EQ(QuoteKey("a\nb\x1b[31m\x7f\"\\"), "\"a\\nb\\x1b[31m\\x7f\\\"\\\\\"");
}

}  // namespace
}  // namespace datacube::storage::s3
