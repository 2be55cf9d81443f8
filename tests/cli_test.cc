// End-to-end tests of the datacube binary on local directories: what a user types, what they
// get back (files, output, exit codes).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "testing/test_util/test_util.h"

namespace datacube::testing {
namespace {

CommandResult Dc(std::vector<std::string> args, CommandOptions options = {}) {
  args.insert(args.begin(), DatacubeBin());
  return RunCommand(args, options);
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::mkdir((tmp_ / "src").c_str(), 0755);
    ::mkdir((tmp_ / "src/sub dir").c_str(), 0755);
    ::mkdir((tmp_ / "src/日本語").c_str(), 0755);
    WriteFile(tmp_ / "src/config.json", "{\"a\":1}\n");
    WriteFile(tmp_ / "src/empty.txt", "");
    WriteFile(tmp_ / "src/sub dir/with space.bin", "spaces");
    WriteFile(tmp_ / "src/日本語/ünïcødé.txt", "utf8");
    big_sha_ = WriteRandomFile(tmp_ / "src/model.safetensors", (8 << 20) * 3 + 12345, 1);
  }
  TempDir tmp_;
  std::string big_sha_;
};

TEST_F(CliTest, CopiesADirectoryWithAwkwardNamesAndEmptyFiles) {
  auto r = Dc({"--progress", "none", "cp", tmp_ / "src", tmp_ / "dst"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ListFilesRecursive(tmp_ / "dst"),
            (std::vector<std::string>{"config.json", "empty.txt", "model.safetensors",
                                      "sub dir/with space.bin", "日本語/ünïcødé.txt"}));
  EXPECT_EQ(ReadFile(tmp_ / "dst/sub dir/with space.bin"), "spaces");
  EXPECT_EQ(ReadFile(tmp_ / "dst/日本語/ünïcødé.txt"), "utf8");
  EXPECT_EQ(ReadFile(tmp_ / "dst/empty.txt"), "");
  EXPECT_EQ(Sha256OfFile(tmp_ / "dst/model.safetensors"), big_sha_);
  EXPECT_NE(r.err.find("copied 5 files"), std::string::npos) << r.err;
  // Second run: nothing to copy.
  auto again = Dc({"--progress", "none", "cp", tmp_ / "src", tmp_ / "dst"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("copied 0 files"), std::string::npos) << again.err;
  EXPECT_NE(again.err.find("skipped 5"), std::string::npos) << again.err;
}

// AWS CLI habit: `cp -r DIR DST`. The flag changes nothing; the tree arrives exactly as without it.
TEST_F(CliTest, RecursiveFlagIsAcceptedAndCopiesTheSameTree) {
  const std::vector<std::string> tree{"config.json", "empty.txt", "model.safetensors",
                                      "sub dir/with space.bin", "日本語/ünïcødé.txt"};
  ASSERT_EQ(Dc({"-q", "cp", tmp_ / "src", tmp_ / "plain"}).exit_code, 0);
  for (const std::string flag : {"-r", "--recursive"}) {
    const std::string dst = tmp_ / ("dst" + flag);
    auto r = Dc({"--progress", "none", "cp", flag, tmp_ / "src", dst});
    ASSERT_EQ(r.exit_code, 0) << flag << ": " << r.err;
    EXPECT_NE(r.err.find("copied 5 files"), std::string::npos) << r.err;
    ASSERT_EQ(ListFilesRecursive(dst), tree) << flag;
    for (const auto& path : tree) {
      EXPECT_EQ(Sha256OfFile(dst + "/" + path), Sha256OfFile(tmp_ / ("plain/" + path)))
          << flag << " " << path;
    }
    auto sync = Dc({"-q", "sync", flag, tmp_ / "src", tmp_ / ("sync" + flag)});
    ASSERT_EQ(sync.exit_code, 0) << flag << ": " << sync.err;
    EXPECT_EQ(ListFilesRecursive(tmp_ / ("sync" + flag)), tree) << flag;
  }
}

TEST_F(CliTest, EmptyDirectoryCopiesNothingAndSucceeds) {
  ::mkdir((tmp_ / "nothing").c_str(), 0755);
  auto r = Dc({"--progress", "none", "cp", tmp_ / "nothing", tmp_ / "out"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("copied 0 files"), std::string::npos);
  EXPECT_TRUE(ListFilesRecursive(tmp_ / "out").empty());
}

TEST_F(CliTest, SingleFileToPathAndIntoDirectory) {
  ::mkdir((tmp_ / "d").c_str(), 0755);
  ASSERT_EQ(Dc({"-q", "cp", tmp_ / "src/config.json", tmp_ / "d/renamed.json"}).exit_code, 0);
  EXPECT_EQ(ReadFile(tmp_ / "d/renamed.json"), "{\"a\":1}\n");
  ASSERT_EQ(Dc({"-q", "cp", tmp_ / "src/config.json", tmp_ / "d"}).exit_code, 0);
  EXPECT_EQ(ReadFile(tmp_ / "d/config.json"), "{\"a\":1}\n");
  ASSERT_EQ(Dc({"-q", "cp", tmp_ / "src/empty.txt", tmp_ / "d/"}).exit_code, 0);
  EXPECT_TRUE(Exists(tmp_ / "d/empty.txt"));
}

TEST_F(CliTest, PvcLocationsResolveUnderThePvcRoot) {
  ::mkdir((tmp_ / "pvcs").c_str(), 0755);
  ::mkdir((tmp_ / "pvcs/models").c_str(), 0755);
  auto r = Dc({"-q", "--pvc-root", tmp_ / "pvcs", "cp", tmp_ / "src", "pvc://models/llama"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(tmp_ / "pvcs/models/llama/config.json"), "{\"a\":1}\n");
  auto env = Dc({"ls", "pvc://models/llama"}, {.env = {{"DATACUBE_PVC_ROOT", tmp_ / "pvcs"}}});
  ASSERT_EQ(env.exit_code, 0) << env.err;
  EXPECT_NE(env.out.find("config.json"), std::string::npos);
  auto missing = Dc({"ls", "pvc://nosuch/x"}, {.env = {{"DATACUBE_PVC_ROOT", tmp_ / "pvcs"}}});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("nosuch"), std::string::npos);
}

TEST_F(CliTest, ManifestAndVerifyDetectCorruption) {
  auto m = Dc({"manifest", tmp_ / "src"});
  ASSERT_EQ(m.exit_code, 0) << m.err;
  WriteFile(tmp_ / "m.jsonl", m.out);
  // Each line is {"path","size","sha256"}, sorted.
  size_t nl = m.out.find('\n');
  auto first = nlohmann::json::parse(m.out.substr(0, nl));
  EXPECT_EQ(first["path"], "config.json");
  EXPECT_EQ(first["size"], 8);
  EXPECT_EQ(first["sha256"].get<std::string>().size(), 64u);

  auto ok = Dc({"verify", tmp_ / "src", "--manifest", tmp_ / "m.jsonl"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  // Flip one byte in the middle of the big file, keep its size.
  {
    std::string path = tmp_ / "src/model.safetensors";
    FILE* f = std::fopen(path.c_str(), "r+b");
    std::fseek(f, 5 << 20, SEEK_SET);
    int c = std::fgetc(f);
    std::fseek(f, 5 << 20, SEEK_SET);
    std::fputc(c ^ 0xff, f);
    std::fclose(f);
  }
  ::unlink((tmp_ / "src/empty.txt").c_str());
  WriteFile(tmp_ / "src/stray.tmp", "x");
  auto bad = Dc({"verify", tmp_ / "src", "-m", tmp_ / "m.jsonl"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("corrupted: model.safetensors: SHA-256 is"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("missing: empty.txt"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("extra: stray.tmp"), std::string::npos) << bad.out;
}

TEST_F(CliTest, CopyWritesManifestOfWhatItMoved) {
  auto r = Dc({"-q", "cp", tmp_ / "src", tmp_ / "dst", "--manifest-out", tmp_ / "out.jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto v = Dc({"verify", tmp_ / "dst", "--manifest", tmp_ / "out.jsonl"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_NE(ReadFile(tmp_ / "out.jsonl").find(big_sha_), std::string::npos);
}

TEST_F(CliTest, SyncDeleteDryRunAndFilters) {
  ASSERT_EQ(Dc({"-q", "cp", tmp_ / "src", tmp_ / "dst"}).exit_code, 0);
  WriteFile(tmp_ / "dst/extra.bin", "old");
  auto dry =
      Dc({"--progress", "none", "sync", "--delete", "--dry-run", tmp_ / "src", tmp_ / "dst"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("would-delete extra.bin"), std::string::npos) << dry.out;
  EXPECT_TRUE(Exists(tmp_ / "dst/extra.bin"));
  auto real = Dc({"-q", "sync", "--delete", tmp_ / "src", tmp_ / "dst"});
  ASSERT_EQ(real.exit_code, 0) << real.err;
  EXPECT_FALSE(Exists(tmp_ / "dst/extra.bin"));

  auto filtered = Dc({"-q", "cp", "--include", "*.json", tmp_ / "src", tmp_ / "only-json"});
  ASSERT_EQ(filtered.exit_code, 0) << filtered.err;
  EXPECT_EQ(ListFilesRecursive(tmp_ / "only-json"), std::vector<std::string>{"config.json"});
}

TEST_F(CliTest, LsStatCatRm) {
  auto ls = Dc({"ls", tmp_ / "src"});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_NE(ls.out.find("config.json"), std::string::npos);
  EXPECT_NE(ls.out.find("sub dir/"), std::string::npos);  // one level, directories marked
  EXPECT_EQ(ls.out.find("with space.bin"), std::string::npos);
  auto lsr = Dc({"ls", "-R", "--json", tmp_ / "src"});
  EXPECT_NE(lsr.out.find("\"path\":\"sub dir/with space.bin\""), std::string::npos) << lsr.out;

  auto st = Dc({"stat", tmp_ / "src/config.json"});
  ASSERT_EQ(st.exit_code, 0) << st.err;
  auto j = nlohmann::json::parse(st.out);
  EXPECT_EQ(j["size"], 8);

  auto cat = Dc({"cat", tmp_ / "src/config.json", "--offset", "1", "--count", "4"});
  EXPECT_EQ(cat.exit_code, 0);
  EXPECT_EQ(cat.out, "\"a\":");

  EXPECT_EQ(Dc({"-q", "rm", tmp_ / "src/sub dir"}).exit_code, 2);  // a directory needs -r
  EXPECT_EQ(Dc({"-q", "rm", "-r", tmp_ / "src/sub dir"}).exit_code, 0);
  EXPECT_FALSE(Exists(tmp_ / "src/sub dir/with space.bin"));
}

TEST_F(CliTest, UsageErrorsExitTwoAndNameTheProblem) {
  auto r = Dc({"cp", "ftp://host/x", tmp_ / "d"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown scheme \"ftp\""), std::string::npos) << r.err;
  r = Dc({"cp", tmp_ / "src", tmp_ / "d", "--part-size", "12Q"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--part-size"), std::string::npos) << r.err;
  r = Dc({"cp", tmp_ / "src"});
  EXPECT_EQ(r.exit_code, 2);
  r = Dc({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  r = Dc({"cp", tmp_ / "no-such-thing", tmp_ / "d"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no-such-thing"), std::string::npos) << r.err;
}

TEST_F(CliTest, ProgressJsonIsOneObjectPerLine) {
  auto r = Dc({"--progress", "json", "cp", tmp_ / "src", tmp_ / "dst"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int files = 0, ticks = 0;
  size_t pos = 0;
  while (pos < r.err.size()) {
    size_t nl = r.err.find('\n', pos);
    std::string line = r.err.substr(pos, nl - pos);
    pos = nl == std::string::npos ? r.err.size() : nl + 1;
    if (line.empty() || line[0] != '{') continue;
    auto j = nlohmann::json::parse(line);
    if (j["event"] == "file") ++files;
    if (j["event"] == "progress") {
      ++ticks;
      EXPECT_TRUE(j.contains("bytesDone") && j.contains("filesTotal"));
    }
  }
  EXPECT_EQ(files, 5);
  EXPECT_GE(ticks, 1);
}

TEST_F(CliTest, VersionAndHelp) {
  auto v = Dc({"version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out.rfind("datacube ", 0), 0u);
  for (const char* cmd : {"cp", "sync", "ls", "stat", "cat", "rm", "manifest", "verify"}) {
    auto h = Dc({cmd, "--help"});
    EXPECT_EQ(h.exit_code, 0) << cmd;
    EXPECT_NE(h.out.find("Usage:"), std::string::npos) << cmd;
  }
}

}  // namespace
}  // namespace datacube::testing
