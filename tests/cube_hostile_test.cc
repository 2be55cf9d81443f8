// `datacube run` and `validate-cube` against hostile specs and inputs, end to end: huge and
// deeply nested documents, endless or blocking files, exponential $(NAME) references, values run
// would refuse, a cube trying to move the PVC root, and status or manifest paths that are not
// regular files. Each case asserts the clear error and the exit code, that a status is written
// where one was asked for, and that nothing was created, copied or replaced.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <filesystem>

#include "testing/test_util/test_util.h"

namespace datacube::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// An S3 download into a PVC that the run would create from its template.
std::string Cube(const std::string& source_options = "", const std::string& tail = "") {
  return "apiVersion: tensorstack.dev/v1beta1\nkind: DataCube\nmetadata:\n  name: hostile\n"
         "spec:\n  source:\n    type: s3\n    options:\n"
         "    - {name: s3-endpoint, value: \"http://127.0.0.1:1\"}\n"
         "    - {name: s3-access-key-id, value: AKID}\n"
         "    - {name: s3-secret-access-key, valueFrom: {secretKeyRef: {name: s3, key: secret}}}\n"
         "    - {name: s3-uri, value: \"s3://bucket/path\"}\n" +
         source_options +
         "  sink:\n    type: pvc\n    pvc:\n      name: vol\n      subPath: data\n"
         "      template:\n        spec:\n          accessModes: [ReadWriteOnce]\n"
         "          resources: {requests: {storage: 1Gi}}\n" +
         tail;
}

struct Outcome {
  CommandResult cmd;
  YAML::Node status;  // the status file's `status`, null when none was written
  double seconds = 0;
  std::string Reason() const {
    if (!status) return "";
    for (const auto& c : status["conditions"]) {
      if (c["type"].as<std::string>() == "Failed") return c["reason"].as<std::string>();
    }
    return "";
  }
  std::string Phase() const { return status ? status["phase"].as<std::string>() : ""; }
};

class CubeHostileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ / "pvc");
    fs::create_directories(dir_ / "secrets/s3");
    WriteFile(dir_ / "secrets/s3/secret", "hostile-test-secret");
  }

  CommandResult Datacube(std::vector<std::string> args, CommandOptions o = {}) {
    args.insert(args.begin(), DatacubeBin());
    if (!o.timeout) o.timeout = std::chrono::seconds(30);
    return RunCommand(args, o);
  }

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_ / name;
    WriteFile(path, text);
    return path;
  }

  std::string Fifo(const std::string& name) {
    std::string path = dir_ / name;
    EXPECT_EQ(::mkfifo(path.c_str(), 0600), 0);
    return path;
  }

  // `run -f file` with a status file; `extra` flags appended.
  Outcome Run(const std::string& file, std::vector<std::string> extra = {}, CommandOptions o = {}) {
    std::string status_file = dir_ / ("status-" + std::to_string(++runs_) + ".yaml");
    std::vector<std::string> args = {"run",
                                     "-f",
                                     file,
                                     "--pvc-root",
                                     dir_ / "pvc",
                                     "--secrets-dir",
                                     dir_ / "secrets",
                                     "--status-file",
                                     status_file,
                                     "--progress",
                                     "none"};
    args.insert(args.end(), extra.begin(), extra.end());
    Outcome out;
    auto start = Clock::now();
    out.cmd = Datacube(args, o);
    out.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (Exists(status_file)) out.status = YAML::Load(ReadFile(status_file))["status"];
    return out;
  }

  CommandResult Validate(const std::string& file) {
    return Datacube({"validate-cube", "-f", file});
  }

  // Nothing may exist below the PVC root after a refused run: no volume, no data.
  void ExpectNothingCreated() { EXPECT_TRUE(ListFilesRecursive(dir_ / "pvc").empty()); }
  void ExpectVolumeNotCreated() { EXPECT_FALSE(fs::exists(dir_ / "pvc/vol")); }

  void ExpectFailedInvalidSpec(const Outcome& r, const std::string& message) {
    EXPECT_EQ(r.cmd.exit_code, 2) << r.cmd.err;
    EXPECT_EQ(r.cmd.signal, 0);
    EXPECT_EQ(r.Phase(), "Failed") << r.cmd.err;
    EXPECT_EQ(r.Reason(), "InvalidSpec") << r.cmd.err;
    EXPECT_NE(r.cmd.err.find(message), std::string::npos) << r.cmd.err.substr(0, 2000);
    ExpectVolumeNotCreated();
  }

  TempDir dir_;
  int runs_ = 0;
};

