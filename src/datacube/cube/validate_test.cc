// Loading and validation: every example in tests/cube_examples/ loads; every invalid manifest in
// the table is rejected with an error at exactly the expected field path.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "datacube/cube/backends.h"
#include "datacube/cube/loader.h"

namespace datacube::cube {
namespace {

// A valid S3 download; the cases below break one thing each.
constexpr char kBase[] = R"(apiVersion: tensorstack.dev/v1beta1
kind: DataCube
metadata:
  name: base
spec:
  source:
    type: s3
    options:
    - name: s3-endpoint
      value: http://127.0.0.1:9000
    - name: s3-access-key-id
      value: AKIDEXAMPLE
    - name: s3-secret-access-key
      valueFrom:
        secretKeyRef:
          name: s3-config
          key: secretAccessKey
    - name: s3-uri
      value: s3://bucket/path
  sink:
    type: pvc
    pvc:
      name: data
      subPath: models
)";

// A valid upload of the same shape.
constexpr char kUpload[] = R"(apiVersion: tensorstack.dev/v1beta1
kind: DataCube
metadata:
  name: upload
spec:
  source:
    type: pvc
    pvc:
      name: data
  sink:
    type: s3
    options:
    - name: s3-endpoint
      value: http://127.0.0.1:9000
    - name: s3-access-key-id
      value: AKIDEXAMPLE
    - name: s3-secret-access-key
      value: secret-value
    - name: s3-uri
      value: s3://bucket/path
    - name: s3-no-check-bucket
      value: "true"
)";

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  size_t pos = text.find(from);
  if (pos == std::string::npos) {
    ADD_FAILURE() << "test case edit not found: " << from;
    return text;
  }
  return text.replace(pos, from.size(), to);
}

std::string Append(std::string text, const std::string& more) { return text + more; }

ValidateOptions AllTypes() { return {}; }

struct Case {
  const char* name;
  std::string yaml;
  std::string path;      // the exact field path one error must carry
  std::string fragment;  // and a piece of its message
};

