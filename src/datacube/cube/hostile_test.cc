// Hostile specs and inputs: every parser is linear and bounded, validation and run agree, and
// nothing a cube says can move the PVC root or replace a device node.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "datacube/cube/cube_transfer.h"
#include "datacube/cube/expand.h"
#include "datacube/cube/field_reader.h"
#include "datacube/cube/loader.h"
#include "datacube/cube/resolve.h"
#include "datacube/cube/runner.h"
#include "datacube/cube/validate.h"
#include "datacube/cube/yaml_tree.h"
#include "datacube/engine/manifest.h"
#include "datacube/io/small_file.h"

namespace datacube::cube {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// A valid S3 download; tests add or replace pieces.
std::string Cube(const std::string& source_options, const std::string& tail = "",
                 const std::string& sink = "    pvc: {name: data, subPath: models}\n") {
  return "apiVersion: tensorstack.dev/v1beta1\nkind: DataCube\nmetadata:\n  name: hostile\n"
         "spec:\n  source:\n    type: s3\n    options:\n"
         "    - {name: s3-endpoint, value: \"http://127.0.0.1:9000\"}\n"
         "    - {name: s3-access-key-id, value: AKID}\n"
         "    - {name: s3-secret-access-key, valueFrom: {secretKeyRef: {name: s3, key: secret}}}\n"
         "    - {name: s3-uri, value: \"s3://bucket/path\"}\n" +
         source_options + "  sink:\n    type: pvc\n" + sink + tail;
}

LoadResult Load(const std::string& text) { return LoadCube(text, "cube.yaml", {}); }

std::string Errors(const LoadResult& r) { return std::string(r.status().message()); }

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("spec-hostile-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& rel) const { return (dir_ / rel).string(); }
  std::string Fifo(const std::string& rel) const {
    std::string p = Path(rel);
    EXPECT_EQ(::mkfifo(p.c_str(), 0600), 0);
    return p;
  }
  fs::path dir_;
};

// --- Item: parsers are linear and bounded -------------------------------------------------

TEST(HostileParsers, ScalarTypingIsLinearOnHugeNumberLikeScalars) {
  // Each of these used to recurse once per character in std::regex and overflow the stack.
  for (std::string s : {std::string(40'000, '1'), "1." + std::string(40'000, '1'),
                        "1." + std::string(40'000, '1') + "e", "0x" + std::string(40'000, 'f'),
                        "-" + std::string(1 << 20, '9') + "x"}) {
    YamlNode n;
    n.kind = YamlNode::Kind::kScalar;
    n.scalar = s;
    (void)n.scalar_type();
  }
  auto typed = [](const std::string& s) {
    YamlNode n;
    n.kind = YamlNode::Kind::kScalar;
    n.scalar = s;
    return n.scalar_type();
  };
  using T = YamlNode::ScalarType;
  for (const char* s : {"0", "+12", "-7", "0x1F", "0o17"}) EXPECT_EQ(typed(s), T::kInt) << s;
  for (const char* s : {"1.5", "1.", ".5", "1e5", "-1.5E-3", ".inf", "-.Inf", ".nan", "+.INF"}) {
    EXPECT_EQ(typed(s), T::kFloat) << s;
  }
  for (const char* s : {"0x", "0o8", "1_000", "1.5.2", "e5", ".", "1e", "abc", "0xg", "--1"}) {
    EXPECT_EQ(typed(s), T::kString) << s;
  }
}

TEST(HostileParsers, FortyKilobyteNumberLikeValueIsAnOrdinaryError) {
  std::string text =
      Cube("", "  executor:\n    options:\n      backoffLimit: " + std::string(40'000, '1') + "\n");
  LoadResult r = Load(text);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(Errors(r).find("spec.executor.options.backoffLimit"), std::string::npos) << Errors(r);
  // A long float-like name is a string of the wrong shape, not a crash.
  r = Load(Cube("", "", "    pvc: {name: \"1." + std::string(40'000, '1') + "\"}\n"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(Errors(r).find("spec.sink.pvc.name"), std::string::npos);
}

TEST(HostileParsers, NameMatchersAreLinearWithCaps) {
  std::string huge(1 << 20, 'a');
  EXPECT_FALSE(IsDns1123Subdomain(huge));
  EXPECT_FALSE(IsConfigKey(huge));
  EXPECT_FALSE(IsEnvVarName(huge));
  EXPECT_FALSE(IsDns1123Subdomain(std::string(100'000, 'a') + "-"));
  EXPECT_TRUE(IsDns1123Subdomain("a-b.c1"));
  EXPECT_FALSE(IsDns1123Subdomain("a..b"));
  EXPECT_FALSE(IsDns1123Subdomain("-a"));
  EXPECT_FALSE(IsDns1123Subdomain("A"));
  EXPECT_TRUE(IsConfigKey("tls.crt"));
  EXPECT_FALSE(IsConfigKey(".."));
  EXPECT_TRUE(IsEnvVarName("HTTPS_PROXY"));
  EXPECT_FALSE(IsEnvVarName("1A"));
  // Quantities and Hugging Face repository ids of megabytes are refused, not backtracked.
  std::string storage = Cube("", "",
                             "    pvc:\n      name: data\n      template:\n        spec:\n"
                             "          accessModes: [ReadWriteOnce]\n"
                             "          resources: {requests: {storage: \"" +
                                 std::string(100'000, '1') + "x\"}}\n");
  LoadResult r = Load(storage);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(Errors(r).find("resources.requests.storage"), std::string::npos) << Errors(r);
  for (const char* q : {"100Gi", "1.5Ti", "500M", "1e3", "250m"}) {
    std::string ok = Cube("", "",
                          "    pvc:\n      name: data\n      template:\n        spec:\n"
                          "          accessModes: [ReadWriteOnce]\n"
                          "          resources: {requests: {storage: \"" +
                              std::string(q) + "\"}}\n");
    EXPECT_TRUE(Load(ok).ok()) << q << ": " << Errors(Load(ok));
  }
  std::string hf =
      "apiVersion: tensorstack.dev/v1beta1\nkind: DataCube\nmetadata: {name: x}\nspec:\n"
      "  source:\n    type: huggingface\n    options:\n    - {name: repo, value: \"a/" +
      std::string(200'000, 'b') + "!\"}\n  sink:\n    type: pvc\n    pvc: {name: data}\n";
  r = Load(hf);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(Errors(r).find("spec.source.options[0].value"), std::string::npos);
}

TEST(HostileParsers, HugeUnknownKeysAreReportedQuickly) {
  std::string text = Cube("");
  // Explicit keys ("? key"): implicit ones are limited to 1024 characters by YAML itself.
  for (int i = 0; i < 3; ++i) {
    text += "? " + std::string(1 << 20, static_cast<char>('a' + i)) + "\n: 1\n";
  }
  auto start = Clock::now();
  LoadResult r = Load(text);
  EXPECT_LT(SecondsSince(start), 5.0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.diagnostics.errors().size(), 3u) << Errors(r).substr(0, 300);
}

TEST(HostileParsers, DeepFlowNestingIsRefusedBeforeYamlCppRecurses) {
  std::string text =
      "apiVersion: tensorstack.dev/v1beta1\nmetadata:\n  name: " + std::string(1 << 20, '[') + "\n";
  LoadResult r = Load(text);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(Errors(r).find("line 3: nesting too deep"), std::string::npos) << Errors(r);
  EXPECT_EQ(Errors(r).find("bad file"), std::string::npos);
}

TEST(HostileParsers, DeepBlockNestingNamesTheLine) {
  std::string text = "apiVersion: tensorstack.dev/v1beta1\nkind: DataCube\nmetadata:\n";
  for (int i = 0; i < 3000; ++i) text += std::string(2 * (i + 1), ' ') + "k:\n";
  LoadResult r = Load(text);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(Errors(r).find("nesting too deep"), std::string::npos) << Errors(r).substr(0, 300);
  EXPECT_NE(Errors(r).find("line "), std::string::npos);
  // "- - - -" compact lists count as levels as well.
  std::string compact = "a:\n";
  for (int i = 0; i < 3000; ++i) compact += "- ";
  compact += "x\n";
  r = Load(compact);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(Errors(r).find("line 2: nesting too deep"), std::string::npos) << Errors(r);
}

TEST(HostileParsers, NestingJustOverTheLimitIsReportedByTheConverter) {
  // 70 levels: under the pre-scan's margin, over the tree's limit of 64.
  std::string text =
      "apiVersion: tensorstack.dev/v1beta1\nkind: DataCube\nmetadata:\n  name: x\n"
      "  labels: " +
      std::string(70, '[') + std::string(70, ']') + "\n";
  LoadResult r = Load(text);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(Errors(r).find("nesting too deep"), std::string::npos) << Errors(r);
  EXPECT_NE(Errors(r).find("line 5"), std::string::npos) << Errors(r);
}

TEST(HostileParsers, BlockScalarsAndQuotesDoNotCountAsNesting) {
  std::string deep_text;
  for (int i = 0; i < 300; ++i) deep_text += std::string(6 + i, ' ') + "[[[{{ line\n";
  std::string text =
      "apiVersion: tensorstack.dev/v1beta1\nkind: DataCube\nmetadata:\n  name: x\n"
      "  annotations:\n    note: |\n" +
      deep_text +
      "    other: \"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"\n" +
      "    third: '{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{'\n"
      "spec:\n  source:\n    type: s3\n    options:\n"
      "    - {name: s3-endpoint, value: \"http://127.0.0.1:9000\"}\n"
      "    - {name: s3-access-key-id, value: AKID}\n"
      "    - {name: s3-secret-access-key, value: x}\n"
      "    - {name: s3-uri, value: \"s3://bucket/path\"}\n"
      "  sink:\n    type: pvc\n    pvc: {name: data}\n";
  LoadResult r = Load(text);
  EXPECT_TRUE(r.ok()) << Errors(r);
  // A block scalar as a list item: its content may start in the item's own column.
  std::string items = "a:\n- |\n";
  for (int i = 0; i < 200; ++i) items += "  [[[{{ x\n";
  items += "- b\n";
  auto docs = ParseYamlDocuments(items, "items.yaml");
  EXPECT_TRUE(docs.ok()) << docs.status().message();
}

TEST(HostileParsers, ExponentialReferencesFailValidationWithTheFieldPath) {
  // 30 variables, each quoting the next four times: 4^30 bytes if expanded.
  std::string env = "  executor:\n    env:\n";
  for (int i = 0; i < 30; ++i) {
    std::string next = "$(V" + std::to_string(i + 1) + ")";
    env +=
        "    - {name: V" + std::to_string(i) + ", value: \"" + next + next + next + next + "\"}\n";
  }
  env += "    - {name: V30, value: \"xxxxxxxx\"}\n";
  auto start = Clock::now();
  LoadResult r = Load(Cube("", env));
  EXPECT_LT(SecondsSince(start), 2.0);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(Errors(r).find("spec.executor.env["), std::string::npos) << Errors(r);
  EXPECT_NE(Errors(r).find("expands to more than 64 KiB"), std::string::npos) << Errors(r);
}

TEST(HostileParsers, ExpansionOfSecretValuesIsCappedAtRunTime) {
  // Validation cannot see a Secret's size; the resolver caps the expansion itself.
  std::string env =
      "  executor:\n    env:\n"
      "    - {name: BIG, valueFrom: {secretKeyRef: {name: s3, key: big}}}\n"
      "    - {name: USE, value: \"$(BIG)$(BIG)\"}\n";
  LoadResult r = Load(Cube("", env));
  ASSERT_TRUE(r.ok()) << Errors(r);
  ValueSources sources;
  sources.getenv = [](const std::string& name) -> std::optional<std::string> {
    if (name == "DATACUBE_ENV_BIG") return std::string(40'000, 'b');
    if (name == "DATACUBE_OPTION_S3_SECRET_ACCESS_KEY") return std::string("secret");
    return std::nullopt;
  };
  auto resolved = ResolveCube(r.cube, sources);
  ASSERT_FALSE(resolved.ok());
  EXPECT_EQ(resolved.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(resolved.status().message().find("spec.executor.env[1].value: expands to more than"),
            std::string::npos)
      << resolved.status().message();
  // The bounded expander stops at its cap.
  auto lookup = [](std::string_view) -> std::optional<std::string> { return std::string(10, 'x'); };
  EXPECT_FALSE(ExpandReferencesBounded("$(A)$(A)$(A)", lookup, 25).has_value());
  EXPECT_EQ(*ExpandReferencesBounded("$(A)$(A)", lookup, 25), std::string(20, 'x'));
  EXPECT_EQ(ExpandedSize("$(A)-$$-$(B)",
                         [](std::string_view n) -> std::optional<size_t> {
                           return n == "A" ? std::optional<size_t>(SIZE_MAX - 1) : std::nullopt;
                         }),
            SIZE_MAX);
}

TEST_F(TempDirTest, CubeFileMustBeARegularFileOfAtMostFourMiB) {
  fs::create_directories(dir_ / "cube-dir");
  auto r = ReadCubeFile(Path("cube-dir"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("is a directory"), std::string::npos) << r.status().message();

  // A FIFO nobody writes to must not block.
  std::string fifo = Fifo("cube.fifo");
  auto start = Clock::now();
  r = ReadCubeFile(fifo);
  EXPECT_LT(SecondsSince(start), 2.0);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("is a FIFO, not a regular file"), std::string::npos)
      << r.status().message();

  r = ReadCubeFile("/dev/zero");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("is a character device"), std::string::npos);

  std::ofstream(Path("big.yaml")) << std::string((4 << 20) + 1, '#');
  r = ReadCubeFile(Path("big.yaml"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("larger than 4 MiB"), std::string::npos);

  r = ReadCubeFile(Path("missing.yaml"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("cannot read DataCube file"), std::string::npos);
}

TEST(HostileParsers, EndlessStreamStopsAtTheCapWhileReading) {
  ::signal(SIGPIPE, SIG_IGN);  // the writer learns of the closed pipe from EPIPE
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::thread writer([fd = fds[1]] {
    std::string chunk(1 << 16, 'a');
    while (::write(fd, chunk.data(), chunk.size()) > 0) {
    }
    ::close(fd);
  });
  auto r = io::ReadSmallFd(fds[0], 4 << 20, "standard input");
  ::close(fds[0]);  // the writer sees EPIPE and stops
  writer.join();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("standard input is larger than 4 MiB"), std::string::npos);
}

// --- Item: validation and execution agree ---------------------------------------------------

struct Refused {
  const char* name;
  std::string text;
  std::string path;
  std::string message;
};

std::string GitCube(const std::string& options) {
  return "apiVersion: tensorstack.dev/v1beta1\nkind: DataCube\nmetadata: {name: g}\nspec:\n"
         "  source:\n    type: git\n    options:\n"
         "    - {name: url, value: \"https://git.example/o/r.git\"}\n" +
         options + "  sink:\n    type: pvc\n    pvc: {name: data}\n";
}

TEST(HostileValidation, RefusesWhatRunWouldRefuse) {
  std::vector<Refused> cases = {
      {"S3Addressing", Cube("    - {name: s3-addressing, value: sideways}\n"),
       "spec.source.options[4].value", "is not one of auto, path, virtual"},
      {"S3EndpointWithoutHost",
       Cube("").replace(Cube("").find("http://127.0.0.1:9000"), 21, "http://"),
       "spec.source.options[0].value", "option \"s3-endpoint\""},
      {"S3BucketRules",
       Cube("")
           .replace(Cube("").find("s3://bucket/path"), 16, "s3://Bad_Bucket/path")
           .replace(Cube("").find("http://127.0.0.1:9000"), 21,
                    "https://s3.us-east-1.amazonaws.com"),
       "spec.source.options[3].value", "option \"s3-uri\""},
      {"S3UploadChecksum",
       "apiVersion: tensorstack.dev/v1beta1\nkind: DataCube\nmetadata: {name: u}\nspec:\n"
       "  source:\n    type: pvc\n    pvc: {name: data}\n  sink:\n    type: s3\n    options:\n"
       "    - {name: s3-endpoint, value: \"http://127.0.0.1:9000\"}\n"
       "    - {name: s3-access-key-id, value: AKID}\n"
       "    - {name: s3-secret-access-key, value: x}\n"
       "    - {name: s3-uri, value: \"s3://bucket/path\"}\n"
       "    - {name: s3-upload-checksum, value: md5}\n",
       "spec.sink.options[4].value", "is not one of auto, sha256"},
      {"GitNegativeDepth", GitCube("    - {name: depth, value: \"-1\"}\n"),
       "spec.source.options[1].value", "depth"},
      {"GitDepthNotANumber", GitCube("    - {name: depth, value: \"1x\"}\n"),
       "spec.source.options[1].value", "depth"},
      {"GitUrlQuery", GitCube("").replace(GitCube("").find("r.git"), 5, "r.git?x=1"),
       "spec.source.options[0].value", "query strings"},
      {"GitLfs", GitCube("    - {name: lfs, value: maybe}\n"), "spec.source.options[1].value",
       "is not true or false"},
      {"GitRetries", GitCube("    - {name: retries, value: \"0\"}\n"),
       "spec.source.options[1].value", "1 to 100"},
      {"GitTimeoutTooShort", GitCube("    - {name: timeout, value: 1ms}\n"),
       "spec.source.options[1].value", "must be between 1s and 24h"},
      {"GitTimeoutZero", GitCube("    - {name: timeout, value: \"0\"}\n"),
       "spec.source.options[1].value", "must be between"},
      {"GitStallTimeoutHuge", GitCube("    - {name: stall-timeout, value: 100000000h}\n"),
       "spec.source.options[1].value", "is too long"},
      {"NulEscape", Cube("    - {name: s3-region, value: \"us\\0east\"}\n"),
       "spec.source.options[4].value", "control character U+0000"},
      {"TabEscape", Cube("    - {name: s3-region, value: \"us\\teast\"}\n"),
       "spec.source.options[4].value", "control character U+0009"},
      {"NewlineInName", Cube("", "", "    pvc: {name: data, subPath: \"a\\nb\"}\n"),
       "spec.sink.pvc.subPath", "control character U+000A"},
      {"EscapeInLabel",
       Cube("").replace(Cube("").find("  name: hostile\n"), 16,
                        "  name: hostile\n  labels: {a: \"\\e[31mred\"}\n"),
       "metadata.labels.a", "control character U+001B"},
      {"C1InValue", Cube("    - {name: s3-region, value: \"a\\u009bb\"}\n"),
       "spec.source.options[4].value", "control character U+009B"},
      {"DeadlineOverflow",
       Cube("", "  executor:\n    options:\n      activeDeadlineSeconds: 9300000000\n"),
       "spec.executor.options.activeDeadlineSeconds", "at most 31536000"},
      {"ReservedEnv",
       Cube("", "  executor:\n    env:\n    - {name: DATACUBE_PVC_ROOT, value: /etc}\n"),
       "spec.executor.env[0].name", "reserved"},
  };
  for (const Refused& c : cases) {
    LoadResult r = Load(c.text);
    ASSERT_FALSE(r.ok()) << c.name;
    bool found = false;
    for (const FieldError& e : r.diagnostics.errors()) {
      found = found || (e.path == c.path && e.message.find(c.message) != std::string::npos);
    }
    EXPECT_TRUE(found) << c.name << ": no error at " << c.path << " containing \"" << c.message
                       << "\"; got:\n"
                       << Errors(r);
  }
}

TEST(HostileValidation, RawControlCharactersInTheFileAreRefusedWithTheirPosition) {
  std::string text = Cube("");
  text.insert(text.find("AKID") + 2, 1, '\0');
  LoadResult r = Load(text);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(Errors(r).find("line 10, column 41: control character U+0000"), std::string::npos)
      << Errors(r);
}

TEST(HostileValidation, NonAsciiTextIsNotMistakenForControlCharacters) {
  // "ğ" is C4 9F and "€" E2 82 AC: continuation bytes in 0x80..0x9F are not C1 controls.
  std::string text = Cube("").replace(Cube("").find("  name: hostile\n"), 16,
                                      "  name: hostile\n  labels: {a: b}\n  annotations: {note: "
                                      "\"Doğru — 5 € ünïcødé\"}\n");
  EXPECT_TRUE(Load(text).ok()) << Errors(Load(text));
  EXPECT_EQ(ControlCharacterProblem("Doğru 5 € \u00a0", TextRule::kSingleLine), "");
  EXPECT_NE(ControlCharacterProblem("a\u009bb", TextRule::kSingleLine), "");
}

TEST(HostileValidation, FreeTextMayHaveNewlinesAndTabs) {
  std::string text =
      Cube("").replace(Cube("").find("  name: hostile\n"), 16,
                       "  name: hostile\n  annotations:\n    note: |\n      two\n      \tlines\n");
  EXPECT_TRUE(Load(text).ok()) << Errors(Load(text));
}

TEST(HostileValidation, ControlCharactersInUnknownKeysAreEscapedInMessages) {
  std::string text = Cube("", "  \"\\e[2Jevil\\nfake\": 1\n");
  LoadResult r = Load(text);
  ASSERT_FALSE(r.ok());
  std::string errors = Errors(r);
  EXPECT_EQ(errors.find('\x1b'), std::string::npos);
  EXPECT_NE(errors.find("\\x1b[2Jevil\\x0afake"), std::string::npos) << errors;
}

TEST(HostileValidation, ResolvedValuesGetTheSameChecks) {
  std::string text = Cube(
      "    - {name: s3-addressing, valueFrom: {secretKeyRef: {name: s3, key: "
      "addressing}}}\n");
  LoadResult r = Load(text);
  ASSERT_TRUE(r.ok()) << Errors(r);
  ValueSources sources;
  sources.getenv = [](const std::string& name) -> std::optional<std::string> {
    if (name == "DATACUBE_OPTION_S3_ADDRESSING") return std::string("sideways");
    if (name == "DATACUBE_OPTION_S3_SECRET_ACCESS_KEY") return std::string("secret");
    return std::nullopt;
  };
  auto resolved = ResolveCube(r.cube, sources);
  ASSERT_TRUE(resolved.ok()) << resolved.status().message();
  Status s = CheckResolvedOptions(r.cube, *resolved);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("spec.source.options[4].valueFrom: option \"s3-addressing\""),
            std::string::npos)
      << s.message();
}

TEST(HostileValidation, SecretValuesWithControlCharactersAreRefusedWithoutTheValue) {
  LoadResult r = Load(Cube(""));
  ASSERT_TRUE(r.ok());
  ValueSources sources;
  sources.getenv = [](const std::string& name) -> std::optional<std::string> {
    if (name == "DATACUBE_OPTION_S3_SECRET_ACCESS_KEY") {
      return std::string("topsecret\r\nX-Injected: 1");
    }
    return std::nullopt;
  };
  auto resolved = ResolveCube(r.cube, sources);
  ASSERT_FALSE(resolved.ok());
  std::string m(resolved.status().message());
  EXPECT_NE(m.find("spec.source.options[2]"), std::string::npos) << m;
  EXPECT_NE(m.find("U+000D"), std::string::npos) << m;
  EXPECT_EQ(m.find("topsecret"), std::string::npos) << m;
}

class HostileRunTest : public TempDirTest {
 protected:
  RunOptions Options() {
    RunOptions o;
    o.plan.pvc_root = Path("pvc");
    o.plan.process_env = [](const std::string&) { return std::nullopt; };
    o.sources.getenv = [](const std::string& name) -> std::optional<std::string> {
      if (name == "DATACUBE_OPTION_S3_SECRET_ACCESS_KEY") return std::string("secret");
      if (name == "DATACUBE_OPTION_S3_ADDRESSING") return std::string("sideways");
      return std::nullopt;
    };
    o.attempt_backoff = std::chrono::milliseconds(1);
    o.open = [this](const CubeTransfer&) -> Result<transfer::TransferEndpoints> {
      ++opened_;
      return UnavailableError("no store in this test");
    };
    o.on_status = [this](const CubeStatus& s) { statuses_.push_back(s); };
    return o;
  }
  int opened_ = 0;
  std::vector<CubeStatus> statuses_;
};

TEST_F(HostileRunTest, SpecErrorsFoundAtRunTimeExitTwoBeforeAnythingIsCreated) {
  std::string text = Cube(
      "    - {name: s3-addressing, valueFrom: {secretKeyRef: {name: s3, key: addressing}}}\n", "",
      "    pvc:\n      name: data\n      template:\n        spec:\n"
      "          accessModes: [ReadWriteOnce]\n"
      "          resources: {requests: {storage: 1Gi}}\n");
  LoadResult r = Load(text);
  ASSERT_TRUE(r.ok()) << Errors(r);
  RunOutcome out = RunCube(r, Options());
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_EQ(out.status.phase, Phase::kFailed);
  ASSERT_NE(out.status.FindCondition("Failed"), nullptr);
  EXPECT_EQ(out.status.FindCondition("Failed")->reason, kReasonInvalidSpec);
  EXPECT_EQ(opened_, 0);
  EXPECT_FALSE(fs::exists(dir_ / "pvc" / "data"));  // the template's volume was not created
}

TEST_F(HostileRunTest, UnreadableCubeEndsFailedNotPending) {
  LoadResult r = UnreadableCube(InvalidArgumentError("cube.yaml: too big"), "cube.yaml");
  RunOutcome out = RunCube(r, Options());
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_EQ(out.status.phase, Phase::kFailed);
  ASSERT_FALSE(statuses_.empty());
  EXPECT_EQ(statuses_.back().phase, Phase::kFailed);
  EXPECT_EQ(statuses_.back().FindCondition("Failed")->reason, kReasonInvalidSpec);
}

TEST_F(HostileRunTest, InvalidArgumentFromAnAttemptExitsTwo) {
  LoadResult r = Load(Cube(""));
  ASSERT_TRUE(r.ok());
  fs::create_directories(dir_ / "pvc" / "data");
  RunOptions o = Options();
  o.open = [](const CubeTransfer&) -> Result<transfer::TransferEndpoints> {
    return InvalidArgumentError("s3-region: not usable");
  };
  RunOutcome out = RunCube(r, o);
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_EQ(out.status.FindCondition("Failed")->reason, kReasonInvalidSpec);
}

TEST_F(HostileRunTest, DeadlineNearTheMaximumDoesNotFireAtOnce) {
  LoadResult r =
      Load(Cube("", "  executor:\n    options:\n      activeDeadlineSeconds: 31536000\n"));
  ASSERT_TRUE(r.ok()) << Errors(r);
  fs::create_directories(dir_ / "pvc" / "data");
  RunOutcome out = RunCube(r, Options());
  ASSERT_NE(out.status.FindCondition("Failed"), nullptr);
  EXPECT_EQ(out.status.FindCondition("Failed")->reason, kReasonUnavailable);
}

// --- PVC root and replaced files ------------------------------------------------------------

TEST(HostilePvcRoot, ExecutorEnvCannotMoveThePvcRoot) {
  LoadResult r = Load(Cube(""));
  ASSERT_TRUE(r.ok());
  ResolvedCube resolved;
  resolved.options = {{"s3-uri", "s3://bucket/path"}};
  resolved.env = {{"DATACUBE_PVC_ROOT", "/etc"}};
  PlanContext context;
  context.process_env = [](const std::string&) { return std::nullopt; };
  auto t = PlanCubeTransfer(r.cube, resolved, {}, context);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("set --pvc-root or DATACUBE_PVC_ROOT"), std::string::npos);
  context.process_env = [](const std::string& n) -> std::optional<std::string> {
    return n == "DATACUBE_PVC_ROOT" ? std::optional<std::string>("/mnt/pvcs") : std::nullopt;
  };
  t = PlanCubeTransfer(r.cube, resolved, {}, context);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->config.pvc_root, "/mnt/pvcs");
  EXPECT_EQ(t->pvc_volume_dir, "/mnt/pvcs/data");
}

TEST_F(TempDirTest, StatusAndManifestWritesReplaceOnlyRegularFiles) {
  std::string fifo = Fifo("status.fifo");
  fs::create_directories(dir_ / "a-dir");
  fs::create_symlink(dir_ / "target", dir_ / "link");
  std::ofstream(Path("target")) << "keep";
  CubeStatus status;
  status.name = "x";
  std::vector<engine::ManifestEntry> entries = {{"a", 1, std::string(64, 'a')}};
  for (const std::string& p : {fifo, Path("a-dir"), Path("link")}) {
    Status s = WriteStatusFile(p, status);
    ASSERT_FALSE(s.ok()) << p;
    EXPECT_NE(s.message().find("only a regular file is ever replaced"), std::string::npos)
        << s.message();
    s = engine::WriteManifestFile(p, entries);
    ASSERT_FALSE(s.ok()) << p;
    EXPECT_NE(s.message().find("only a regular file is ever replaced"), std::string::npos);
  }
  struct stat st;
  ASSERT_EQ(::lstat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  ASSERT_EQ(::lstat(Path("link").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  std::ifstream in(Path("target"));
  std::string kept((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(kept, "keep");
  // A regular file or a new path is fine.
  EXPECT_TRUE(WriteStatusFile(Path("status.yaml"), status).ok());
  EXPECT_TRUE(WriteStatusFile(Path("status.yaml"), status).ok());
  EXPECT_TRUE(engine::WriteManifestFile(Path("m.jsonl"), entries).ok());
}

TEST_F(TempDirTest, ManifestReadsAreCappedAndNeverBlock) {
  auto start = Clock::now();
  auto m = engine::ReadManifestFile("/dev/zero");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("is a character device"), std::string::npos);
  m = engine::ReadManifestFile(Fifo("m.fifo"));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("is a FIFO"), std::string::npos);
  EXPECT_LT(SecondsSince(start), 2.0);
  m = engine::ReadManifestFile(Path("missing.jsonl"));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kNotFound);
  std::ofstream(Path("ok.jsonl")) << "{\"path\":\"a\",\"size\":1,\"sha256\":\"" +
                                         std::string(64, 'a') + "\"}\n\n";
  m = engine::ReadManifestFile(Path("ok.jsonl"));
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->size(), 1u);
}

TEST_F(TempDirTest, SecretThatIsAFifoOrADirectoryIsNamedAsSuch) {
  fs::create_directories(dir_ / "secrets" / "s3" / "secret");  // a directory at the key
  LoadResult r = Load(Cube(""));
  ASSERT_TRUE(r.ok());
  ValueSources sources;
  sources.secrets_dir = Path("secrets");
  auto resolved = ResolveCube(r.cube, sources);
  ASSERT_FALSE(resolved.ok());
  EXPECT_EQ(resolved.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(resolved.status().message().find("is a directory, not a regular file"),
            std::string::npos)
      << resolved.status().message();
  fs::remove(dir_ / "secrets" / "s3" / "secret");
  Fifo("secrets/s3/secret");
  auto start = Clock::now();
  resolved = ResolveCube(r.cube, sources);
  EXPECT_LT(SecondsSince(start), 2.0);
  ASSERT_FALSE(resolved.ok());
  EXPECT_NE(resolved.status().message().find("is a FIFO, not a regular file"), std::string::npos)
      << resolved.status().message();
  EXPECT_EQ(resolved.status().message().find("no file"), std::string::npos);
}

}  // namespace
}  // namespace datacube::cube
