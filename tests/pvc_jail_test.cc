// A PVC is a jail: whatever a volume already holds (symbolic links planted by another workload)
// and whatever a location or spec names ("..", absolute paths, NUL bytes), datacube never reads,
// writes or deletes outside the volume. Each case checks the error and that the directory outside
// is byte for byte what it was.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "testing/test_util/test_util.h"
#include "tests/hf_fixture_process.h"

namespace datacube::testing {
namespace {

namespace fs = std::filesystem;

// The symbolic link component at every depth of a subpath.
const std::vector<std::string> kLinkDepths = {"link", "a/link", "a/b/link"};

std::string Describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

class PvcJailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(tmp_ / "pvcs/vol/a/b");
    fs::create_directories(tmp_ / "outside/data");
    WriteFile(tmp_ / "outside/secret.txt", "do not read");
    WriteFile(tmp_ / "outside/data/keep.bin", "do not delete");
    fs::create_directories(tmp_ / "src/sub");
    WriteFile(tmp_ / "src/weights.bin", "weights");
    WriteFile(tmp_ / "src/sub/config.json", "{}");
    // Absolute links at the top, relative ones climbing out further down.
    ::symlink((tmp_ / "outside").c_str(), (tmp_ / "pvcs/vol/link").c_str());
    ::symlink("../../../outside", (tmp_ / "pvcs/vol/a/link").c_str());
    ::symlink((tmp_ / "outside").c_str(), (tmp_ / "pvcs/vol/a/b/link").c_str());
    outside_before_ = Snapshot(tmp_ / "outside");
    vol_before_ = Snapshot(tmp_ / "pvcs");
  }

  // Every file below `dir` with its content, symbolic links as "-> target".
  std::map<std::string, std::string> Snapshot(const std::string& dir) {
    std::map<std::string, std::string> out;
    for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
         ++it) {
      std::string rel = fs::relative(it->path(), dir).string();
      if (it->is_symlink()) {
        out[rel] = "-> " + fs::read_symlink(it->path()).string();
      } else if (it->is_regular_file()) {
        out[rel] = ReadFile(it->path());
      } else {
        out[rel] = "<dir>";
      }
    }
    return out;
  }

  CommandResult Dc(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    std::vector<std::string> argv = {DatacubeBin(), "--progress", "none", "--pvc-root",
                                     tmp_ / "pvcs"};
    argv.insert(argv.end(), args.begin(), args.end());
    CommandOptions o;
    o.env = std::move(env);
    o.timeout = std::chrono::seconds(120);
    return RunCommand(argv, o);
  }

  void ExpectRefused(const CommandResult& r, const std::string& names) {
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_NE(r.err.find(names), std::string::npos)
        << "expected the error to name " << names << "\n"
        << Describe(r);
  }

  void ExpectOutsideUntouched() { EXPECT_EQ(Snapshot(tmp_ / "outside"), outside_before_); }
  void ExpectVolumeUntouched() { EXPECT_EQ(Snapshot(tmp_ / "pvcs"), vol_before_); }

  TempDir tmp_;
  std::map<std::string, std::string> outside_before_, vol_before_;
};

TEST_F(PvcJailTest, DownloadThroughALinkAtEveryDepthWritesNothingOutside) {
  for (const std::string& l : kLinkDepths) {
    SCOPED_TRACE(l);
    // The link as a middle component, and as the last one (the destination directory itself).
    for (const std::string& dst :
         {"pvc://vol/" + l + "/x", "pvc://vol/" + l, "pvc://vol/" + l + "/data"}) {
      SCOPED_TRACE(dst);
      auto r = Dc({"cp", tmp_ / "src", dst});
      ExpectRefused(r, "outside");
      auto one = Dc({"cp", tmp_ / "src/weights.bin", dst + "/weights.bin"});
      ExpectRefused(one, "outside");
    }
  }
  ExpectOutsideUntouched();
  ExpectVolumeUntouched();
}

