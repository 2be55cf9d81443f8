#include "datacube/engine/manifest.h"

#include <gtest/gtest.h>

#include "datacube/crypto/sha256.h"
#include "datacube/storage/memory/memory_store.h"

namespace datacube::engine {
namespace {

TEST(ManifestTest, FormatParseRoundTrip) {
  std::vector<ManifestEntry> entries = {{"b/x.bin", 3, crypto::Sha256Hex("abc")},
                                        {"a \"quoted\" ü.txt", 0, crypto::Sha256Hex("")}};
  std::string text = FormatManifest(entries);
  EXPECT_EQ(text.substr(0, 10), "{\"path\":\"a");  // sorted, path first
  auto back = ParseManifest(text, "m.jsonl");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0], entries[1]);
  EXPECT_EQ((*back)[1], entries[0]);
  EXPECT_EQ(ManifestDigest(entries), ManifestDigest(*back));
}

TEST(ManifestTest, ParseErrorsNameFileAndLine) {
  auto r = ParseManifest("{\"path\":\"a\",\"size\":1,\"sha256\":\"" + std::string(64, 'a') +
                             "\"}\n{\"path\":\"b\",\"size\":-1,\"sha256\":\"x\"}\n",
                         "m.jsonl");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("m.jsonl:2"), std::string_view::npos);
  EXPECT_NE(r.status().message().find("size"), std::string_view::npos);
  EXPECT_FALSE(ParseManifest("not json\n", "x").ok());
}

TEST(ManifestTest, BuildAndVerifyFindMissingExtraCorrupted) {
  storage::MemoryStore store;
  store.SetObject("d/a", "alpha");
  store.SetObject("d/b", "bravo");
  store.SetObject("d/c", "charlie");
  auto manifest = BuildManifest(store, "d/", 2, nullptr);
  ASSERT_TRUE(manifest.ok());
  ASSERT_EQ(manifest->size(), 3u);
  EXPECT_EQ((*manifest)[0].path, "a");
  EXPECT_EQ((*manifest)[0].sha256, crypto::Sha256Hex("alpha"));

  auto clean = VerifyManifest(store, "d/", *manifest, 2, nullptr);
  ASSERT_TRUE(clean.ok());
  EXPECT_TRUE(clean->ok());
  EXPECT_EQ(clean->verified, 3u);

  store.SetObject("d/a", "alphA");   // same size, different bytes
  store.SetObject("d/b", "bravo!");  // different size
  ASSERT_TRUE(store.Delete("d/c").ok());
  store.SetObject("d/new", "x");
  auto bad = VerifyManifest(store, "d/", *manifest, 2, nullptr);
  ASSERT_TRUE(bad.ok());
  EXPECT_FALSE(bad->ok());
  EXPECT_EQ(bad->missing, std::vector<std::string>{"c"});
  EXPECT_EQ(bad->extra, std::vector<std::string>{"new"});
  ASSERT_EQ(bad->corrupted.size(), 2u);
  EXPECT_EQ(bad->corrupted[0].substr(0, 14), "a: SHA-256 is ");
  EXPECT_EQ(bad->corrupted[1].substr(0, 11), "b: size is ");
}

}  // namespace
}  // namespace datacube::engine