TEST_F(CubeHostileTest, FortyKilobyteNumberLikeScalarIsAnErrorNotACrash) {
  std::string cube =
      Write("number.yaml", Cube("", "  executor:\n    options:\n      backoffLimit: " +
                                        std::string(40'000, '7') + "\n"));
  auto v = Validate(cube);
  EXPECT_EQ(v.exit_code, 2) << v.err;
  EXPECT_EQ(v.signal, 0);
  EXPECT_NE(v.err.find("spec.executor.options.backoffLimit"), std::string::npos);
  ExpectFailedInvalidSpec(Run(cube), "spec.executor.options.backoffLimit");
}

TEST_F(CubeHostileTest, DeepNestingNamesTheLine) {
  std::string cube = Write("deep.yaml", "apiVersion: tensorstack.dev/v1beta1\nmetadata:\n  name: " +
                                            std::string(100'000, '[') + "\n");
  auto v = Validate(cube);
  EXPECT_EQ(v.exit_code, 2);
  EXPECT_NE(v.err.find("line 3: nesting too deep"), std::string::npos) << v.err;
  EXPECT_EQ(v.err.find("bad file"), std::string::npos) << v.err;
  ExpectFailedInvalidSpec(Run(cube), "nesting too deep");
}

TEST_F(CubeHostileTest, FilenameMustBeARegularFile) {
  fs::create_directories(dir_ / "cube-dir");
  auto v = Validate(dir_ / "cube-dir");
  EXPECT_EQ(v.exit_code, 2);
  EXPECT_NE(v.err.find("is a directory, not a regular file"), std::string::npos) << v.err;
  EXPECT_EQ(v.err.find("found 0"), std::string::npos);
  ExpectFailedInvalidSpec(Run(dir_ / "cube-dir"), "is a directory");

  // A FIFO without a writer is refused at once instead of blocking forever.
  std::string fifo = Fifo("cube.fifo");
  auto start = Clock::now();
  v = Validate(fifo);
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 10.0);
  EXPECT_EQ(v.exit_code, 2);
  EXPECT_NE(v.err.find("is a FIFO, not a regular file"), std::string::npos) << v.err;
  Outcome r = Run(fifo);
  EXPECT_LT(r.seconds, 10.0);
  ExpectFailedInvalidSpec(r, "is a FIFO");

  Outcome zero = Run("/dev/zero");
  EXPECT_LT(zero.seconds, 10.0);
  ExpectFailedInvalidSpec(zero, "is a character device");
}

TEST_F(CubeHostileTest, EndlessStandardInputStopsAtTheCap) {
  // `yes | datacube run -f -`: an endless spec on standard input.
  std::string status_file = dir_ / "stdin-status.yaml";
  CommandOptions o;
  o.timeout = std::chrono::seconds(60);
  auto start = Clock::now();
  auto r =
      RunCommand({"sh", "-c", "yes | exec \"$0\" run -f - --pvc-root \"$1\" --status-file \"$2\"",
                  DatacubeBin(), dir_ / "pvc", status_file},
                 o);
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 30.0);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("standard input is larger than 4 MiB"), std::string::npos) << r.err;
  ASSERT_TRUE(Exists(status_file));
  EXPECT_EQ(YAML::Load(ReadFile(status_file))["status"]["phase"].as<std::string>(), "Failed");
  ExpectNothingCreated();
}

TEST_F(CubeHostileTest, SpecOverTheSizeCapStillWritesAStatus) {
  std::string cube = Write("huge.yaml", Cube() + "# " + std::string(5 << 20, 'x') + "\n");
  ExpectFailedInvalidSpec(Run(cube), "larger than 4 MiB");
}

TEST_F(CubeHostileTest, ExponentialReferencesFailWithTheFieldPathNotBadAlloc) {
  std::string env = "  executor:\n    env:\n";
  for (int i = 0; i < 30; ++i) {
    std::string next = "$(V" + std::to_string(i + 1) + ")";
    env +=
        "    - {name: V" + std::to_string(i) + ", value: \"" + next + next + next + next + "\"}\n";
  }
  env += "    - {name: V30, value: \"xxxxxxxxxxxxxxxx\"}\n";
  std::string cube = Write("laughs.yaml", Cube("", env));
  auto v = Validate(cube);
  EXPECT_EQ(v.exit_code, 2);
  EXPECT_NE(v.err.find("expands to more than 64 KiB"), std::string::npos) << v.err;
  Outcome r = Run(cube);
  EXPECT_LT(r.seconds, 10.0);
  ExpectFailedInvalidSpec(r, "spec.executor.env[");
  EXPECT_NE(r.Phase(), "Pending");
}

TEST_F(CubeHostileTest, ValidateAndRunAgree) {
  struct Case {
    std::string name, text, message;
  };
  std::string git =
      "apiVersion: tensorstack.dev/v1beta1\nkind: DataCube\nmetadata: {name: g}\nspec:\n"
      "  source:\n    type: git\n    options:\n"
      "    - {name: url, value: \"http://127.0.0.1:1/o/r.git\"}\n"
      "    - {name: depth, value: \"-1\"}\n"
      "  sink:\n    type: pvc\n    pvc:\n      name: vol\n      template:\n        spec:\n"
      "          accessModes: [ReadWriteOnce]\n"
      "          resources: {requests: {storage: 1Gi}}\n";
  std::vector<Case> cases = {
      {"addressing", Cube("    - {name: s3-addressing, value: sideways}\n"),
       "spec.source.options[4].value: option \"s3-addressing\""},
      {"depth", git, "spec.source.options[1].value: option \"depth\""},
      {"nul", Cube("    - {name: s3-region, value: \"us\\0east\"}\n"), "U+0000"},
      {"deadline", Cube("", "  executor:\n    options:\n      activeDeadlineSeconds: 9300000000\n"),
       "spec.executor.options.activeDeadlineSeconds"},
      {"git-timeout",
       git.replace(git.find("{name: depth, value: \"-1\"}"), 26, "{name: timeout, value: 1ms}"),
       "must be between 1s and 24h"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::string cube = Write(c.name + ".yaml", c.text);
    auto v = Validate(cube);
    EXPECT_EQ(v.exit_code, 2) << v.err;
    EXPECT_NE(v.err.find(c.message), std::string::npos) << v.err;
    ExpectFailedInvalidSpec(Run(cube), c.message);
  }
}

TEST_F(CubeHostileTest, ValuesFromSecretsAreCheckedBeforeAnythingRuns) {
  WriteFile(dir_ / "secrets/s3/addressing", "sideways");
  std::string cube = Write(
      "secret-addressing.yaml",
      Cube(
          "    - {name: s3-addressing, valueFrom: {secretKeyRef: {name: s3, key: addressing}}}\n"));
  EXPECT_EQ(Validate(cube).exit_code, 0);  // the value is not known yet
  ExpectFailedInvalidSpec(Run(cube), "option \"s3-addressing\"");
}

TEST_F(CubeHostileTest, DurationsAreBounded) {
  std::string cube = Write("ok.yaml", Cube());
  ExpectFailedInvalidSpec(Run(cube, {"--attempt-backoff", "48h"}),
                          "--attempt-backoff: \"48h\" must be at most 24h");
  // Beyond what any duration may be, the parser itself refuses it instead of wrapping.
  ExpectFailedInvalidSpec(Run(cube, {"--attempt-backoff", "100000000h"}),
                          "--attempt-backoff: duration \"100000000h\" is too long");
  ExpectFailedInvalidSpec(Run(cube, {"--status-interval", "1000000h"}), "--status-interval");
}

TEST_F(CubeHostileTest, ExecutorEnvCannotMoveThePvcRoot) {
  fs::create_directories(dir_ / "elsewhere");
  std::string cube = Write(
      "root.yaml", Cube("", "  executor:\n    env:\n    - {name: DATACUBE_PVC_ROOT, value: \"" +
                                (dir_ / "elsewhere") + "\"}\n"));
  auto v = Validate(cube);
  EXPECT_EQ(v.exit_code, 2);
  EXPECT_NE(v.err.find("spec.executor.env[0].name: \"DATACUBE_PVC_ROOT\" is reserved"),
            std::string::npos)
      << v.err;
  ExpectFailedInvalidSpec(Run(cube), "is reserved");
  EXPECT_TRUE(ListFilesRecursive(dir_ / "elsewhere").empty());
  EXPECT_FALSE(fs::exists(dir_ / "elsewhere/vol"));
}

TEST_F(CubeHostileTest, StatusFileThatIsNotARegularFileIsNeverReplaced) {
  std::string fifo = Fifo("status.fifo");
  std::string cube = Write("ok.yaml", Cube());
  auto r = Datacube({"run", "-f", cube, "--pvc-root", dir_ / "pvc", "--secrets-dir",
                     dir_ / "secrets", "--status-file", fifo});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--status-file " + fifo + " is a FIFO"), std::string::npos) << r.err;
  struct stat st;
  ASSERT_EQ(::lstat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  ExpectNothingCreated();
}

TEST_F(CubeHostileTest, ManifestPathsAreReadCappedAndReplacedOnlyWhenRegular) {
  fs::create_directories(dir_ / "tree");
  WriteFile(dir_ / "tree/a.txt", "a");
  auto start = Clock::now();
  auto v = Datacube({"verify", dir_ / "tree", "--manifest", "/dev/zero"});
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 10.0);
  EXPECT_EQ(v.exit_code, 2) << v.err;
  EXPECT_NE(v.err.find("manifest /dev/zero is a character device"), std::string::npos) << v.err;
  v = Datacube({"verify", dir_ / "tree", "--manifest", Fifo("in.fifo")});
  EXPECT_EQ(v.exit_code, 2);
  EXPECT_NE(v.err.find("is a FIFO"), std::string::npos) << v.err;

  std::string out_fifo = Fifo("out.fifo");
  auto m = Datacube({"manifest", dir_ / "tree", "-o", out_fifo});
  EXPECT_EQ(m.exit_code, 2) << m.err;
  EXPECT_NE(m.err.find("is a FIFO; only a regular file is ever replaced"), std::string::npos);
  auto cp = Datacube(
      {"--progress", "none", "cp", dir_ / "tree", dir_ / "copy", "--manifest-out", out_fifo});
  EXPECT_EQ(cp.exit_code, 2) << cp.err;
  EXPECT_NE(cp.err.find("--manifest-out " + out_fifo + " is a FIFO"), std::string::npos) << cp.err;
  EXPECT_FALSE(fs::exists(dir_ / "copy/a.txt"));  // refused before anything moved
  // The Hugging Face commands take the same flag, refused before any request.
  CommandOptions no_hub;
  no_hub.env = {{"HF_ENDPOINT", "http://127.0.0.1:1"}};
  auto hf = Datacube({"--progress", "none", "hf", "download", "org/name", "--local-dir",
                      dir_ / "hf", "--manifest-out", out_fifo},
                     no_hub);
  EXPECT_EQ(hf.exit_code, 2) << hf.err;
  EXPECT_NE(hf.err.find("--manifest-out " + out_fifo + " is a FIFO"), std::string::npos) << hf.err;
  EXPECT_FALSE(fs::exists(dir_ / "hf"));
  struct stat st;
  ASSERT_EQ(::lstat(out_fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
}

TEST_F(CubeHostileTest, SecretThatIsAFifoOrADirectoryIsNamedAsSuch) {
  fs::remove(dir_ / "secrets/s3/secret");
  Fifo("secrets/s3/secret");
  std::string cube = Write("ok.yaml", Cube());
  Outcome r = Run(cube);
  EXPECT_LT(r.seconds, 10.0);
  ExpectFailedInvalidSpec(r, "key \"secret\": ");
  EXPECT_NE(r.cmd.err.find("is a FIFO, not a regular file"), std::string::npos) << r.cmd.err;
  EXPECT_EQ(r.cmd.err.find("no file"), std::string::npos) << r.cmd.err;

  fs::remove(dir_ / "secrets/s3/secret");
  fs::create_directories(dir_ / "secrets/s3/secret");
  r = Run(cube);
  ExpectFailedInvalidSpec(r, "is a directory, not a regular file");
}

}  // namespace
}  // namespace datacube::testing