TEST_F(PvcJailTest, UploadThroughALinkAtEveryDepthReadsNothingOutside) {
  for (const std::string& l : kLinkDepths) {
    SCOPED_TRACE(l);
    std::string out = tmp_ / ("up-" + std::to_string(&l - kLinkDepths.data()));
    auto tree = Dc({"cp", "pvc://vol/" + l, out});
    ExpectRefused(tree, "outside");
    auto file = Dc({"cp", "pvc://vol/" + l + "/secret.txt", out + "/secret.txt"});
    ExpectRefused(file, "outside");
    auto deeper = Dc({"cp", "pvc://vol/" + l + "/data", out});
    ExpectRefused(deeper, "outside");
    auto cat = Dc({"cat", "pvc://vol/" + l + "/secret.txt"});
    EXPECT_NE(cat.exit_code, 0);
    EXPECT_EQ(cat.out.find("do not read"), std::string::npos);
    auto ls = Dc({"ls", "pvc://vol/" + l + "/"});
    EXPECT_NE(ls.exit_code, 0) << Describe(ls);
    EXPECT_EQ(ls.out.find("secret.txt"), std::string::npos) << ls.out;
    EXPECT_FALSE(fs::exists(out)) << out;
  }
  // A tree copy of the whole volume does not follow the links either: they are reported.
  auto whole = Dc({"cp", "pvc://vol", tmp_ / "whole"});
  EXPECT_EQ(whole.exit_code, 0) << Describe(whole);
  EXPECT_FALSE(fs::exists(tmp_ / "whole/link/secret.txt"));
  EXPECT_FALSE(fs::exists(tmp_ / "whole/a/link/secret.txt"));
  EXPECT_NE(whole.err.find("3 symbolic links"), std::string::npos) << Describe(whole);
  ExpectOutsideUntouched();
}

TEST_F(PvcJailTest, SyncDeleteThroughALinkAtEveryDepthDeletesNothingOutside) {
  for (const std::string& l : kLinkDepths) {
    SCOPED_TRACE(l);
    auto into = Dc({"sync", "--delete", tmp_ / "src", "pvc://vol/" + l});
    ExpectRefused(into, "outside");
    auto below = Dc({"sync", "--delete", tmp_ / "src", "pvc://vol/" + l + "/data"});
    ExpectRefused(below, "outside");
  }
  // Syncing into the directory that holds a link: the link is no object of the sink, so neither
  // it nor anything behind it is deleted.
  auto holder = Dc({"sync", "--delete", tmp_ / "src", "pvc://vol/a"});
  EXPECT_EQ(holder.exit_code, 0) << Describe(holder);
  EXPECT_EQ(ReadFile(tmp_ / "pvcs/vol/a/weights.bin"), "weights");
  EXPECT_TRUE(fs::is_symlink(tmp_ / "pvcs/vol/a/link"));
  EXPECT_TRUE(fs::is_symlink(tmp_ / "pvcs/vol/a/b/link"));
  ExpectOutsideUntouched();
}

TEST_F(PvcJailTest, DotDotInAPvcLocationIsRefusedForEveryCommand) {
  for (const std::string& loc : std::vector<std::string>{
           "pvc://vol/../../outside", "pvc://../outside", "pvc://vol/a/../..",
           "pvc://vol/a/../../../outside/data", "pvc://..", "pvc://./vol", "pvc://vol//outside"}) {
    SCOPED_TRACE(loc);
    std::string quoted = loc;
    ExpectRefused(Dc({"cp", tmp_ / "src", loc}), quoted);
    ExpectRefused(Dc({"cp", loc, tmp_ / "dl"}), quoted);
    ExpectRefused(Dc({"ls", loc}), quoted);
    ExpectRefused(Dc({"rm", loc + "/secret.txt"}), quoted);
    ExpectRefused(Dc({"rm", loc + "/data/keep.bin"}), quoted);
    ExpectRefused(Dc({"sync", "--delete", tmp_ / "src", loc}), quoted);
    ExpectRefused(Dc({"sync", loc, tmp_ / "dl"}), quoted);
  }
  EXPECT_FALSE(fs::exists(tmp_ / "dl"));
  ExpectOutsideUntouched();
  ExpectVolumeUntouched();
}