std::vector<Case> InvalidCases() {
  const std::string b = kBase;
  const std::string u = kUpload;
  return {
      {"WrongApiVersion", Replace(b, "v1beta1", "v1"), "apiVersion", "tensorstack.dev/v1beta1"},
      {"WrongKind", Replace(b, "kind: DataCube", "kind: Cube"), "kind", "is not DataCube"},
      {"MissingName", Replace(b, "  name: base\n", "  labels: {a: b}\n"), "metadata.name",
       "required"},
      {"InvalidName", Replace(b, "name: base", "name: Base_1"), "metadata.name",
       "not a valid name"},
      {"LabelNotString", Replace(b, "  name: base\n", "  name: base\n  labels:\n    team: 7\n"),
       "metadata.labels.team", "expected a string"},
      {"UnknownTopField", Replace(b, "kind: DataCube\n", "kind: DataCube\nspecs: {}\n"), "specs",
       "did you mean \"spec\""},
      {"MissingSink", b.substr(0, b.find("  sink:")), "spec.sink", "required"},
      {"UnknownSinkType", Replace(b, "type: pvc", "type: ftp"), "spec.sink.type",
       "\"ftp\" is not one of pvc, git, huggingface, s3"},
      {"MissingType", Replace(b, "    type: s3\n", ""), "spec.source.type", "required"},
      {"BothPvc", Replace(u, "    type: s3\n", "    type: pvc\n    pvc: {name: other}\n"),
       "spec.sink.type", "both pvc"},
      {"NoPvcSide",
       Replace(b, "    type: pvc\n    pvc:\n      name: data\n      subPath: models\n",
               "    type: huggingface\n    options:\n    - name: repo\n      value: a/b\n"),
       "spec.sink.type", "one side must be a pvc"},
      {"PvcTypeWithoutPvc", Replace(b, "    pvc:\n      name: data\n      subPath: models\n", ""),
       "spec.sink.pvc", "required"},
      {"PvcNameMissing", Replace(b, "      name: data\n      subPath", "      subPath"),
       "spec.sink.pvc.name", "required"},
      {"SubPathTypo", Replace(b, "subPath: models", "subpath: models"), "spec.sink.pvc.subpath",
       "did you mean \"subPath\""},
      {"SubPathAbsolute", Replace(b, "subPath: models", "subPath: /etc"), "spec.sink.pvc.subPath",
       "relative"},
      {"SubPathEscapes", Replace(b, "subPath: models", "subPath: a/../../b"),
       "spec.sink.pvc.subPath", ".."},
      {"TemplateOnSource",
       Replace(u, "      name: data\n",
               "      name: data\n      template:\n        spec:\n          accessModes: "
               "[ReadWriteOnce]\n          resources: {requests: {storage: 1Gi}}\n"),
       "spec.source.pvc.template", "only used when the PVC is the sink"},
      {"TemplateBadAccessMode",
       Replace(b, "      subPath: models\n",
               "      subPath: models\n      template:\n        spec:\n          accessModes: "
               "[ReadWriteAll]\n          resources: {requests: {storage: 1Gi}}\n"),
       "spec.sink.pvc.template.spec.accessModes[0]", "did you mean \"ReadWriteOnce\""},
      {"TemplateBadStorage",
       Replace(b, "      subPath: models\n",
               "      subPath: models\n      template:\n        spec:\n          accessModes: "
               "[ReadWriteOnce]\n          resources: {requests: {storage: 100GB}}\n"),
       "spec.sink.pvc.template.spec.resources.requests.storage", "quantity"},
      {"OptionsOnPvc",
       Replace(b, "      subPath: models\n",
               "      subPath: models\n    options:\n    - {name: x, value: y}\n"),
       "spec.sink.options", "takes no options"},
      {"UnknownOption", Replace(b, "name: s3-access-key-id", "name: s3-acess-key-id"),
       "spec.source.options[1].name", "did you mean \"s3-access-key-id\""},
      {"MissingRequiredOption",
       Replace(b, "    - name: s3-uri\n      value: s3://bucket/path\n", ""), "spec.source.options",
       "\"s3-uri\" is required"},
      {"S3UriFromSecret",
       Replace(b, "    - name: s3-uri\n      value: s3://bucket/path\n",
               "    - name: s3-uri\n      valueFrom:\n        secretKeyRef: {name: s, key: k}\n"),
       "spec.source.options[3]", "option \"s3-uri\" must be a literal value, not valueFrom"},
      {"FilesFromConfigMap",
       Replace(Replace(b, "type: s3", "type: huggingface"),
               "    options:\n    - name: s3-endpoint\n      value: http://127.0.0.1:9000\n"
               "    - name: s3-access-key-id\n      value: AKIDEXAMPLE\n",
               "    options:\n    - name: repo\n      value: org/model\n    - name: files\n"
               "      valueFrom:\n        configMapKeyRef: {name: c, key: files}\n"
               "    - name: revision\n      value: main\n"),
       "spec.source.options[1]", "option \"files\" must be a literal value, not valueFrom"},
      {"DuplicateOption",
       Append(b.substr(0, b.find("  sink:")),
              "    - name: s3-uri\n      value: s3://other\n" + b.substr(b.find("  sink:"))),
       "spec.source.options[4].name", "more than once"},
      {"ValueAndValueFrom",
       Replace(b, "      value: http://127.0.0.1:9000\n",
               "      value: http://127.0.0.1:9000\n      valueFrom:\n        secretKeyRef: {name: "
               "s, key: k}\n"),
       "spec.source.options[0]", "cannot both be set"},
      {"NoValue", Replace(b, "      value: http://127.0.0.1:9000\n", ""), "spec.source.options[0]",
       "one of value or valueFrom is required"},
      {"FieldRef",
       Replace(b, "      value: http://127.0.0.1:9000\n",
               "      valueFrom:\n        fieldRef: {fieldPath: metadata.name}\n"),
       "spec.source.options[0].valueFrom.fieldRef", "not supported"},
      {"SecretKeyMissing", Replace(b, "          key: secretAccessKey\n", ""),
       "spec.source.options[2].valueFrom.secretKeyRef.key", "required"},
      {"SecretKeyTraversal", Replace(b, "key: secretAccessKey", "key: ../../etc/passwd"),
       "spec.source.options[2].valueFrom.secretKeyRef.key", "not a valid key"},
      {"SecretNameInvalid", Replace(b, "name: s3-config", "name: S3/Config"),
       "spec.source.options[2].valueFrom.secretKeyRef.name", "not a valid"},
      {"ValueNotString", Replace(u, "value: \"true\"", "value: true"), "spec.sink.options[4].value",
       "quote it"},
      {"SinkOnlyOptionOnSource",
       Replace(b, "      value: s3://bucket/path\n",
               "      value: s3://bucket/path\n    - name: s3-no-check-bucket\n      value: "
               "\"true\"\n"),
       "spec.source.options[4].name", "not used when s3 is the source"},
      {"BadS3Uri", Replace(b, "value: s3://bucket/path", "value: bucket/path"),
       "spec.source.options[3].value", "s3://bucket/path"},
      {"BadNoCheckBucket", Replace(u, "value: \"true\"", "value: \"yes\""),
       "spec.sink.options[4].value", "\"true\" or \"false\""},
      {"GitSshUrl",
       Replace(Replace(b, "type: s3", "type: git"),
               b.substr(b.find("    options:\n"), b.find("  sink:") - b.find("    options:\n")),
               "    options:\n    - name: url\n      value: git@github.com:o/r.git\n"),
       "spec.source.options[0].value", "ssh URLs are not supported"},
      {"HfBadRepoType",
       Replace(Replace(b, "type: s3", "type: huggingface"),
               b.substr(b.find("    options:\n"), b.find("  sink:") - b.find("    options:\n")),
               "    options:\n    - name: repo\n      value: org/m\n    - name: repo-type\n"
               "      value: models\n"),
       "spec.source.options[1].value", "model, dataset, space"},
      {"EnvClashesWithOption",
       Append(b, "  executor:\n    env:\n    - name: S3_URI\n      value: x\n"),
       "spec.executor.env[0].name", "clashes with option \"s3-uri\""},
      {"EnvBadName", Append(b, "  executor:\n    env:\n    - name: 1PROXY\n      value: x\n"),
       "spec.executor.env[0].name", "not a valid environment variable name"},
      {"EnvDuplicate",
       Append(b,
              "  executor:\n    env:\n    - {name: HTTPS_PROXY, value: a}\n"
              "    - {name: HTTPS_PROXY, value: b}\n"),
       "spec.executor.env[1].name", "duplicate"},
      {"SyncOnUpload", Append(u, "  executor:\n    options:\n      sync: true\n"),
       "spec.executor.options.sync", "only allowed for s3 -> pvc"},
      {"SyncNotBoolean", Append(b, "  executor:\n    options:\n      sync: \"true\"\n"),
       "spec.executor.options.sync", "expected true or false"},
      {"UnknownExtraArg", Append(b, "  executor:\n    options:\n      extraArgs: [--delete-all]\n"),
       "spec.executor.options.extraArgs[0]", "unknown flag \"--delete-all\""},
      {"ExtraArgTypo", Append(b, "  executor:\n    options:\n      extraArgs: [--jbos, \"4\"]\n"),
       "spec.executor.options.extraArgs[0]", "did you mean \"--jobs\""},
      {"ExtraArgMissingValue",
       Append(b, "  executor:\n    options:\n      extraArgs: [--cache-dir]\n"),
       "spec.executor.options.extraArgs[0]", "needs a value"},
      {"ExtraArgBadRate",
       Append(b, "  executor:\n    options:\n      extraArgs: [--jobs, \"2\", --bwlimit=fast]\n"),
       "spec.executor.options.extraArgs[2]", "--bwlimit"},
      {"BackoffNegative", Append(b, "  executor:\n    options:\n      backoffLimit: -1\n"),
       "spec.executor.options.backoffLimit", "between 0 and 1000"},
      {"BackoffNotInteger", Append(b, "  executor:\n    options:\n      backoffLimit: \"2\"\n"),
       "spec.executor.options.backoffLimit", "expected an integer"},
      {"DeadlineZero", Append(b, "  executor:\n    options:\n      activeDeadlineSeconds: 0\n"),
       "spec.executor.options.activeDeadlineSeconds", "positive"},
      {"ExecutorTypo", Append(b, "  executor:\n    option: {}\n"), "spec.executor.option",
       "did you mean \"options\""},
      {"SecurityContextTypo",
       Append(b, "  executor:\n    securityContext:\n      runAsUsr: 1000\n"),
       "spec.executor.securityContext.runAsUsr", "did you mean \"runAsUser\""},
      // s3-access-key-id -> $(S3_ENDPOINT) -> $(S3_ACCESS_KEY_ID): a cycle between options.
      {"ReferenceCycle",
       Replace(Replace(b, "value: AKIDEXAMPLE", "value: $(S3_ENDPOINT)"),
               "value: http://127.0.0.1:9000", "value: http://$(S3_ACCESS_KEY_ID)"),
       "spec.source.options[1].value", "cycle"},
      {"OptionsNotAList",
       Replace(b, "    options:\n    - name: s3-endpoint",
               "    options: s3-endpoint\n    optionz:\n    - name: s3-endpoint"),
       "spec.source.options", "expected a list"},
      {"DuplicateKey", Replace(b, "    type: s3\n", "    type: s3\n    type: s3\n"),
       "spec.source.type", "duplicate"},
  };
}

