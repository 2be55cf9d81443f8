// Option resolution: $(NAME) expansion with Kubernetes' rules, Secrets and ConfigMaps from
// directories or the environment, redaction, and the mapping to the engine's inputs.
#include "datacube/cube/resolve.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "datacube/base/secret.h"
#include "datacube/cube/cube_transfer.h"
#include "datacube/cube/expand.h"
#include "datacube/cube/loader.h"

namespace datacube::cube {
namespace {

namespace fs = std::filesystem;

std::string Sub(std::string text, const std::string& from, const std::string& to) {
  size_t pos = text.find(from);
  if (pos == std::string::npos) {
    ADD_FAILURE() << "edit not found: " << from;
    return text;
  }
  return text.replace(pos, from.size(), to);
}

VariableLookup Vars(std::map<std::string, std::string> vars) {
  return [vars](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(Expand, KubernetesRules) {
  auto vars = Vars({{"TOKEN", "t0k"}, {"A", "1"}});
  EXPECT_EQ(ExpandReferences("https://$(TOKEN)@h/r.git", vars), "https://t0k@h/r.git");
  EXPECT_EQ(ExpandReferences("$(MISSING)", vars), "$(MISSING)");  // undefined stays literal
  EXPECT_EQ(ExpandReferences("$$(TOKEN)", vars), "$(TOKEN)");     // escaped
  EXPECT_EQ(ExpandReferences("$$$(A)", vars), "$1");
  EXPECT_EQ(ExpandReferences("a$b", vars), "a$b");
  EXPECT_EQ(ExpandReferences("$(A", vars), "$(A");  // unterminated
  EXPECT_EQ(ExpandReferences("$()", vars), "$()");
  EXPECT_EQ(ExpandReferences("x$", vars), "x$");
  EXPECT_EQ(ExpandReferences("$(A)$(A)", vars), "11");
  EXPECT_EQ(ReferencedNames("$(A) $$(B) $(C"), std::vector<std::string>{"A"});
}

class ResolveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("resolve-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_ / "secrets");
    fs::create_directories(dir_ / "configmaps");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Put(const std::string& kind, const std::string& name, const std::string& key,
           const std::string& value) {
    fs::create_directories(dir_ / kind / name);
    std::ofstream(dir_ / kind / name / key, std::ios::binary) << value;
  }

  DataCube Load(const std::string& yaml) {
    LoadResult r = LoadCube(yaml, "cube.yaml", {});
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.cube;
  }

  ValueSources Dirs() {
    ValueSources s;
    s.secrets_dir = (dir_ / "secrets").string();
    s.configmaps_dir = (dir_ / "configmaps").string();
    s.getenv = [](const std::string&) { return std::nullopt; };
    return s;
  }

  fs::path dir_;
};

constexpr char kGitCube[] = R"(apiVersion: tensorstack.dev/v1beta1
kind: DataCube
metadata: {name: g}
spec:
  source:
    type: git
    options:
    - name: url
      value: https://$(TOKEN)@git.example/user/repo.git
    - name: token
      valueFrom:
        secretKeyRef: {name: github-token, key: token}
    - name: ref
      valueFrom:
        configMapKeyRef: {name: refs, key: ref}
  sink:
    type: pvc
    pvc: {name: vol, subPath: dev/git/}
  executor:
    env:
    - name: HTTPS_PROXY
      value: http://proxy.local:3128
    - name: NO_PROXY
      value: $(HTTPS_PROXY),localhost
)";

TEST_F(ResolveTest, ReadsMountedSecretsAndExpandsInAnyOrder) {
  Put("secrets", "github-token", "token", "ghp-resolve-secret-1\n");  // echo's newline is dropped
  Put("configmaps", "refs", "ref", "v1.2");
  auto r = ResolveCube(Load(kGitCube), Dirs());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // url refers to token, which is defined after it: references do not depend on order.
  EXPECT_EQ(r->options.at("url"), "https://ghp-resolve-secret-1@git.example/user/repo.git");
  EXPECT_EQ(r->options.at("token"), "ghp-resolve-secret-1");
  EXPECT_EQ(r->options.at("ref"), "v1.2");
  EXPECT_EQ(r->env.at("NO_PROXY"), "http://proxy.local:3128,localhost");
  // The secret is registered: it cannot be printed any more.
  EXPECT_EQ(Redact("token=ghp-resolve-secret-1"), "token=***");
}

TEST_F(ResolveTest, MissingSecretsNameObjectAndKeyAndAreAllReported) {
  Put("secrets", "github-token", "other", "x");
  auto r = ResolveCube(Load(kGitCube), Dirs());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  std::string m(r.status().message());
  EXPECT_NE(m.find("spec.source.options[1] (\"token\"): secret \"github-token\" key \"token\" not "
                   "found"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("configmap \"refs\" key \"ref\" not found: no directory"), std::string::npos)
      << m;
}

TEST_F(ResolveTest, FromTheEnvironmentInsideAJob) {
  ValueSources s;
  std::map<std::string, std::string> env = {{"DATACUBE_OPTION_TOKEN", "env-token-value-2"},
                                            {"DATACUBE_OPTION_REF", "main"}};
  s.getenv = [&](const std::string& n) -> std::optional<std::string> {
    auto it = env.find(n);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  auto r = ResolveCube(Load(kGitCube), s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->options.at("token"), "env-token-value-2");
  EXPECT_EQ(r->options.at("ref"), "main");

  env.erase("DATACUBE_OPTION_REF");
  auto missing = ResolveCube(Load(kGitCube), s);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find(
                "configmap \"refs\" key \"ref\" not found: --configmaps-dir is not set and "
                "DATACUBE_OPTION_REF is not in the environment"),
            std::string_view::npos)
      << missing.status().message();
}

TEST_F(ResolveTest, OptionalRefsMayBeMissing) {
  std::string yaml =
      Sub(kGitCube, "{name: refs, key: ref}", "{name: refs, key: ref, optional: true}");
  Put("secrets", "github-token", "token", "tok-optional-3");
  auto r = ResolveCube(Load(yaml), Dirs());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->options.count("ref"), 0u);
}

TEST_F(ResolveTest, EmptyRequiredValueIsAnError) {
  std::string yaml = Sub(kGitCube, "value: https://$(TOKEN)@git.example/user/repo.git",
                         "valueFrom: {secretKeyRef: {name: u, key: url}}");
  Put("secrets", "u", "url", "");
  Put("secrets", "github-token", "token", "tok-4444");
  Put("configmaps", "refs", "ref", "main");
  auto r = ResolveCube(Load(yaml), Dirs());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("resolved to an empty value"), std::string_view::npos);
}

TEST_F(ResolveTest, LiteralCredentialsAreRedactedToo) {
  std::string yaml =
      Sub(kGitCube, "valueFrom:\n        secretKeyRef: {name: github-token, key: token}",
          "value: literal-token-5555");
  Put("configmaps", "refs", "ref", "main");
  auto r = ResolveCube(Load(yaml), Dirs());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Redact("literal-token-5555"), "***");
}

TEST_F(ResolveTest, GitLocationsNeverHoldTheToken) {
  Put("secrets", "github-token", "token", "ghp-plan-secret-6");
  Put("configmaps", "refs", "ref", "main");
  DataCube cube = Load(kGitCube);
  auto r = ResolveCube(cube, Dirs());
  ASSERT_TRUE(r.ok());
  PlanContext ctx;
  ctx.pvc_root = "/mnt/pvcs";
  auto t = PlanCubeTransfer(cube, *r, {}, ctx);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->config.options.at("token"), "ghp-plan-secret-6");
  // Printed forms never hold the token; the git module gets the URL and strips it itself.
  EXPECT_EQ(t->source.ToString(), "git+https://git.example/user/repo.git@main");
  EXPECT_EQ(t->sink.ToString(), "pvc://vol/dev/git");
  EXPECT_TRUE(t->pvc_is_sink);
  EXPECT_EQ(t->pvc_volume_dir, "/mnt/pvcs/vol");
}

