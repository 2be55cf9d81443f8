#include "datacube/location/location.h"

#include <gtest/gtest.h>

namespace datacube {
namespace {

struct Case {
  const char* text;
  Scheme scheme;
  const char* authority;
  const char* path;
  const char* canonical;  // nullptr: same as text
};

class LocationRoundTrip : public ::testing::TestWithParam<Case> {};

TEST_P(LocationRoundTrip, ParsesAndPrintsBack) {
  const Case& c = GetParam();
  auto loc = ParseLocation(c.text);
  ASSERT_TRUE(loc.ok()) << c.text << ": " << loc.status().ToString();
  EXPECT_EQ(loc->scheme, c.scheme);
  EXPECT_EQ(loc->authority, c.authority);
  EXPECT_EQ(loc->path, c.path);
  std::string printed = loc->ToString();
  EXPECT_EQ(printed, c.canonical ? c.canonical : c.text);
  auto again = ParseLocation(printed);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *loc);
}

INSTANTIATE_TEST_SUITE_P(
    AllSchemes, LocationRoundTrip,
    ::testing::Values(
        Case{"/abs/path", Scheme::kFile, "", "/abs/path", nullptr},
        Case{"./rel/dir", Scheme::kFile, "", "./rel/dir", nullptr},
        Case{"rel", Scheme::kFile, "", "rel", nullptr},
        Case{"file:///abs/x%20y", Scheme::kFile, "", "/abs/x y", "/abs/x y"},
        Case{"pvc://models/llama/v1", Scheme::kPvc, "models", "llama/v1", nullptr},
        Case{"pvc://data", Scheme::kPvc, "data", "", nullptr},
        Case{"s3://bucket/prefix/key.bin", Scheme::kS3, "bucket", "prefix/key.bin", nullptr},
        Case{"s3://bucket", Scheme::kS3, "bucket", "", nullptr},
        Case{"s3://bucket/dir/", Scheme::kS3, "bucket", "dir/", nullptr},
        Case{"cw://my-bucket/ckpt", Scheme::kCoreWeave, "my-bucket", "ckpt", nullptr},
        Case{"cw://my-bucket.cwobject.com/ckpt", Scheme::kCoreWeave, "my-bucket", "ckpt",
             "cw://my-bucket/ckpt"},
        Case{"gs://gbucket/data", Scheme::kGcs, "gbucket", "data", nullptr},
        Case{"az://account/container/blob/path", Scheme::kAzure, "account", "blob/path", nullptr},
        Case{"hf://openai/whisper-large-v3", Scheme::kHuggingFace, "", "", nullptr},
        Case{"hf://datasets/org/set@v1.0/train", Scheme::kHuggingFace, "", "train", nullptr},
        Case{"hf://spaces/org/app", Scheme::kHuggingFace, "", "", nullptr},
        Case{"hf://models/org/m", Scheme::kHuggingFace, "", "", "hf://org/m"},
        Case{"hf://org/m@refs/pr/3/sub/f.txt", Scheme::kHuggingFace, "", "sub/f.txt", nullptr},
        Case{"hf://org/m@feature%2Fx", Scheme::kHuggingFace, "", "", nullptr},
        Case{"git+https://github.com/user/repo.git", Scheme::kGit, "github.com", "", nullptr},
        Case{"git+https://host:8443/a/b.git@v1.2", Scheme::kGit, "host:8443", "", nullptr},
        Case{"git+http://127.0.0.1:9/r.git", Scheme::kGit, "127.0.0.1:9", "", nullptr},
        Case{"https://example.com/files/a.bin?sig=1", Scheme::kHttp, "example.com", "files/a.bin",
             nullptr},
        Case{"http://127.0.0.1:8080/x", Scheme::kHttp, "127.0.0.1:8080", "x", nullptr}));

TEST(LocationTest, HuggingFaceFields) {
  auto loc = ParseLocation("hf://datasets/org/set@refs/pr/12/data/train.parquet");
  ASSERT_TRUE(loc.ok());
  EXPECT_EQ(loc->repo_type, "dataset");
  EXPECT_EQ(loc->repo, "org/set");
  EXPECT_EQ(loc->revision, "refs/pr/12");
  EXPECT_EQ(loc->path, "data/train.parquet");
  auto slashed = ParseLocation("hf://org/m@feature%2Fx/a");
  ASSERT_TRUE(slashed.ok());
  EXPECT_EQ(slashed->revision, "feature/x");
  EXPECT_EQ(slashed->path, "a");
}

TEST(LocationTest, GitFields) {
  auto loc = ParseLocation("git+https://host/owner/repo.git@main");
  ASSERT_TRUE(loc.ok());
  EXPECT_EQ(loc->repo, "owner/repo.git");
  EXPECT_EQ(loc->revision, "main");
  EXPECT_TRUE(loc->tls);
}

TEST(LocationTest, AzureContainer) {
  auto loc = ParseLocation("az://acct/cont");
  ASSERT_TRUE(loc.ok());
  EXPECT_EQ(loc->container, "cont");
  EXPECT_EQ(loc->path, "");
}

TEST(LocationTest, ErrorsSayWhatIsWrong) {
  struct Bad {
    const char* text;
    const char* needle;
  };
  for (const Bad& b :
       {Bad{"", "empty"}, Bad{"ftp://x/y", "unknown scheme \"ftp\""},
        Bad{"s3://", "bucket name is missing"}, Bad{"az://acct", "container is missing"},
        Bad{"hf://justname", "ORG/NAME"}, Bad{"pvc://Bad_Name/x", "DNS-1123"},
        Bad{"cw://cwobject.com/bucket", "virtual-hosted"},
        Bad{"git+https://tok123@github.com/u/r.git", "credentials"},
        Bad{"https://user:pw@h/x", "credentials"}, Bad{"hf://org/m@/x", "revision"}}) {
    auto loc = ParseLocation(b.text);
    ASSERT_FALSE(loc.ok()) << b.text;
    EXPECT_EQ(loc.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(loc.status().message().find(b.needle), std::string_view::npos)
        << b.text << " -> " << loc.status().message();
  }
}

TEST(LocationTest, PvcLocationsCannotLeaveTheVolume) {
  for (const char* text :
       {"pvc://vol/../x", "pvc://vol/../../etc", "pvc://vol/a/../../x", "pvc://vol/a/..",
        "pvc://../x", "pvc://..", "pvc://./x", "pvc://.vol/x", "pvc://vol./x", "pvc://vol//etc",
        "pvc://vol/a//b", "pvc://vol/./a", "pvc://vol/a/.", "pvc://vol/x?y=1"}) {
    auto loc = ParseLocation(text);
    ASSERT_FALSE(loc.ok()) << text;
    EXPECT_EQ(loc.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_NE(loc.status().message().find(text), std::string_view::npos)
        << text << " -> " << loc.status().message();
  }
  // A NUL inside the text is refused and shown escaped, not truncated.
  auto nul = ParseLocation(std::string_view("pvc://vol/a\0b", 13));
  ASSERT_FALSE(nul.ok());
  EXPECT_NE(nul.status().message().find("pvc://vol/a\\x00b"), std::string_view::npos)
      << nul.status().message();
  // A trailing '/' names the directory and stays allowed.
  auto dir = ParseLocation("pvc://vol/a/b/");
  ASSERT_TRUE(dir.ok());
  EXPECT_EQ(dir->path, "a/b/");
}

TEST(LocationTest, PvcPartsAreCheckedForLocationsBuiltElsewhere) {
  EXPECT_TRUE(ValidatePvcPath("").ok());
  EXPECT_TRUE(ValidatePvcPath("models/llama/").ok());
  EXPECT_TRUE(ValidatePvcPath("..hidden/x..y").ok());
  for (std::string_view bad :
       {std::string_view("a/../b"), std::string_view(".."), std::string_view("/etc"),
        std::string_view("a\0b", 3), std::string_view("a\tb"), std::string_view("a//b")}) {
    Status s = ValidatePvcPath(bad);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("inside the PVC"), std::string_view::npos) << s.message();
  }
  EXPECT_NE(ValidatePvcPath(std::string_view("a\0b", 3)).message().find("NUL"),
            std::string_view::npos);
  EXPECT_TRUE(ValidatePvcName("my-vol.v2").ok());
  for (const char* bad : {"", ".", "..", "-a", "a-", "A", "a_b", "a/b"}) {
    EXPECT_EQ(ValidatePvcName(bad).code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(LocationTest, CredentialsNeverEchoed) {
  auto loc = ParseLocation("git+https://ghp_SECRET@github.com/u/r.git");
  ASSERT_FALSE(loc.ok());
  EXPECT_EQ(loc.status().message().find("ghp_SECRET"), std::string_view::npos);
}

TEST(LocationTest, FileUrlPathsPrintBackAsFileUrls) {
  // A path holding "://" can only be written as a file:// URL; printed bare it would read back
  // as a URL of another scheme.
  auto loc = ParseLocation("file:///abs/x%20Ygit+http://127.0.0.1");
  ASSERT_TRUE(loc.ok()) << loc.status().ToString();
  EXPECT_EQ(loc->path, "/abs/x Ygit+http://127.0.0.1");
  EXPECT_EQ(loc->ToString(), "file:///abs/x%20Ygit%2Bhttp%3A//127.0.0.1");
  auto again = ParseLocation(loc->ToString());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, *loc);
}

TEST(LocationTest, CoreWeaveBucketsEndingInAHostSuffixPrintBack) {
  for (const char* text : {"cw://my.cwlota.com.cwobject.com/ckpt", "cw://cwobject.com.cwlota.com/x",
                           "cw://a.cwobject.com.cwobject.com"}) {
    auto loc = ParseLocation(text);
    ASSERT_TRUE(loc.ok()) << text << ": " << loc.status().ToString();
    auto again = ParseLocation(loc->ToString());
    ASSERT_TRUE(again.ok()) << loc->ToString() << ": " << again.status().ToString();
    EXPECT_EQ(*again, *loc) << text << " -> " << loc->ToString();
  }
  EXPECT_EQ(ParseLocation("cw://my.cwlota.com.cwobject.com/ckpt")->ToString(),
            "cw://my.cwlota.com.cwobject.com/ckpt");
  EXPECT_EQ(ParseLocation("cw://plain.bucket/ckpt")->ToString(), "cw://plain.bucket/ckpt");
}

TEST(LocationTest, ModelsOfAnOrganisationNamedLikeATypeKeepTheirPrefix) {
  auto loc = ParseLocation("hf://models/datasets/org/f.txt");
  ASSERT_TRUE(loc.ok()) << loc.status().ToString();
  EXPECT_EQ(loc->repo_type, "model");
  EXPECT_EQ(loc->repo, "datasets/org");
  EXPECT_EQ(loc->ToString(), "hf://models/datasets/org/f.txt");
  EXPECT_EQ(*ParseLocation(loc->ToString()), *loc);
}

TEST(LocationTest, EscapedControlCharactersAreRefusedLikeRawOnes) {
  for (const char* text : {"file:///a%00b", "file:///a%0Ab", "file:///%7F"}) {
    auto loc = ParseLocation(text);
    ASSERT_FALSE(loc.ok()) << text;
    EXPECT_EQ(loc.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(loc.status().message().find("control characters"), std::string_view::npos);
  }
}

TEST(LocationTest, PercentCoding) {
  EXPECT_EQ(PercentEncode("a b/c", true), "a%20b/c");
  EXPECT_EQ(PercentEncode("a/b", false), "a%2Fb");
  EXPECT_EQ(*PercentDecode("a%20b%2f"), "a b/");
  EXPECT_FALSE(PercentDecode("%zz").ok());
}

}  // namespace
}  // namespace datacube

namespace datacube {
namespace {

// A refs/convert/ or refs/pr/ tail that needs encoding ('%', control characters) is printed
// encoded, so the canonical form parses back to the same revision.
TEST(LocationCanonical, RefTailsThatNeedEncodingAreEncoded) {
  for (const char* text : {"hf://org/m@refs/convert/a%25b", "hf://org/m@refs/convert/r%1a",
                           "hf://org/m@refs/pr/1%0a"}) {
    auto first = ParseLocation(text);
    ASSERT_TRUE(first.ok()) << text << ": " << first.status().ToString();
    auto again = ParseLocation(first->ToString());
    ASSERT_TRUE(again.ok()) << first->ToString() << ": " << again.status().ToString();
    EXPECT_EQ(again->revision, first->revision) << text;
  }
  // A plain tail stays as written.
  EXPECT_EQ(ParseLocation("hf://org/m@refs/convert/parquet")->ToString(),
            "hf://org/m@refs/convert/parquet");
}

}  // namespace
}  // namespace datacube