TEST_F(PvcJailTest, AVolumeDirectoryThatLinksOutIsRefused) {
  ::symlink((tmp_ / "outside").c_str(), (tmp_ / "pvcs/evil").c_str());
  ExpectRefused(Dc({"cp", tmp_ / "src", "pvc://evil/x"}), "outside");
  ExpectRefused(Dc({"ls", "pvc://evil"}), "outside");
  ExpectRefused(Dc({"cp", "pvc://evil", tmp_ / "dl"}), "outside");
  ExpectRefused(Dc({"sync", "--delete", tmp_ / "src", "pvc://evil"}), "outside");
  ExpectRefused(Dc({"rm", "pvc://evil/secret.txt"}), "outside");
  EXPECT_FALSE(fs::exists(tmp_ / "dl"));
  ExpectOutsideUntouched();
  // A volume directory that is a link to another volume stays inside the PVC root.
  ::symlink("vol", (tmp_ / "pvcs/alias").c_str());
  auto alias = Dc({"cp", tmp_ / "src/weights.bin", "pvc://alias/w.bin"});
  EXPECT_EQ(alias.exit_code, 0) << Describe(alias);
  EXPECT_EQ(ReadFile(tmp_ / "pvcs/vol/w.bin"), "weights");
}

TEST_F(PvcJailTest, RmThroughALinkDeletesNothingOutside) {
  for (const std::string& l : kLinkDepths) {
    SCOPED_TRACE(l);
    ExpectRefused(Dc({"rm", "pvc://vol/" + l + "/data/keep.bin"}), "outside");
  }
  // Even the link itself is refused as a location: resolving it would leave the volume.
  ExpectRefused(Dc({"rm", "pvc://vol/link"}), "outside");
  EXPECT_TRUE(fs::is_symlink(tmp_ / "pvcs/vol/link"));
  ExpectOutsideUntouched();
}

// --- From services into a PVC ------------------------------------------------------------------

struct S3Env {
  std::string endpoint, access_key, secret_key;
};

std::optional<S3Env> S3FromEnv() {
  auto e = Env("DATACUBE_TEST_S3_ENDPOINT");
  auto a = Env("DATACUBE_TEST_S3_ACCESS_KEY");
  auto s = Env("DATACUBE_TEST_S3_SECRET_KEY");
  if (!e || !a || !s) return std::nullopt;
  return S3Env{*e, *a, *s};
}

class PvcJailS3Test : public PvcJailTest {
 protected:
  void SetUp() override {
    auto s3 = S3FromEnv();
    if (!s3) {
      if (ServersRequired()) FAIL() << "DATACUBE_TEST_S3_* not set (testing/servers/rgw.sh)";
      GTEST_SKIP() << "S3 test server not running";
    }
    s3_ = *s3;
    PvcJailTest::SetUp();
    prefix_ = "s3://bucket/pvc-jail/" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + "/";
    auto up = S3({"cp", tmp_ / "src", prefix_});
    ASSERT_EQ(up.exit_code, 0) << Describe(up);
    fs::create_directories(tmp_ / "secrets/s3");
    WriteFile(tmp_ / "secrets/s3/endpoint", s3_.endpoint);
    WriteFile(tmp_ / "secrets/s3/accessKeyID", s3_.access_key);
    WriteFile(tmp_ / "secrets/s3/secretAccessKey", s3_.secret_key);
  }
  CommandResult S3(std::vector<std::string> args) {
    args.insert(args.end(), {"--endpoint", s3_.endpoint});
    return Dc(args,
              {{"AWS_ACCESS_KEY_ID", s3_.access_key}, {"AWS_SECRET_ACCESS_KEY", s3_.secret_key}});
  }
  // A cube downloading this test's prefix into pvc `vol` at `sub_path`.
  std::string Cube(const std::string& sub_path, bool sync) {
    std::string text =
        "apiVersion: tensorstack.dev/v1beta1\nkind: DataCube\nmetadata: {name: jail}\n"
        "spec:\n  source:\n    type: s3\n    options:\n"
        "    - {name: s3-endpoint, valueFrom: {secretKeyRef: {name: s3, key: endpoint}}}\n"
        "    - {name: s3-access-key-id, valueFrom: {secretKeyRef: {name: s3, key: accessKeyID}}}\n"
        "    - {name: s3-secret-access-key, valueFrom: {secretKeyRef: {name: s3, key: "
        "secretAccessKey}}}\n"
        "    - {name: s3-uri, value: \"" +
        prefix_ + "\"}\n  sink:\n    type: pvc\n    pvc: {name: vol, subPath: \"" + sub_path +
        "\"}\n" + (sync ? "  executor:\n    options: {sync: true}\n" : "");
    std::string path = tmp_ / "cube.yaml";
    WriteFile(path, text);
    return path;
  }
  CommandResult Run(const std::string& cube) {
    return Dc({"run", "-f", cube, "--secrets-dir", tmp_ / "secrets", "--status-file",
               tmp_ / "status.yaml", "--attempt-backoff", "10ms"});
  }
  S3Env s3_;
  std::string prefix_;
};