TEST(TakeUrlToken, Forms) {
  std::string url = "https://user:tok@h/r.git";
  EXPECT_EQ(TakeUrlToken(url), "tok");
  EXPECT_EQ(url, "https://h/r.git");
  url = "https://tok@h:8443/r.git";
  EXPECT_EQ(TakeUrlToken(url), "tok");
  EXPECT_EQ(url, "https://h:8443/r.git");
  url = "https://h/a@b";
  EXPECT_EQ(TakeUrlToken(url), "");
  EXPECT_EQ(url, "https://h/a@b");
}

TEST(TransferEnv, ExecutorEnvWinsAndMasksBothCasesOfProxies) {
  EnvLookup process = [](const std::string& n) -> std::optional<std::string> {
    if (n == "https_proxy") return "http://process-proxy:1";
    if (n == "HOME") return "/root";
    return std::nullopt;
  };
  EnvLookup env = MakeTransferEnv({{"HTTPS_PROXY", "http://cube-proxy:2"}}, process);
  EXPECT_EQ(env("HTTPS_PROXY"), "http://cube-proxy:2");
  // HTTP clients prefer the lower-case name; the cube's value must win there too.
  EXPECT_EQ(env("https_proxy"), "http://cube-proxy:2");
  EXPECT_EQ(env("HOME"), "/root");
  EXPECT_EQ(env("NO_PROXY"), std::nullopt);
}