// Keeps gtest from printing the struct's bytes in test names and failures.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class InvalidManifest : public ::testing::TestWithParam<Case> {};

TEST_P(InvalidManifest, ReportsTheFieldPath) {
  const Case& c = GetParam();
  LoadResult r = LoadCube(c.yaml, "cube.yaml", AllTypes());
  ASSERT_FALSE(r.ok()) << c.yaml;
  ASSERT_TRUE(r.parse_error.ok()) << r.parse_error.ToString();
  bool found = false;
  for (const FieldError& e : r.diagnostics.errors()) {
    if (e.path == c.path && e.message.find(c.fragment) != std::string::npos) found = true;
  }
  EXPECT_TRUE(found) << "no error at " << c.path << " containing \"" << c.fragment << "\"; got:\n"
                     << r.status().message();
}

INSTANTIATE_TEST_SUITE_P(Table, InvalidManifest, ::testing::ValuesIn(InvalidCases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Validate, TableHasAtLeastThirtyCases) { EXPECT_GE(InvalidCases().size(), 30u); }

TEST(Validate, BaseManifestsAreValid) {
  for (const char* text : {kBase, kUpload}) {
    LoadResult r = LoadCube(text, "cube.yaml", AllTypes());
    EXPECT_TRUE(r.ok()) << r.status().message();
  }
}

TEST(Validate, ReportsEveryErrorAtOnceInDocumentOrderWithPositions) {
  std::string yaml =
      Replace(Replace(Replace(kBase, "name: base", "name: Base"), "type: pvc", "type: ftp"),
              "name: s3-access-key-id", "name: s3-acess-key-id");
  yaml += "  executor:\n    options:\n      backoffLimit: -3\n      extraArgs: [--nope]\n";
  LoadResult r = LoadCube(yaml, "cube.yaml", AllTypes());
  std::vector<std::string> paths;
  for (const auto& e : r.diagnostics.errors()) paths.push_back(e.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"metadata.name", "spec.source.options",
                                             "spec.source.options[1].name", "spec.sink.type",
                                             "spec.executor.options.backoffLimit",
                                             "spec.executor.options.extraArgs[0]"}));
  EXPECT_EQ(r.diagnostics.errors()[0].line, 4);
  EXPECT_EQ(r.diagnostics.errors()[3].line, 21);
  std::string message(r.status().message());
  EXPECT_NE(message.find("cube.yaml:21:11: spec.sink.type: \"ftp\" is not one of pvc, git, "
                         "huggingface, s3"),
            std::string::npos)
      << message;
}

