// `datacube run` end to end against the real servers of the test run:
//   - the DataCube guide's S3, Hugging Face and git examples (tests/cube_examples/) run
//     unchanged (endpoints reach loopback through the Secrets they reference, or through a
//     host-mapping proxy for github.com);
//   - retries through the fault proxy (fails the first two attempts: backoffLimit 2 succeeds,
//     backoffLimit 1 ends in BackoffLimitExceeded after 2 attempts);
//   - a throttled transfer ends within 2 s of activeDeadlineSeconds without torn files;
//   - executor.env HTTP_PROXY/HTTPS_PROXY sends the traffic through tinyproxy (its log shows it);
//   - --bwlimit holds the aggregate rate;
//   - sync deletes extra files only after a verified copy;
//   - no secret value appears in any byte of stdout, stderr, status files or logs.
#include <gtest/gtest.h>
#include <signal.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "testing/fault_proxy/fault_proxy_process.h"
#include "testing/test_util/test_util.h"

namespace datacube::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string ExamplesDir() { return std::string(DATACUBE_SOURCE_ROOT) + "/tests/cube_examples"; }

struct S3Server {
  std::string endpoint, access_key, secret_key;
};

struct GitServer {
  std::string host, token, repos;
};

std::optional<S3Server> S3FromEnv() {
  auto e = Env("DATACUBE_TEST_S3_ENDPOINT");
  auto a = Env("DATACUBE_TEST_S3_ACCESS_KEY");
  auto s = Env("DATACUBE_TEST_S3_SECRET_KEY");
  if (!e || !a || !s) return std::nullopt;
  return S3Server{*e, *a, *s};
}

std::optional<GitServer> GitFromEnv() {
  auto h = Env("DATACUBE_TEST_GIT_HOST");
  auto t = Env("DATACUBE_TEST_GIT_TOKEN");
  auto r = Env("DATACUBE_TEST_GIT_REPOS");
  if (!h || !t || !r) return std::nullopt;
  return GitServer{*h, *t, *r};
}

// What one `datacube run` produced.
struct CubeRun {
  CommandResult cmd;
  YAML::Node status;  // the status file's `status`, or stdout's
  double seconds = 0;
  std::string Reason() const {
    for (const auto& c : status["conditions"]) {
      if (c["type"].as<std::string>() == "Failed") return c["reason"].as<std::string>();
    }
    return "";
  }
  std::string Describe() const { return "stdout:\n" + cmd.out + "\nstderr:\n" + cmd.err; }
};

class CubeRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s3 = S3FromEnv();
    if (!s3) {
      if (ServersRequired()) FAIL() << "DATACUBE_TEST_S3_* not set (testing/servers/rgw.sh)";
      GTEST_SKIP() << "S3 test server not running (testing/servers/rgw.sh start DIR)";
    }
    s3_ = *s3;
    id_ = std::to_string(::getpid()) + "-" +
          ::testing::UnitTest::GetInstance()->current_test_info()->name();
    prefix_ = "spec-e2e/" + id_;
    WriteSecret("s3-config", "endpoint", s3_.endpoint);
    WriteSecret("s3-config", "accessKeyID", s3_.access_key);
    WriteSecret("s3-config", "secretAccessKey", s3_.secret_key);
    EnsureBucket();
  }

  void WriteSecret(const std::string& secret, const std::string& key, const std::string& value) {
    fs::create_directories(dir_ / ("secrets/" + secret));
    WriteFile(dir_ / ("secrets/" + secret + "/" + key), value);
  }

  // Runs datacube with AWS credentials in the environment (for setup commands only).
  CommandResult Datacube(std::vector<std::string> args,
                         std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), DatacubeBin());
    CommandOptions o;
    o.env = std::move(env);
    o.timeout = std::chrono::seconds(120);
    return RunCommand(args, o);
  }

  CommandResult S3Cli(std::vector<std::string> args) {
    args.push_back("--endpoint");
    args.push_back(s3_.endpoint);
    args.push_back("--progress");
    args.push_back("none");
    return Datacube(
        args, {{"AWS_ACCESS_KEY_ID", s3_.access_key}, {"AWS_SECRET_ACCESS_KEY", s3_.secret_key}});
  }

  void EnsureBucket() {
    static bool done = false;
    if (done) return;
    std::string marker = dir_ / "marker";
    fs::create_directories(marker);
    WriteFile(marker + "/README", "spec e2e tests");
    auto r = S3Cli({"cp", marker, "s3://bucket/spec-e2e/marker/"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    done = true;
  }

  void Upload(const std::string& local_dir, const std::string& s3_uri) {
    auto r = S3Cli({"cp", local_dir, s3_uri});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // Runs a cube file and parses its status file.
  CubeRun RunCube(const std::string& cube, const std::string& pvc_root,
                  std::vector<std::string> extra = {},
                  std::map<std::string, std::string> env = {}) {
    std::string status_file = dir_ / ("status-" + std::to_string(++runs_) + ".yaml");
    std::vector<std::string> args = {"run",
                                     "-f",
                                     cube,
                                     "--pvc-root",
                                     pvc_root,
                                     "--secrets-dir",
                                     dir_ / "secrets",
                                     "--status-file",
                                     status_file,
                                     "--attempt-backoff",
                                     "100ms"};
    if (std::find(extra.begin(), extra.end(), "--progress") == extra.end()) {
      extra.insert(extra.end(), {"--progress", "none"});
    }
    args.insert(args.end(), extra.begin(), extra.end());
    CubeRun run;
    auto start = Clock::now();
    run.cmd = Datacube(args, std::move(env));
    run.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    outputs_.push_back(run.cmd.out);
    outputs_.push_back(run.cmd.err);
    if (Exists(status_file)) {
      std::string text = ReadFile(status_file);
      outputs_.push_back(text);
      run.status = YAML::Load(text)["status"];
    }
    return run;
  }

  // A cube moving s3://bucket/<prefix_>/<sub> to or from pvc `vol`.
  std::string S3Cube(const std::string& name, const std::string& sub, bool download,
                     const std::string& executor = "", const std::string& secret = "s3-config") {
    std::string s3 =
        "    type: s3\n    options:\n"
        "    - {name: s3-endpoint, valueFrom: {secretKeyRef: {name: " +
        secret +
        ", key: endpoint}}}\n"
        "    - {name: s3-access-key-id, valueFrom: {secretKeyRef: {name: " +
        secret +
        ", key: accessKeyID}}}\n"
        "    - {name: s3-secret-access-key, valueFrom: {secretKeyRef: {name: " +
        secret +
        ", key: secretAccessKey}}}\n"
        "    - {name: s3-uri, value: \"s3://bucket/" +
        prefix_ + "/" + sub + "\"}\n";
    std::string pvc = "    type: pvc\n    pvc: {name: vol, subPath: data}\n";
    std::string text =
        "apiVersion: tensorstack.dev/v1beta1\nkind: DataCube\nmetadata:\n  name: " + name +
        "\nspec:\n  source:\n" + (download ? s3 : pvc) + "  sink:\n" + (download ? pvc : s3) +
        executor;
    std::string path = dir_ / (name + ".yaml");
    WriteFile(path, text);
    return path;
  }

  std::string PvcRoot(const std::string& name) {
    std::string root = dir_ / name;
    fs::create_directories(root + "/vol");
    return root;
  }

  TempDir dir_;
  S3Server s3_;
  std::string id_;
  std::string prefix_;
  int runs_ = 0;
  // Everything the runs printed or wrote, for the secret scan.
  std::vector<std::string> outputs_;
};

// Paths below `dir` that are neither complete nor hidden temporaries: must be none after an
// interrupted attempt.
std::vector<std::string> VisibleFiles(const std::string& dir) {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& rel : ListFilesRecursive(dir)) {
    std::string base = fs::path(rel).filename().string();
    if (base.find(".dctmp") != std::string::npos) continue;
    out.push_back(rel);
  }
  return out;
}

TEST_F(CubeRunTest, ExampleS3CubesRunUnchanged) {
  // The examples use s3://bucket/path/subpath and the Secret s3-config; the Secret points them
  // at the local RGW. Upload first (08, 13), then download (05, 09, 11, 12).
  // The prefix is the examples', shared by every run of this test: start from an empty one.
  auto rm = S3Cli({"rm", "-r", "s3://bucket/path/subpath/"});
  ASSERT_TRUE(rm.exit_code == 0 || rm.err.find("nothing") != std::string::npos) << rm.err;
  std::string up = PvcRoot("s3-up");
  std::string src = up + "/datacube-pvc/dev/hf/whisper-large-v3";
  fs::create_directories(src + "/sub");
  WriteRandomFile(src + "/model.safetensors", 2'500'000, 1);
  WriteFile(src + "/tokenizer.json", "{\"version\": \"1.0\"}");
  WriteFile(src + "/sub/config.json", "{\"layers\": 32}");

  CubeRun upload = RunCube(ExamplesDir() + "/08-s3-upload.yaml", up);
  ASSERT_EQ(upload.cmd.exit_code, 0) << upload.Describe();
  EXPECT_EQ(upload.status["phase"].as<std::string>(), "Succeeded");
  std::string digest = upload.status["result"]["manifestDigest"].as<std::string>();
  EXPECT_EQ(digest.size(), 7u + 64u);
  EXPECT_EQ(upload.status["result"]["files"].as<int>(), 3);

  CubeRun with_status = RunCube(ExamplesDir() + "/13-status.yaml", up);
  ASSERT_EQ(with_status.cmd.exit_code, 0) << with_status.Describe();
  EXPECT_EQ(with_status.status["result"]["manifestDigest"].as<std::string>(), digest);
  EXPECT_EQ(with_status.status["result"]["filesSkipped"].as<int>(), 3);

  std::string down = PvcRoot("s3-down");
  fs::create_directories(down + "/datacube-pvc");
  for (const char* example :
       {"05-s3-source.yaml", "09-executor-policy.yaml", "11-executor-env.yaml"}) {
    CubeRun r = RunCube(ExamplesDir() + "/" + example, down);
    ASSERT_EQ(r.cmd.exit_code, 0) << example << "\n" << r.Describe();
    EXPECT_EQ(r.status["phase"].as<std::string>(), "Succeeded") << example;
    EXPECT_EQ(r.status["attempts"].as<int>(), 1) << example;
    // What arrived is exactly what was uploaded.
    EXPECT_EQ(r.status["result"]["manifestDigest"].as<std::string>(), digest) << example;
  }
  EXPECT_EQ(Sha256OfFile(down + "/datacube-pvc/model.safetensors"),
            Sha256OfFile(src + "/model.safetensors"));

  WriteFile(down + "/datacube-pvc/stale.bin", "not in the bucket");
  CubeRun sync = RunCube(ExamplesDir() + "/12-s3-sync.yaml", down);
  ASSERT_EQ(sync.cmd.exit_code, 0) << sync.Describe();
  EXPECT_FALSE(Exists(down + "/datacube-pvc/stale.bin"));
  EXPECT_EQ(sync.status["result"]["filesDeleted"].as<int>(), 1);
  EXPECT_EQ(sync.status["result"]["manifestDigest"].as<std::string>(), digest);
}

TEST_F(CubeRunTest, ExampleGitCubesRunUnchanged) {
  auto git = GitFromEnv();
  if (!git) {
    if (ServersRequired()) FAIL() << "DATACUBE_TEST_GIT_* not set (testing/servers/git.sh)";
    GTEST_SKIP() << "git test server not running";
  }
  // The examples' URLs name github.com. A forward proxy maps github.com:443 to the local git server
  // (whose certificate names 127.0.0.1, hence GIT_SSL_NO_VERIFY for this test only).
  FaultProxyProcess proxy(FAULT_PROXY_BIN, {"--map", "github.com:443=" + git->host});
  ASSERT_TRUE(proxy.ok()) << proxy.error();
  for (const char* repo : {"owner/repo.git", "user/repo.git"}) {
    std::string bare = git->repos + "/" + repo;
    fs::remove_all(bare);
    fs::create_directories(bare);
    ASSERT_EQ(RunCommand({"git", "init", "-q", "--bare", bare}).exit_code, 0);
  }
  std::string work = dir_ / "gitwork";
  fs::create_directories(work);
  auto sh = [&](const std::string& cmd) {
    return RunCommand({"sh", "-c", "cd '" + work + "' && " + cmd}, {}).exit_code;
  };
  ASSERT_EQ(sh("git init -q -b master . && echo 'example repo' > README.md && git add . && "
               "git -c user.name=t -c user.email=t@example.test commit -qm init && "
               "git push -q '" +
               git->repos +
               "/owner/repo.git' master && "
               "git push -q '" +
               git->repos + "/user/repo.git' master:main"),
            0);
  WriteSecret("github-token", "token", git->token);
  std::map<std::string, std::string> env = {
      {"HTTPS_PROXY", proxy.url()}, {"GIT_SSL_NO_VERIFY", "1"}, {"HOME", dir_ / "home-plain"}};
  fs::create_directories(dir_ / "home-plain");
  // 01 and 02 carry no token: owner/repo is public (the test server lets anyone read a
  // repository flagged datacube-public-read). datacube ignores the user's git configuration, so
  // credentials there (a helper, an extraHeader) are never used.
  WriteFile(git->repos + "/owner/repo.git/datacube-public-read", "");
  std::map<std::string, std::string> env_auth = env;

  // Examples 01 and 02 clone without a token: the test server must allow anonymous reads of this
  // repository (testing/servers/git.sh marks it datacube-public-read).
  CommandOptions anonymous;
  anonymous.env = {{"GIT_SSL_NO_VERIFY", "1"},
                   {"GIT_TERMINAL_PROMPT", "0"},
                   {"GIT_CONFIG_NOSYSTEM", "1"},
                   {"HOME", dir_ / "home-plain"}};
  ASSERT_EQ(RunCommand({"git", "ls-remote", "https://" + git->host + "/owner/repo.git"}, anonymous)
                .exit_code,
            0)
      << "the running git test server does not allow anonymous reads; restart "
         "testing/servers/git.sh";
  std::string p1 = PvcRoot("git1");
  fs::create_directories(p1 + "/datacube-pvc");
  CubeRun r1 = RunCube(ExamplesDir() + "/01-git-download.yaml", p1, {}, env_auth);
  ASSERT_EQ(r1.cmd.exit_code, 0) << r1.Describe();
  EXPECT_EQ(ReadFile(p1 + "/datacube-pvc/repo/README.md"), "example repo\n");

  std::string p2 = PvcRoot("git2");  // no datacube-pvc: the template creates it
  CubeRun r2 = RunCube(ExamplesDir() + "/02-pvc-template.yaml", p2, {}, env_auth);
  ASSERT_EQ(r2.cmd.exit_code, 0) << r2.Describe();
  EXPECT_TRUE(Exists(p2 + "/datacube-pvc/dev/git/repo/README.md"));

  // 03 and 07 authenticate with the token from the Secret, nothing else.
  std::string p3 = PvcRoot("git3");
  fs::create_directories(p3 + "/datacube-pvc");
  CubeRun r3 = RunCube(ExamplesDir() + "/03-git-source-token.yaml", p3, {}, env);
  ASSERT_EQ(r3.cmd.exit_code, 0) << r3.Describe();
  EXPECT_EQ(ReadFile(p3 + "/datacube-pvc/repo/README.md"), "example repo\n");

  std::string p7 = PvcRoot("git7");
  std::string clone = p7 + "/datacube-pvc/dev/git/repo";
  fs::create_directories(p7 + "/datacube-pvc/dev/git");
  fs::copy(p3 + "/datacube-pvc/repo", clone, fs::copy_options::recursive);
  ASSERT_EQ(RunCommand({"sh", "-c",
                        "cd '" + clone +
                            "' && echo more >> README.md && "
                            "git -c user.name=t -c user.email=t@example.test commit -qam more"})
                .exit_code,
            0);
  CubeRun r7 = RunCube(ExamplesDir() + "/07-git-upload.yaml", p7, {}, env);
  ASSERT_EQ(r7.cmd.exit_code, 0) << r7.Describe();
  auto head = RunCommand(
      {"git", "--git-dir", git->repos + "/user/repo.git", "log", "-1", "--format=%s", "main"});
  EXPECT_EQ(head.out, "more\n");
  // Every git request went through the mapped github.com.
  for (const auto& line : proxy.LogLines(1)) {
    EXPECT_NE(line.find("\"target\":\"github.com:443\""), std::string::npos) << line;
  }
  for (const auto& out : outputs_) {
    EXPECT_EQ(out.find(git->token), std::string::npos) << out;
  }
}

// A Hub fixture of this test's own (testing/hf_fixture), so that the examples' repositories
// (openai/whisper-large-v3, user/repo) can exist with a token of the user "user".
class HubFixtureProcess {
 public:
  explicit HubFixtureProcess(const std::string& token) {
    pid_ = SpawnCommand(
        {DATACUBE_HF_FIXTURE_BIN, "--root", dir_ / "root", "--hub-port", "0", "--storage-port", "0",
         "--token", token + "=user", "--ready-file", dir_ / "ready"},
        dir_ / "out", dir_ / "err");
    for (int i = 0; i < 200 && !Exists(dir_ / "ready"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    if (!Exists(dir_ / "ready")) return;
    std::string ready = ReadFile(dir_ / "ready");  // "hub=URL storage=URL"
    size_t start = ready.find("hub=") + 4;
    hub_ = ready.substr(start, ready.find_first_of(" \n", start) - start);
  }
  ~HubFixtureProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      WaitCommand(pid_);
    }
  }
  const std::string& hub() const { return hub_; }
  // POSTs a control request (/_fixture/<what>) with a JSON body.
  CommandResult Control(const std::string& what, const std::string& json) const {
    return RunCommand({"curl", "-sf", "-X", "POST", "-H", "Content-Type: application/json",
                       "--data-binary", json, hub_ + "/_fixture/" + what});
  }

 private:
  TempDir dir_;
  int pid_ = -1;
  std::string hub_;
};

TEST_F(CubeRunTest, ExampleHuggingFaceCubesRunUnchanged) {
  const std::string token = "hf_specuser_" + std::to_string(::getpid()) + "x7Qm";
  HubFixtureProcess hub(token);
  ASSERT_FALSE(hub.hub().empty()) << "hub fixture did not start";
  auto seeded = hub.Control(
      "seed", R"({"type":"model","id":"openai/whisper-large-v3","files":[)"
              R"({"path":"README.md","content":"# whisper-large-v3\n"},)"
              R"({"path":"tokenizer.json","content":"{\"version\":\"1.0\"}"},)"
              R"({"path":"tokenizer_config.json","content":"{\"model_max_length\":448}"},)"
              R"({"path":"model.safetensors","random_size":3000000,"lfs":true}]})");
  ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
  ASSERT_EQ(hub.Control("repo", R"({"type":"model","id":"user/repo"})").exit_code, 0);
  WriteSecret("hf-token", "token", token);
  std::map<std::string, std::string> env = {{"HF_ENDPOINT", hub.hub()}};

  // 04 downloads exactly the `files` it names; 10 (same source, --cache-dir) finds them there.
  std::string down = PvcRoot("hf-down");
  fs::create_directories(down + "/datacube-pvc");
  CubeRun r4 = RunCube(ExamplesDir() + "/04-hf-source.yaml", down, {}, env);
  ASSERT_EQ(r4.cmd.exit_code, 0) << r4.Describe();
  EXPECT_EQ(ListFilesRecursive(down + "/datacube-pvc"),
            (std::vector<std::string>{"README.md", "tokenizer.json", "tokenizer_config.json"}));
  EXPECT_EQ(ReadFile(down + "/datacube-pvc/README.md"), "# whisper-large-v3\n");
  EXPECT_EQ(r4.status["result"]["files"].as<int>(), 3);
  CubeRun r10 = RunCube(ExamplesDir() + "/10-executor-extra-args.yaml", down, {}, env);
  ASSERT_EQ(r10.cmd.exit_code, 0) << r10.Describe();
  EXPECT_EQ(r10.status["result"]["filesSkipped"].as<int>(), 3);
  EXPECT_EQ(r10.status["result"]["manifestDigest"].as<std::string>(),
            r4.status["result"]["manifestDigest"].as<std::string>());

  // 06 uploads the PVC path to user/repo under pvc/demo.
  std::string up = PvcRoot("hf-up");
  std::string src = up + "/datacube-pvc/dev/hf/whisper-large-v3";
  fs::create_directories(src);
  WriteRandomFile(src + "/model.safetensors", 2'000'000, 21);
  WriteFile(src + "/config.json", "{\"d_model\": 1280}");
  CubeRun r6 = RunCube(ExamplesDir() + "/06-hf-upload.yaml", up, {}, env);
  ASSERT_EQ(r6.cmd.exit_code, 0) << r6.Describe();
  EXPECT_EQ(r6.status["result"]["files"].as<int>(), 2);
  auto got = RunCommand({"curl", "-sfL", "-o", dir_ / "fetched.bin",
                         hub.hub() + "/user/repo/resolve/main/pvc/demo/model.safetensors"});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(Sha256OfFile(dir_ / "fetched.bin"), Sha256OfFile(src + "/model.safetensors"));

  for (const auto& out : outputs_) EXPECT_EQ(out.find(token), std::string::npos) << out;
}