TEST(PlanCubeTransfer, S3DownloadWithSyncAndExtraArgs) {
  LoadResult r = LoadCube(R"(apiVersion: tensorstack.dev/v1beta1
kind: DataCube
metadata: {name: s}
spec:
  source:
    type: s3
    options:
    - {name: s3-endpoint, value: "http://127.0.0.1:9000"}
    - {name: s3-access-key-id, value: AKID}
    - {name: s3-secret-access-key, value: plan-secret-7}
    - {name: s3-uri, value: "s3://bucket/path/subpath"}
  sink:
    type: pvc
    pvc: {name: vol}
  executor:
    options:
      sync: true
      extraArgs: [--bwlimit, 100M, --jobs=3, --include, "*.safetensors", --cache-dir, /tmp/c]
)",
                          "c.yaml", {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  auto resolved = ResolveCube(r.cube, {});
  ASSERT_TRUE(resolved.ok());
  PlanContext ctx;
  ctx.pvc_root = "/p";
  auto t = PlanCubeTransfer(r.cube, *resolved, r.extra_args, ctx);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->source.ToString(), "s3://bucket/path/subpath");
  EXPECT_EQ(t->sink.ToString(), "pvc://vol");
  EXPECT_TRUE(t->options.delete_extra);
  EXPECT_EQ(t->options.bwlimit, 100ull << 20);
  EXPECT_EQ(t->options.jobs, 3u);
  EXPECT_TRUE(t->options.filter.Selected("a/model.safetensors"));
  EXPECT_FALSE(t->options.filter.Selected("a/model.bin"));
  EXPECT_EQ(t->config.options.at("s3-endpoint"), "http://127.0.0.1:9000");
  EXPECT_EQ(t->config.options.at("cache-dir"), "/tmp/c");
}

TEST(PlanCubeTransfer, NeedsAPvcRoot) {
  LoadResult r = LoadCube(R"(apiVersion: tensorstack.dev/v1beta1
kind: DataCube
metadata: {name: s}
spec:
  source:
    type: huggingface
    options: [{name: repo, value: org/m}, {name: files, value: "a.json, b/c.bin"}]
  sink: {type: pvc, pvc: {name: vol}}
)",
                          "c.yaml", {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  auto resolved = ResolveCube(r.cube, {});
  ASSERT_TRUE(resolved.ok());
  PlanContext ctx;
  ctx.process_env = [](const std::string&) { return std::nullopt; };
  auto t = PlanCubeTransfer(r.cube, *resolved, r.extra_args, ctx);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("--pvc-root"), std::string_view::npos);
  ctx.pvc_root = "/p";
  t = PlanCubeTransfer(r.cube, *resolved, r.extra_args, ctx);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->source.ToString(), "hf://org/m");
  // `files` selects exactly those paths, whatever the backend lists.
  EXPECT_TRUE(t->options.filter.Selected("a.json"));
  EXPECT_TRUE(t->options.filter.Selected("b/c.bin"));
  EXPECT_FALSE(t->options.filter.Selected("x/a.json"));
  EXPECT_FALSE(t->options.filter.Selected("README.md"));
}

}  // namespace
}  // namespace datacube::cube