TEST(Validate, UnsupportedTypesFailValidation) {
  ValidateOptions only_pvc;
  only_pvc.type_supported = [](EndpointType t) {
    return t == EndpointType::kPvc ? Status() : UnimplementedError("no");
  };
  LoadResult r = LoadCube(kBase, "cube.yaml", only_pvc);
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.diagnostics.errors().size(), 1u);
  EXPECT_EQ(r.diagnostics.errors()[0].path, "spec.source.type");
  EXPECT_EQ(r.diagnostics.errors()[0].message, "\"s3\" is not supported yet in this build");
}

// The registry probe: every backend is linked into this build now, and asking costs nothing.
TEST(Validate, EveryTypeIsSupportedInThisBuild) {
  auto start = std::chrono::steady_clock::now();
  for (EndpointType t :
       {EndpointType::kPvc, EndpointType::kGit, EndpointType::kHuggingFace, EndpointType::kS3}) {
    EXPECT_TRUE(TypeSupportedInThisBuild(t).ok()) << EndpointTypeName(t);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
}

TEST(Validate, SyntaxErrorsNameTheLine) {
  LoadResult r = LoadCube("apiVersion: x\nspec: [1,\n  b: c\n", "bad.yaml", AllTypes());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.parse_error.message().find("bad.yaml:"), std::string_view::npos);
  EXPECT_EQ(r.parse_error.code(), StatusCode::kInvalidArgument);
}