TEST_F(CubeRunTest, RetriesAttemptsThroughTheFaultProxy) {
  std::string local = dir_ / "retry-src";
  fs::create_directories(local);
  WriteRandomFile(local + "/one.bin", 200'000, 7);
  Upload(local, "s3://bucket/" + prefix_ + "/retry/");
  auto run_with = [&](int backoff_limit) {
    // The first two GETs of the object answer 503 SlowDown. With --retries 1 the engine does not
    // retry the request itself, so each of those fails a whole attempt.
    FaultProxyProcess proxy(FAULT_PROXY_BIN,
                            {"--upstream", s3_.endpoint, "--match",
                             "GET /bucket/" + prefix_ + "/retry/one.bin", "--fail-first", "2"});
    EXPECT_TRUE(proxy.ok()) << proxy.error();
    WriteSecret("s3-proxied", "endpoint", proxy.url());
    WriteSecret("s3-proxied", "accessKeyID", s3_.access_key);
    WriteSecret("s3-proxied", "secretAccessKey", s3_.secret_key);
    std::string cube =
        S3Cube("retry-" + std::to_string(backoff_limit), "retry", true,
               "  executor:\n    options:\n      backoffLimit: " + std::to_string(backoff_limit) +
                   "\n      extraArgs: [--retries, \"1\"]\n",
               "s3-proxied");
    CubeRun r = RunCube(cube, PvcRoot("retry-" + std::to_string(backoff_limit)));
    auto lines = proxy.LogLines();
    int faults = 0;
    for (const auto& l : lines) faults += l.find("\"fault\":\"fail\"") != std::string::npos;
    EXPECT_EQ(faults, 2);
    for (const auto& l : lines) outputs_.push_back(l);
    return r;
  };
  CubeRun ok = run_with(2);
  EXPECT_EQ(ok.cmd.exit_code, 0) << ok.Describe();
  EXPECT_EQ(ok.status["phase"].as<std::string>(), "Succeeded");
  EXPECT_EQ(ok.status["attempts"].as<int>(), 3);

  CubeRun failed = run_with(1);
  EXPECT_EQ(failed.cmd.exit_code, 1) << failed.Describe();
  EXPECT_EQ(failed.status["phase"].as<std::string>(), "Failed");
  EXPECT_EQ(failed.status["attempts"].as<int>(), 2);
  EXPECT_EQ(failed.Reason(), "BackoffLimitExceeded");
}

TEST_F(CubeRunTest, DeadlineEndsAThrottledAttemptWithinTwoSeconds) {
  std::string local = dir_ / "slow-src";
  fs::create_directories(local);
  WriteRandomFile(local + "/big.bin", 3'000'000, 3);
  Upload(local, "s3://bucket/" + prefix_ + "/slow/");
  // 3 MB through a proxy held to 300 kB/s needs ~10 s; the deadline is 2 s.
  FaultProxyProcess proxy(FAULT_PROXY_BIN, {"--upstream", s3_.endpoint, "--rate", "300000"});
  ASSERT_TRUE(proxy.ok()) << proxy.error();
  WriteSecret("s3-slow", "endpoint", proxy.url());
  WriteSecret("s3-slow", "accessKeyID", s3_.access_key);
  WriteSecret("s3-slow", "secretAccessKey", s3_.secret_key);
  std::string cube =
      S3Cube("slow", "slow", true, "  executor:\n    options:\n      activeDeadlineSeconds: 2\n",
             "s3-slow");
  std::string pvc = PvcRoot("slow");
  CubeRun r = RunCube(cube, pvc);
  EXPECT_EQ(r.cmd.exit_code, 1) << r.Describe();
  EXPECT_EQ(r.Reason(), "DeadlineExceeded");
  EXPECT_LT(r.seconds, 2.0 + 2.0);
  EXPECT_GE(r.seconds, 1.9);
  EXPECT_TRUE(VisibleFiles(pvc + "/vol/data").empty())
      << "torn file: " << VisibleFiles(pvc + "/vol/data")[0];
}

TEST_F(CubeRunTest, ExecutorEnvProxiesGoThroughTinyproxy) {
  auto proxy_url = Env("DATACUBE_TEST_PROXY_URL");
  auto proxy_log = Env("DATACUBE_TEST_PROXY_LOG");
  if (!proxy_url || !proxy_log) {
    if (ServersRequired()) FAIL() << "DATACUBE_TEST_PROXY_* not set (testing/servers/tinyproxy.sh)";
    GTEST_SKIP() << "tinyproxy not running";
  }
  std::string local = dir_ / "proxy-src";
  fs::create_directories(local);
  WriteRandomFile(local + "/w.bin", 100'000, 5);
  Upload(local, "s3://bucket/" + prefix_ + "/proxy/");
  std::string object = "/bucket/" + prefix_ + "/proxy/w.bin";
  auto count_in_log = [&](const std::string& what) {
    std::string log = ReadFile(*proxy_log);
    size_t n = 0;
    for (size_t pos = log.find(what); pos != std::string::npos; pos = log.find(what, pos + 1)) ++n;
    return n;
  };
  // Without executor.env the request does not touch the proxy.
  CubeRun direct = RunCube(S3Cube("no-proxy", "proxy", true), PvcRoot("direct"));
  ASSERT_EQ(direct.cmd.exit_code, 0) << direct.Describe();
  EXPECT_EQ(count_in_log(object), 0u);

  CubeRun proxied = RunCube(
      S3Cube("via-proxy", "proxy", true,
             "  executor:\n    env:\n    - name: HTTP_PROXY\n      value: " + *proxy_url + "\n"),
      PvcRoot("proxied"));
  ASSERT_EQ(proxied.cmd.exit_code, 0) << proxied.Describe();
  EXPECT_GE(count_in_log("GET " + s3_.endpoint + object), 1u) << ReadFile(*proxy_log);

  // HTTPS: a git download with HTTPS_PROXY makes git CONNECT through tinyproxy.
  auto git = GitFromEnv();
  if (!git) {
    if (ServersRequired()) FAIL() << "DATACUBE_TEST_GIT_* not set (testing/servers/git.sh)";
    return;
  }
  std::string bare = git->repos + "/spec-proxy-" + id_ + ".git";
  ASSERT_EQ(RunCommand({"sh", "-c",
                        "git init -q --bare '" + bare +
                            "' && d=$(mktemp -d) && cd $d "
                            "&& git init -q -b main . && echo hi > a && git add a && git -c "
                            "user.name=t -c user.email=t@t commit -qm a && git push -q '" +
                            bare + "' main && rm -rf $d"})
                .exit_code,
            0);
  WriteSecret("git", "token", git->token);
  std::string cube = dir_ / "git-proxy.yaml";
  WriteFile(cube,
            "apiVersion: tensorstack.dev/v1beta1\nkind: DataCube\nmetadata: {name: gp}\n"
            "spec:\n  source:\n    type: git\n    options:\n"
            "    - {name: url, value: \"https://" +
                git->host + "/spec-proxy-" + id_ +
                ".git\"}\n    - {name: ref, value: main}\n"
                "    - {name: token, valueFrom: {secretKeyRef: {name: git, key: token}}}\n"
                "  sink: {type: pvc, pvc: {name: vol}}\n"
                "  executor:\n    env:\n    - {name: HTTPS_PROXY, value: \"" +
                *proxy_url + "\"}\n    - {name: GIT_SSL_CAINFO, value: \"" +
                Env("DATACUBE_TEST_GIT_CA").value_or("") + "\"}\n");
  size_t before = count_in_log("CONNECT " + git->host);
  CubeRun g = RunCube(cube, PvcRoot("git-proxy"));
  ASSERT_EQ(g.cmd.exit_code, 0) << g.Describe();
  EXPECT_GT(count_in_log("CONNECT " + git->host), before) << ReadFile(*proxy_log);
}

TEST_F(CubeRunTest, BwlimitHoldsTheAggregateRate) {
  std::string local = dir_ / "bw-src";
  fs::create_directories(local);
  for (int i = 0; i < 8; ++i) {
    WriteRandomFile(local + "/f" + std::to_string(i) + ".bin", 512 << 10, 100 + i);
  }
  Upload(local, "s3://bucket/" + prefix_ + "/bw/");
  // 4 MiB over 4 workers at 1 MiB/s: the limiter allows a one-second burst, so at least ~3 s.
  std::string cube = S3Cube("bw", "bw", true,
                            "  executor:\n    options:\n      extraArgs: [--bwlimit, 1M, --jobs, "
                            "\"4\", --part-size, 256K]\n");
  CubeRun r = RunCube(cube, PvcRoot("bw"));
  ASSERT_EQ(r.cmd.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.status["result"]["bytesCopied"].as<uint64_t>(), 4u << 20);
  EXPECT_GE(r.seconds, 2.8);
  EXPECT_LE(r.seconds, 8.0);
  double rate = static_cast<double>(4 << 20) / r.seconds;
  EXPECT_LE(rate, 1.4 * (1 << 20)) << "aggregate rate " << rate << " B/s";
}

TEST_F(CubeRunTest, StatusFileShowsProgressAndSigtermEndsWithInterrupted) {
  std::string local = dir_ / "watch-src";
  fs::create_directories(local);
  WriteRandomFile(local + "/w.bin", 4 << 20, 31);
  Upload(local, "s3://bucket/" + prefix_ + "/watch/");
  std::string cube =
      S3Cube("watch", "watch", true,
             "  executor:\n    options:\n      extraArgs: [--bwlimit, 512K, --part-size, 256K]\n");
  std::string status_file = dir_ / "watch-status.yaml";
  int pid = SpawnCommand({DatacubeBin(), "run", "-f", cube, "--pvc-root", PvcRoot("watch"),
                          "--secrets-dir", dir_ / "secrets", "--status-file", status_file,
                          "--status-interval", "200ms", "--progress", "none"},
                         dir_ / "watch.out", dir_ / "watch.err");
  // A watcher sees the run move: Running, with bytes done growing, before it ends.
  uint64_t first = 0, later = 0;
  for (int i = 0; i < 100 && later <= first; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!Exists(status_file)) continue;
    YAML::Node st = YAML::Load(ReadFile(status_file))["status"];
    if (st["phase"].as<std::string>() != "Running" || !st["progress"]) continue;
    uint64_t done = st["progress"]["bytesDone"].as<uint64_t>();
    if (first == 0 && done > 0) {
      first = done;
    } else if (first > 0) {
      later = done;
    }
  }
  EXPECT_GT(first, 0u);
  EXPECT_GT(later, first);
  ::kill(pid, SIGTERM);
  EXPECT_EQ(WaitCommand(pid), 143);  // 128 + SIGTERM
  EXPECT_NE(ReadFile(dir_ / "watch.err").find("interrupted by SIGTERM; rerun to resume"),
            std::string::npos);
  YAML::Node st = YAML::Load(ReadFile(status_file))["status"];
  EXPECT_EQ(st["phase"].as<std::string>(), "Failed");
  for (const auto& c : st["conditions"]) {
    if (c["type"].as<std::string>() == "Failed") {
      EXPECT_EQ(c["reason"].as<std::string>(), "Interrupted");
    }
  }
  EXPECT_EQ(st["attempts"].as<int>(), 1);
}

TEST_F(CubeRunTest, SyncDeletesOnlyAfterAVerifiedCopy) {
  std::string local = dir_ / "sync-src";
  fs::create_directories(local);
  WriteRandomFile(local + "/a.bin", 300'000, 11);
  WriteRandomFile(local + "/b.bin", 300'000, 12);
  Upload(local, "s3://bucket/" + prefix_ + "/sync/");
  std::string pvc = PvcRoot("sync");
  fs::create_directories(pvc + "/vol/data");
  WriteFile(pvc + "/vol/data/stale.txt", "extra");
  std::string exec =
      "  executor:\n    options:\n      sync: true\n"
      "      extraArgs: [--retries, \"2\"]\n";
  for (const char* fault : {"--cut-first", "--corrupt-first"}) {
    // Every GET of b.bin is cut short (or has a byte flipped): the copy cannot be verified.
    FaultProxyProcess proxy(
        FAULT_PROXY_BIN,
        {"--upstream", s3_.endpoint, "--match", "GET /bucket/" + prefix_ + "/sync/b.bin", fault,
         "1000", "--cut-after", "1000", "--corrupt-offset", "5000"});
    ASSERT_TRUE(proxy.ok()) << proxy.error();
    WriteSecret("s3-faulty", "endpoint", proxy.url());
    WriteSecret("s3-faulty", "accessKeyID", s3_.access_key);
    WriteSecret("s3-faulty", "secretAccessKey", s3_.secret_key);
    CubeRun bad = RunCube(S3Cube("sync-bad", "sync", true, exec, "s3-faulty"), pvc);
    EXPECT_EQ(bad.cmd.exit_code, 1) << fault << "\n" << bad.Describe();
    EXPECT_TRUE(Exists(pvc + "/vol/data/stale.txt")) << fault;
    EXPECT_FALSE(Exists(pvc + "/vol/data/b.bin")) << fault;
    if (std::string(fault) == "--corrupt-first") {
      EXPECT_EQ(bad.Reason(), "ChecksumMismatch") << bad.Describe();
    }
  }
  CubeRun good = RunCube(S3Cube("sync-good", "sync", true, exec), pvc);
  ASSERT_EQ(good.cmd.exit_code, 0) << good.Describe();
  EXPECT_FALSE(Exists(pvc + "/vol/data/stale.txt"));
  EXPECT_EQ(Sha256OfFile(pvc + "/vol/data/b.bin"), Sha256OfFile(local + "/b.bin"));
  EXPECT_EQ(good.status["result"]["filesDeleted"].as<int>(), 1);
}

TEST_F(CubeRunTest, NoSecretInAnyOutput) {
  std::string local = dir_ / "secret-src";
  fs::create_directories(local);
  WriteRandomFile(local + "/s.bin", 50'000, 9);
  Upload(local, "s3://bucket/" + prefix_ + "/secret/");
  const std::string wrong_secret = "WrongSecretValue-" + id_;
  WriteSecret("s3-wrong", "endpoint", s3_.endpoint);
  WriteSecret("s3-wrong", "accessKeyID", s3_.access_key);
  WriteSecret("s3-wrong", "secretAccessKey", wrong_secret);
  std::vector<std::string> verbose = {"-v", "--log-format", "json", "--progress", "json"};

  // Success, with verbose JSON logs and JSON progress.
  CubeRun ok = RunCube(S3Cube("secret-ok", "secret", true), PvcRoot("s-ok"), verbose);
  EXPECT_EQ(ok.cmd.exit_code, 0) << ok.Describe();
  // A rejected secret key: the error talks about the signature, never the key.
  CubeRun denied = RunCube(S3Cube("secret-denied", "secret", true,
                                  "  executor:\n    options: {backoffLimit: 1}\n", "s3-wrong"),
                           PvcRoot("s-denied"), verbose);
  EXPECT_EQ(denied.cmd.exit_code, 1) << denied.Describe();
  EXPECT_TRUE(denied.Reason() == "BackoffLimitExceeded") << denied.Describe();
  // The status printed to stdout (no --status-file), with text logs.
  CommandResult to_stdout =
      Datacube({"run", "-f", S3Cube("secret-stdout", "secret", true), "--pvc-root",
                PvcRoot("s-stdout"), "--secrets-dir", dir_ / "secrets", "-v"});
  EXPECT_EQ(to_stdout.exit_code, 0) << to_stdout.err;
  outputs_.push_back(to_stdout.out);
  outputs_.push_back(to_stdout.err);
  // A secret literal in the URL of a git source that cannot be reached.
  std::string git_cube = dir_ / "git-literal.yaml";
  WriteFile(git_cube,
            "apiVersion: tensorstack.dev/v1beta1\nkind: DataCube\nmetadata: {name: gl}\n"
            "spec:\n  source:\n    type: git\n    options:\n"
            "    - {name: token, valueFrom: {secretKeyRef: {name: s3-config, key: "
            "secretAccessKey}}}\n"
            "    - {name: url, value: \"https://$(TOKEN)@127.0.0.1:1/o/r.git\"}\n"
            "  sink: {type: pvc, pvc: {name: vol}}\n");
  CubeRun g = RunCube(git_cube, PvcRoot("s-git"), verbose);
  EXPECT_EQ(g.cmd.exit_code, 1) << g.Describe();
  // Through a proxy that answers every request 503: retries, server errors, and the proxy's log.
  FaultProxyProcess failing(FAULT_PROXY_BIN,
                            {"--upstream", s3_.endpoint, "--fail-first", "1000000"});
  ASSERT_TRUE(failing.ok()) << failing.error();
  WriteSecret("s3-failing", "endpoint", failing.url());
  WriteSecret("s3-failing", "accessKeyID", s3_.access_key);
  WriteSecret("s3-failing", "secretAccessKey", s3_.secret_key);
  CubeRun unavailable =
      RunCube(S3Cube("secret-503", "secret", true, "", "s3-failing"), PvcRoot("s-503"), verbose);
  EXPECT_EQ(unavailable.cmd.exit_code, 1) << unavailable.Describe();
  EXPECT_EQ(unavailable.Reason(), "Unavailable") << unavailable.Describe();
  for (const auto& line : failing.LogLines(1)) outputs_.push_back(line);
  // Validation output of a cube with a literal credential.
  CommandResult v = Datacube({"validate-cube", "-f", S3Cube("secret-v", "secret", true)});
  outputs_.push_back(v.out);
  outputs_.push_back(v.err);

  ASSERT_GE(outputs_.size(), 10u);
  for (const std::string& secret : {s3_.secret_key, s3_.access_key, wrong_secret}) {
    for (const auto& out : outputs_) {
      EXPECT_EQ(out.find(secret), std::string::npos) << "secret value found in output:\n" << out;
    }
  }
}

}  // namespace
}  // namespace datacube::testing