TEST_F(PvcJailS3Test, CpFromS3ThroughALinkAtEveryDepthWritesNothingOutside) {
  for (const std::string& l : kLinkDepths) {
    SCOPED_TRACE(l);
    ExpectRefused(S3({"cp", prefix_, "pvc://vol/" + l + "/x"}), "outside");
    ExpectRefused(S3({"cp", prefix_, "pvc://vol/" + l}), "outside");
    ExpectRefused(S3({"sync", "--delete", prefix_, "pvc://vol/" + l}), "outside");
    ExpectRefused(S3({"cp", prefix_ + "weights.bin", "pvc://vol/" + l + "/w.bin"}), "outside");
  }
  ExpectOutsideUntouched();
  ExpectVolumeUntouched();
}

TEST_F(PvcJailS3Test, CubeWithSyncIntoALinkedSubPathAtEveryDepthTouchesNothingOutside) {
  for (const std::string& l : kLinkDepths) {
    for (const std::string& sub : {l, l + "/data"}) {
      SCOPED_TRACE(sub);
      auto r = Run(Cube(sub, true));
      EXPECT_NE(r.exit_code, 0) << Describe(r);
      EXPECT_NE((r.out + r.err).find("outside"), std::string::npos) << Describe(r);
    }
  }
  ExpectOutsideUntouched();
  ExpectVolumeUntouched();
  // The same cube into a plain subPath works, so the refusals above are the links'.
  auto ok = Run(Cube("a/fresh", true));
  EXPECT_EQ(ok.exit_code, 0) << Describe(ok);
  EXPECT_EQ(ReadFile(tmp_ / "pvcs/vol/a/fresh/weights.bin"), "weights");
}

TEST_F(PvcJailS3Test, CubeSubPathWithDotDotOrNulIsRefusedBeforeAnythingRuns) {
  for (const std::string& sub : {std::string("../outside"), std::string("a/../../outside"),
                                 std::string("a\\0b"), std::string("/abs")}) {
    SCOPED_TRACE(sub);
    auto r = Run(Cube(sub, true));
    EXPECT_NE(r.exit_code, 0) << Describe(r);
    std::string said = r.out + r.err;
    EXPECT_TRUE(said.find("subPath") != std::string::npos ||
                said.find("inside the PVC") != std::string::npos)
        << Describe(r);
  }
  EXPECT_FALSE(fs::exists(tmp_ / "pvcs/vol/a/weights.bin"));
  EXPECT_FALSE(fs::exists(tmp_ / "pvcs/vol/weights.bin"));
  ExpectOutsideUntouched();
  ExpectVolumeUntouched();
}

TEST_F(PvcJailTest, CpFromHuggingFaceThroughALinkAtEveryDepthWritesNothingOutside) {
  HfFixtureProcess hub;
  ASSERT_TRUE(hub.ok()) << hub.log();
  hub.Seed("dc-test/jail", nlohmann::json::array({{{"path", "config.json"}, {"content", "{}"}}}));
  for (const std::string& l : kLinkDepths) {
    SCOPED_TRACE(l);
    ExpectRefused(Dc({"cp", "hf://dc-test/jail", "pvc://vol/" + l + "/x"}, hub.Env(hub.read_token)),
                  "outside");
    ExpectRefused(Dc({"cp", "hf://dc-test/jail", "pvc://vol/" + l}, hub.Env(hub.read_token)),
                  "outside");
  }
  ExpectOutsideUntouched();
  ExpectVolumeUntouched();
}

}  // namespace
}  // namespace datacube::testing