TEST(Validate, ExactlyOneDocument) {
  LoadResult r = LoadCube(std::string(kBase) + "---\n" + kUpload, "two.yaml", AllTypes());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.parse_error.message().find("found 2"), std::string_view::npos);
}

TEST(Validate, AliasBombsAreRefused) {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'h'; ++c) {
    bomb += std::string(1, c) + ": &" + c + " [*" + static_cast<char>(c - 1) + ", *" +
            static_cast<char>(c - 1) + ", *" + static_cast<char>(c - 1) + ", *" +
            static_cast<char>(c - 1) + ", *" + static_cast<char>(c - 1) + ", *" +
            static_cast<char>(c - 1) + ", *" + static_cast<char>(c - 1) + ", *" +
            static_cast<char>(c - 1) + ", *" + static_cast<char>(c - 1) + ", *" +
            static_cast<char>(c - 1) + "]\n";
  }
  LoadResult r = LoadCube(bomb, "bomb.yaml", AllTypes());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.parse_error.message().find("too large"), std::string_view::npos)
      << r.parse_error.message();
}

// yaml-cpp alone never returns on these (it collects empty documents until memory runs out);
// the loader stops at the first document that does not move the parser on.
TEST(Validate, StreamsTheYamlParserCannotLeaveAreRefusedQuickly) {
  for (const char* text : {",", "a: b\n---\n,\n", "- x\n...\n,"}) {
    auto start = std::chrono::steady_clock::now();
    LoadResult r = LoadCube(text, "stuck.yaml", AllTypes());
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.parse_error.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.parse_error.message().find("stuck.yaml:"), std::string_view::npos)
        << r.parse_error.message();
    EXPECT_NE(r.parse_error.message().find("invalid YAML"), std::string_view::npos);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
  }
}

// Every example of the DataCube guide (tests/cube_examples/, each holding the guide's text
// verbatim) loads and validates.
TEST(Validate, EveryExampleLoads) {
  std::string dir = DATACUBE_CUBE_EXAMPLES_DIR;
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    LoadResult r = LoadCube(text.str(), entry.path().filename().string(), AllTypes());
    EXPECT_TRUE(r.ok()) << r.status().message();
    ++count;
  }
  EXPECT_EQ(count, 13);
}

}  // namespace
}  // namespace datacube::cube
