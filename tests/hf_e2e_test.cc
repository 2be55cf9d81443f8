// The datacube binary against the Hugging Face Hub fixture:
//   - cp hf://... downloads verified files; a rerun skips them and fetches nothing;
//   - the token never appears in stdout/stderr (text or JSON logs, errors) nor in any request to
//     the storage host the Hub redirects to (the fixture records every header);
//   - kill -9 in the middle of a large LFS file: nothing at the final path, and the rerun
//     fetches only what was not yet durable;
//   - a corrupted LFS file is caught, retried and finally reported; nothing corrupt lands;
//   - errors name the repository, revision or file, and say how to get access to a gated repo;
//   - `hf download --cache-dir` writes the huggingface_hub cache layout; `hf upload` and
//     `cp DIR hf://...` commit, and a round trip returns the same bytes;
//   - `datacube run` with the DataCube guide's huggingface examples (tests/cube_examples/, token
//     from a Secret) works.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <regex>
#include <set>

#include "datacube/storage/hf/cache_layout.h"
#include "tests/hf_fixture_process.h"

namespace datacube::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::vector<std::string> Dc(std::vector<std::string> args) {
  args.insert(args.begin(), DatacubeBin());
  return args;
}

CommandResult DcRun(const HfFixtureProcess& hub, const std::string& token,
                    std::vector<std::string> args) {
  CommandOptions o;
  o.env = hub.Env(token);
  if (token.empty()) o.env["HF_TOKEN"] = "";
  o.timeout = std::chrono::minutes(5);
  return RunCommand(Dc(std::move(args)), o);
}

std::string Describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

// Every byte the storage host served (sum of response sizes implied by Range headers).
// Bytes of the file covered by the ranges requested from the storage host, each distinct range
// counted once: a request the killed run sent just before it died can reach the fixture's record
// after the rerun started, and it asks for a part the rerun fetches too.
uint64_t StorageBytes(const json& requests, uint64_t file_size) {
  std::set<std::pair<uint64_t, uint64_t>> ranges;
  for (const auto& r : requests) {
    if (r["server"] != "storage" || r["method"] != "GET") continue;
    std::string range = RecordedHeader(r, "range");
    std::smatch m;
    if (std::regex_match(range, m, std::regex(R"(bytes=(\d+)-(\d*))"))) {
      uint64_t first = std::stoull(m[1]);
      uint64_t last = m[2].length() ? std::stoull(m[2]) : file_size - 1;
      ranges.emplace(first, std::min(last, file_size - 1));
    } else {
      ranges.emplace(0, file_size - 1);
    }
  }
  uint64_t total = 0;
  for (const auto& [first, last] : ranges) total += last - first + 1;
  return total;
}

class HfE2eTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(hub_.ok()) << hub_.log(); }
  HfFixtureProcess hub_;
  TempDir tmp_;
};

TEST_F(HfE2eTest, CpDownloadsVerifiedFilesAndTheRerunFetchesNothing) {
  json seeded = hub_.Seed(
      "dc-test/cp", json::array({
                        {{"path", "config.json"}, {"content", "{\"layers\": 2}"}},
                        {{"path", "tokenizer/tokenizer.json"}, {"content", "{\"v\": 1}"}},
                        {{"path", "model.safetensors"}, {"random_size", 20'000'000}, {"seed", 1}},
                    }));
  ASSERT_FALSE(seeded.is_null());
  auto r = DcRun(hub_, hub_.write_token,
                 {"--progress", "none", "cp", "hf://dc-test/cp", tmp_ / "out", "--part-size", "4M",
                  "--manifest-out", tmp_ / "manifest.jsonl"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  for (const auto& f : seeded["files"]) {
    EXPECT_EQ(Sha256OfFile(tmp_ / ("out/" + f["path"].get<std::string>())), f["sha256"]);
  }
  std::string manifest = ReadFile(tmp_ / "manifest.jsonl");
  for (const auto& f : seeded["files"]) {
    EXPECT_NE(manifest.find(f["sha256"].get<std::string>()), std::string::npos);
  }
  hub_.ClearRequests();
  auto again = DcRun(hub_, hub_.write_token, {"cp", "hf://dc-test/cp", tmp_ / "out"});
  ASSERT_EQ(again.exit_code, 0) << Describe(again);
  EXPECT_NE(again.err.find("copied 0 files"), std::string::npos) << again.err;
  for (const auto& req : hub_.Requests()) {
    EXPECT_EQ(req["target"].get<std::string>().find("/resolve/"), std::string::npos)
        << req["target"];
  }
}

TEST_F(HfE2eTest, TheTokenNeverAppearsInOutputOrAtTheStorageHost) {
  hub_.Seed("dc-test/secret", json::array({
                                  {{"path", "a.txt"}, {"content", "small"}},
                                  {{"path", "w.bin"}, {"random_size", 6'000'000}, {"seed", 2}},
                              }));
  hub_.ClearRequests();
  std::vector<CommandResult> runs;
  runs.push_back(DcRun(hub_, hub_.write_token,
                       {"-v", "--log-format", "json", "--progress", "json", "cp",
                        "hf://dc-test/secret", tmp_ / "out"}));
  EXPECT_EQ(runs.back().exit_code, 0) << Describe(runs.back());
  runs.push_back(
      DcRun(hub_, hub_.write_token, {"-v", "cp", "hf://dc-test/secret/nope.bin", tmp_ / "x"}));
  EXPECT_NE(runs.back().exit_code, 0);
  runs.push_back(
      DcRun(hub_, "",
            {"-v", "--token", hub_.write_token + "x", "cp", "hf://dc-test/secret", tmp_ / "y"}));
  EXPECT_NE(runs.back().exit_code, 0);
  EXPECT_NE(runs.back().err.find("rejected"), std::string::npos) << Describe(runs.back());
  runs.push_back(
      DcRun(hub_, hub_.write_token,
            {"hf", "upload", "dc-test/secret", tmp_ / "out", "again", "-m", "re-upload"}));
  EXPECT_EQ(runs.back().exit_code, 0) << Describe(runs.back());
  for (const auto& r : runs) {
    EXPECT_EQ(r.out.find(hub_.write_token), std::string::npos) << Describe(r);
    EXPECT_EQ(r.err.find(hub_.write_token), std::string::npos) << Describe(r);
  }
  int storage = 0, hub_with_auth = 0;
  for (const auto& req : hub_.Requests()) {
    std::string dump = req.dump();
    if (req["server"] == "storage") {
      ++storage;
      EXPECT_EQ(RecordedHeader(req, "authorization"), "") << dump;
      EXPECT_EQ(dump.find(hub_.write_token), std::string::npos) << dump;
    } else if (RecordedHeader(req, "authorization") == "Bearer " + hub_.write_token) {
      ++hub_with_auth;
    }
  }
  EXPECT_GE(storage, 1) << "the LFS file came from the storage host";
  EXPECT_GE(hub_with_auth, 3);
}

TEST_F(HfE2eTest, KillNineMidFileThenTheRerunFetchesOnlyWhatIsMissing) {
  const uint64_t kSize = 256ull << 20;
  json seeded = hub_.Seed("dc-test/big",
                          json::array({
                              {{"path", "model.safetensors"}, {"random_size", kSize}, {"seed", 3}},
                          }));
  ASSERT_FALSE(seeded.is_null());
  std::string sha = seeded["files"][0]["sha256"];
  std::string final_path = tmp_ / "out/model.safetensors";
  CommandOptions o;
  o.env = hub_.Env(hub_.write_token);
  int pid = SpawnCommand(Dc({"--progress", "none", "cp", "hf://dc-test/big", tmp_ / "out",
                             "--bwlimit", "40M", "--jobs", "4", "--part-size", "8M"}),
                         tmp_ / "run1.out", tmp_ / "run1.err", o);
  auto journal_parts = [&] {
    int parts = 0;
    if (!fs::exists(tmp_ / "out")) return 0;
    for (const auto& f : ListFilesRecursive(tmp_ / "out")) {
      if (f.size() > 8 && f.substr(f.size() - 8) == ".journal") {
        std::string text = ReadFile(tmp_ / ("out/" + f));
        for (size_t p = 0; (p = text.find("\npart ", p)) != std::string::npos; ++p) ++parts;
      }
    }
    return parts;
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (journal_parts() < 8 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  int durable = journal_parts();
  ASSERT_GE(durable, 8) << ReadFile(tmp_ / "run1.err");
  ::kill(pid, SIGKILL);
  WaitCommand(pid);
  EXPECT_FALSE(Exists(final_path)) << "a killed download leaves nothing at the final path";

  hub_.ClearRequests();
  auto r =
      DcRun(hub_, hub_.write_token, {"cp", "hf://dc-test/big", tmp_ / "out", "--part-size", "8M"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.err, m, std::regex(R"(resuming model.safetensors: (\d+) of 32)")))
      << r.err;
  uint64_t resumed = std::stoull(m[1]);
  EXPECT_GE(resumed + 1, static_cast<uint64_t>(durable)) << "journalled parts are reused";
  EXPECT_EQ(Sha256OfFile(final_path), sha);
  // Only the parts that were not durable came over the wire again.
  uint64_t fetched = StorageBytes(hub_.Requests(), kSize);
  EXPECT_EQ(fetched, kSize - resumed * (8ull << 20));
  EXPECT_EQ(ListFilesRecursive(tmp_ / "out"),
            (std::vector<std::string>{".gitattributes", "model.safetensors"}));
}

TEST_F(HfE2eTest, ACorruptedLfsFileIsRetriedThenReportedAndNothingLands) {
  json seeded = hub_.Seed("dc-test/corrupt",
                          json::array({
                              {{"path", "w.safetensors"}, {"random_size", 9'000'000}, {"seed", 4}},
                          }));
  std::string sha = seeded["files"][0]["sha256"];
  hub_.Control("corrupt", {{"sha256", sha}, {"times", -1}});
  hub_.ClearRequests();
  auto r = DcRun(hub_, hub_.write_token,
                 {"--progress", "none", "cp", "hf://dc-test/corrupt", tmp_ / "out", "--retries",
                  "3", "--part-size", "4M"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_NE(r.err.find("checksum mismatch"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("w.safetensors"), std::string::npos) << r.err;
  EXPECT_FALSE(Exists(tmp_ / "out/w.safetensors"));
  // Only the intact file; no partial or temporary file of the corrupted one.
  EXPECT_EQ(ListFilesRecursive(tmp_ / "out"), std::vector<std::string>{".gitattributes"});
  // Fetched once per attempt (the middle part is corrupted every time).
  int middle_fetches = 0;
  for (const auto& req : hub_.Requests()) {
    if (req["server"] == "storage" && req["status"] == 206) ++middle_fetches;
  }
  EXPECT_GE(middle_fetches, 3 * 3) << "three parts, three attempts";
  // Once the corruption stops, the same command succeeds.
  hub_.Control("corrupt", {{"sha256", sha}, {"times", 0}});
  auto ok = DcRun(hub_, hub_.write_token, {"cp", "hf://dc-test/corrupt", tmp_ / "out"});
  ASSERT_EQ(ok.exit_code, 0) << Describe(ok);
  EXPECT_EQ(Sha256OfFile(tmp_ / "out/w.safetensors"), sha);
}

TEST_F(HfE2eTest, ErrorsNameTheRepoRevisionOrFileAndSayHowToGetAccess) {
  hub_.Seed("dc-test/err", json::array({{{"path", "a.txt"}, {"content", "x"}}}));
  hub_.Control("repo", {{"type", "model"}, {"id", "dc-test/gated"}, {"gated", "manual"}});
  hub_.Seed("dc-test/gated", json::array({{{"path", "w.bin"}, {"content", "weights"}}}));

  auto gated = DcRun(hub_, hub_.read_token, {"cp", "hf://dc-test/gated", tmp_ / "g"});
  EXPECT_EQ(gated.exit_code, 1) << Describe(gated);
  EXPECT_NE(gated.err.find("request access"), std::string::npos) << gated.err;
  EXPECT_NE(gated.err.find(hub_.hub + "/dc-test/gated"), std::string::npos) << gated.err;

  auto repo = DcRun(hub_, hub_.write_token, {"cp", "hf://dc-test/nothing", tmp_ / "n"});
  EXPECT_EQ(repo.exit_code, 1);
  EXPECT_NE(repo.err.find("repository dc-test/nothing not found"), std::string::npos) << repo.err;
  auto rev = DcRun(hub_, hub_.write_token, {"cp", "hf://dc-test/err@v9", tmp_ / "n"});
  EXPECT_NE(rev.err.find("revision \"v9\" does not exist"), std::string::npos) << rev.err;
  auto file = DcRun(hub_, hub_.write_token,
                    {"hf", "download", "dc-test/err", "b.txt", "--local-dir", tmp_ / "n"});
  EXPECT_NE(file.exit_code, 0);
  EXPECT_NE(file.err.find("b.txt"), std::string::npos) << file.err;
  auto anon = DcRun(hub_, "", {"hf", "upload", "dc-test/err", tmp_ / "n"});
  EXPECT_NE(anon.exit_code, 0);
  EXPECT_NE(anon.err.find("token"), std::string::npos) << anon.err;
}

TEST_F(HfE2eTest, HfDownloadIntoTheCacheLayout) {
  json seeded =
      hub_.Seed("dc-test/cached",
                json::array({
                    {{"path", "config.json"}, {"content", "{}"}},
                    {{"path", "nested/w.safetensors"}, {"random_size", 3'000'000}, {"seed", 5}},
                }));
  std::string cache = tmp_ / "hub";
  auto r = DcRun(hub_, hub_.write_token,
                 {"--progress", "none", "hf", "download", "dc-test/cached", "--cache-dir", cache});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  storage::hf::RepoRef repo{storage::hf::RepoType::kModel, "dc-test/cached"};
  for (const auto& f : seeded["files"]) {
    auto path = storage::hf::TryLoadFromCache(cache, repo, f["path"]);
    ASSERT_TRUE(path.has_value()) << f["path"];
    EXPECT_EQ(Sha256OfFile(*path), f["sha256"]);
  }
  EXPECT_EQ(ReadFile(cache + "/models--dc-test--cached/refs/main"), seeded["commit"]);
  // The snapshot directory is printed for scripts (like `hf download`).
  EXPECT_NE(r.out.find("snapshots/" + seeded["commit"].get<std::string>()), std::string::npos);
  // HF_HUB_CACHE is the default when neither --cache-dir nor --local-dir is given.
  CommandOptions o;
  o.env = hub_.Env(hub_.write_token);
  o.env["HF_HUB_CACHE"] = tmp_ / "default-cache";
  auto d = RunCommand(Dc({"hf", "download", "dc-test/cached", "config.json"}), o);
  ASSERT_EQ(d.exit_code, 0) << Describe(d);
  EXPECT_TRUE(storage::hf::TryLoadFromCache(tmp_ / "default-cache", repo, "config.json"));
  EXPECT_FALSE(storage::hf::TryLoadFromCache(tmp_ / "default-cache", repo, "nested/w.safetensors"));
}

TEST_F(HfE2eTest, UploadWithCpAndHfUploadThenDownloadTheSameBytes) {
  fs::create_directories(tmp_ / "src/weights");
  WriteFile(tmp_ / "src/README.md", "# hello\n");
  std::string big_sha = WriteRandomFile(tmp_ / "src/weights/model.safetensors", 25'000'000, 6);
  auto cp = DcRun(hub_, hub_.write_token,
                  {"--progress", "none", "cp", tmp_ / "src", "hf://dc-test/up/sub"});
  EXPECT_NE(cp.exit_code, 0) << "the repo does not exist yet";
  EXPECT_NE(cp.err.find("dc-test/up"), std::string::npos) << cp.err;
  auto create = DcRun(hub_, hub_.write_token,
                      {"--progress", "none", "hf", "upload", "dc-test/up", tmp_ / "src", "sub",
                       "--create-repo", "-m", "First weights"});
  ASSERT_EQ(create.exit_code, 0) << Describe(create);
  EXPECT_NE(create.out.find("commit "), std::string::npos);
  auto cp2 = DcRun(hub_, hub_.write_token,
                   {"--progress", "none", "cp", tmp_ / "src", "hf://dc-test/up/sub"});
  ASSERT_EQ(cp2.exit_code, 0) << Describe(cp2);
  EXPECT_NE(cp2.err.find("skipped 2"), std::string::npos) << "identical files are skipped";
  auto pr =
      DcRun(hub_, hub_.write_token,
            {"hf", "upload", "dc-test/up", tmp_ / "src/README.md", "README.md", "--create-pr"});
  ASSERT_EQ(pr.exit_code, 0) << Describe(pr);
  EXPECT_NE(pr.out.find("/discussions/1"), std::string::npos) << pr.out;
  auto down = DcRun(hub_, hub_.write_token, {"cp", "hf://dc-test/up/sub", tmp_ / "back"});
  ASSERT_EQ(down.exit_code, 0) << Describe(down);
  EXPECT_EQ(Sha256OfFile(tmp_ / "back/weights/model.safetensors"), big_sha);
  EXPECT_EQ(ReadFile(tmp_ / "back/README.md"), "# hello\n");
  EXPECT_FALSE(Exists(tmp_ / "back/README.md.x"));
}

TEST_F(HfE2eTest, ExampleManifestsRunWithATokenFromASecret) {
  // The examples' repos: openai/whisper-large-v3 (source), user/repo (sink).
  hub_.Seed("openai/whisper-large-v3",
            json::array({
                {{"path", "README.md"}, {"content", "# whisper"}},
                {{"path", "tokenizer.json"}, {"content", "{\"tok\": 1}"}},
                {{"path", "tokenizer_config.json"}, {"content", "{\"cfg\": 1}"}},
                {{"path", "model.safetensors"}, {"random_size", 2'000'000}, {"seed", 7}},
            }));
  hub_.Control("repo", {{"type", "model"}, {"id", "user/repo"}});
  std::string secrets = tmp_ / "secrets";
  fs::create_directories(secrets + "/hf-token");
  WriteFile(secrets + "/hf-token/token", hub_.write_token);
  std::string examples = std::string(DATACUBE_SOURCE_ROOT) + "/tests/cube_examples";
  CommandOptions o;
  o.env = hub_.Env("");
  o.env["HF_TOKEN"] = "";
  o.timeout = std::chrono::minutes(3);
  std::string pvc_root = tmp_ / "pvcs";
  fs::create_directories(pvc_root + "/datacube-pvc");
  auto source =
      RunCommand(Dc({"run", "-f", examples + "/04-hf-source.yaml", "--secrets-dir", secrets,
                     "--pvc-root", pvc_root, "--status-file", tmp_ / "status-source.yaml"}),
                 o);
  ASSERT_EQ(source.exit_code, 0) << Describe(source) << ReadFile(tmp_ / "status-source.yaml");
  EXPECT_EQ(ReadFile(pvc_root + "/datacube-pvc/tokenizer.json"), "{\"tok\": 1}");
  EXPECT_EQ(ReadFile(pvc_root + "/datacube-pvc/README.md"), "# whisper");
  EXPECT_FALSE(Exists(pvc_root + "/datacube-pvc/model.safetensors")) << "not in `files`";

  fs::create_directories(pvc_root + "/datacube-pvc/dev/hf/whisper-large-v3/sub");
  WriteFile(pvc_root + "/datacube-pvc/dev/hf/whisper-large-v3/config.json", "{\"a\": 1}");
  WriteFile(pvc_root + "/datacube-pvc/dev/hf/whisper-large-v3/sub/notes.txt", "notes");
  auto sink = RunCommand(Dc({"run", "-f", examples + "/06-hf-upload.yaml", "--secrets-dir", secrets,
                             "--pvc-root", pvc_root, "--status-file", tmp_ / "status-sink.yaml"}),
                         o);
  ASSERT_EQ(sink.exit_code, 0) << Describe(sink) << ReadFile(tmp_ / "status-sink.yaml");
  auto back = DcRun(hub_, hub_.write_token, {"cp", "hf://user/repo/pvc/demo", tmp_ / "check"});
  ASSERT_EQ(back.exit_code, 0) << Describe(back);
  EXPECT_EQ(ReadFile(tmp_ / "check/config.json"), "{\"a\": 1}");
  EXPECT_EQ(ReadFile(tmp_ / "check/sub/notes.txt"), "notes");
  bool message_used = false;
  for (const auto& req : hub_.Requests()) {
    if (req["target"].get<std::string>().find("/api/models/user/repo/commit/") !=
        std::string::npos) {
      message_used = true;
    }
  }
  EXPECT_TRUE(message_used);
  for (const auto& r : {source, sink}) {
    EXPECT_EQ(r.out.find(hub_.write_token), std::string::npos);
    EXPECT_EQ(r.err.find(hub_.write_token), std::string::npos);
  }
  EXPECT_EQ(ReadFile(tmp_ / "status-sink.yaml").find(hub_.write_token), std::string::npos);
}

// Requests the Hub (or its storage host) received, control requests aside.
size_t HubRequests(const HfFixtureProcess& hub) {
  size_t n = 0;
  for (const auto& req : hub.Requests()) {
    if (req["target"].get<std::string>().rfind("/_fixture/", 0) != 0) ++n;
  }
  return n;
}

TEST_F(HfE2eTest, ATokenWithALineBreakIsRefusedBeforeAnyRequest) {
  hub_.Seed("dc-test/tok", json::array({{{"path", "a.txt"}, {"content", "x"}}}));
  const std::string injected = "hf_e2e_inj\r\nX-Evil: 1";
  WriteFile(tmp_ / "token-crlf", injected + "\n");
  WriteFile(tmp_ / "token-two-lines", "hf_e2e_inj\n\n");
  ASSERT_EQ(::mkfifo((tmp_ / "token-fifo").c_str(), 0600), 0);
  struct Case {
    std::string name;
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    std::string names;  // the source the error must name
  };
  std::vector<Case> cases = {
      {"--token-file", {"--token-file", tmp_ / "token-crlf"}, {}, "--token-file"},
      {"--token-file, two newlines",
       {"--token-file", tmp_ / "token-two-lines"},
       {},
       "--token-file"},
      {"--token-file FIFO", {"--token-file", tmp_ / "token-fifo"}, {}, "not a regular file"},
      {"--token-file directory", {"--token-file", tmp_.path()}, {}, "not a regular file"},
      {"--token", {"--token", injected}, {}, "--token"},
      {"HF_TOKEN", {}, {{"HF_TOKEN", injected}}, "HF_TOKEN"},
      {"HF_TOKEN_PATH", {}, {{"HF_TOKEN_PATH", tmp_ / "token-crlf"}}, "HF_TOKEN_PATH"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    hub_.ClearRequests();
    std::vector<std::string> args = c.args;
    for (const std::string a : {"cp", "hf://dc-test/tok"}) args.push_back(a);
    args.push_back(tmp_ / "out");
    CommandOptions o;
    o.env = hub_.Env("");
    o.env["HF_TOKEN"] = "";
    for (const auto& [k, v] : c.env) o.env[k] = v;
    o.timeout = std::chrono::seconds(30);
    auto r = RunCommand(Dc(args), o);
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_NE(r.err.find(c.names), std::string::npos) << Describe(r);
    EXPECT_EQ(r.err.find("hf_e2e_inj"), std::string::npos) << "the value is never shown";
    EXPECT_EQ(r.err.find("X-Evil"), std::string::npos) << Describe(r);
    EXPECT_EQ(HubRequests(hub_), 0u) << "nothing may be sent with a refused token";
    EXPECT_FALSE(Exists(tmp_ / "out/a.txt"));
  }
  // One trailing newline in a token file is fine.
  WriteFile(tmp_ / "token-ok", hub_.write_token + "\n");
  auto ok =
      DcRun(hub_, "", {"--token-file", tmp_ / "token-ok", "cp", "hf://dc-test/tok", tmp_ / "out"});
  EXPECT_EQ(ok.exit_code, 0) << Describe(ok);
  EXPECT_EQ(ReadFile(tmp_ / "out/a.txt"), "x");
}

TEST_F(HfE2eTest, ASecretTokenWithALineBreakFailsTheCubeAndSendsNothing) {
  hub_.Seed("openai/whisper-large-v3",
            json::array({
                {{"path", "README.md"}, {"content", "# whisper"}},
                {{"path", "tokenizer.json"}, {"content", "{\"tok\": 1}"}},
                {{"path", "tokenizer_config.json"}, {"content", "{\"cfg\": 1}"}},
            }));
  std::string secrets = tmp_ / "secrets";
  fs::create_directories(secrets + "/hf-token");
  WriteFile(secrets + "/hf-token/token", hub_.write_token + "\r\nX-Evil: 1\n");
  std::string pvc_root = tmp_ / "pvcs";
  fs::create_directories(pvc_root + "/datacube-pvc");
  hub_.ClearRequests();
  CommandOptions o;
  o.env = hub_.Env("");
  o.env["HF_TOKEN"] = "";
  o.timeout = std::chrono::minutes(2);
  auto r = RunCommand(
      Dc({"run", "-f", std::string(DATACUBE_SOURCE_ROOT) + "/tests/cube_examples/04-hf-source.yaml",
          "--secrets-dir", secrets, "--pvc-root", pvc_root, "--status-file", tmp_ / "status.yaml"}),
      o);
  std::string status = ReadFile(tmp_ / "status.yaml");
  EXPECT_NE(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.err.find("control character"), std::string::npos) << Describe(r);
  EXPECT_EQ(r.err.find(hub_.write_token), std::string::npos);
  EXPECT_EQ(status.find(hub_.write_token), std::string::npos) << status;
  EXPECT_EQ(HubRequests(hub_), 0u);
  EXPECT_EQ(ListFilesRecursive(pvc_root + "/datacube-pvc"), std::vector<std::string>());
}

TEST_F(HfE2eTest, AHostileListingOrRedirectFailsAndLandsNothing) {
  hub_.Seed("dc-test/hostile",
            json::array({
                {{"path", "a.txt"}, {"content", "x"}},
                {{"path", "w.safetensors"}, {"random_size", 100'000}, {"seed", 3}},
            }));
  struct Case {
    std::string name;
    json tamper;
    std::string says;
  };
  std::vector<Case> cases = {
      {"empty oid",
       {{"patch", {{"a.txt", {{"oid", ""}}}}}},
       "\"a.txt\" has the malformed git blob id"},
      {"negative size",
       {{"patch", {{"a.txt", {{"size", -5}}}}}},
       "\"a.txt\" has a malformed size -5"},
      {"escaping path",
       {{"extra", json::array({{{"type", "file"},
                                {"path", "../../escape"},
                                {"size", 1},
                                {"oid", std::string(40, 'a')}}})}},
       "\"..\" segment"},
      {"self link", {{"link", "self"}}, "links back to an earlier page"},
      {"redirect to file://",
       {{"redirect", {{"a.txt", "file:///etc/passwd"}}}},
       "refused redirect to file:///etc/passwd (only http/https)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    json body = c.tamper;
    body["type"] = "model";
    body["id"] = "dc-test/hostile";
    ASSERT_FALSE(hub_.Control("tamper", body).is_null());
    TempDir out, cache;
    auto cp = DcRun(hub_, hub_.write_token,
                    {"--progress", "none", "cp", "hf://dc-test/hostile", out.path()});
    EXPECT_EQ(cp.exit_code, 1) << Describe(cp);
    EXPECT_NE(cp.err.find(c.says), std::string::npos) << Describe(cp);
    EXPECT_EQ(cp.err.find("HTTP 0"), std::string::npos) << Describe(cp);
    auto dl = DcRun(
        hub_, hub_.write_token,
        {"--progress", "none", "hf", "download", "dc-test/hostile", "--cache-dir", cache.path()});
    EXPECT_EQ(dl.exit_code, 1) << Describe(dl);
    EXPECT_NE(dl.err.find(c.says), std::string::npos) << Describe(dl);
    EXPECT_FALSE(Exists(cache.path() + "/models--dc-test--hostile/refs/main"));
    EXPECT_FALSE(Exists(out.path() + "/a.txt"));
    EXPECT_FALSE(Exists(tmp_.path() + "/escape"));
    if (c.name != "redirect to file://") {
      // Refused at the listing: not one byte anywhere.
      EXPECT_EQ(ListFilesRecursive(out.path()), std::vector<std::string>());
      EXPECT_EQ(ListFilesRecursive(cache.path()), std::vector<std::string>());
    }
  }
  ASSERT_FALSE(hub_.Control("tamper", {{"type", "model"}, {"id", "dc-test/hostile"}}).is_null());
  TempDir cache;
  auto clean = DcRun(hub_, hub_.write_token,
                     {"hf", "download", "dc-test/hostile", "--cache-dir", cache.path()});
  EXPECT_EQ(clean.exit_code, 0) << Describe(clean);
  EXPECT_TRUE(Exists(cache.path() + "/models--dc-test--hostile/refs/main"));
}

}  // namespace
}  // namespace datacube::testing
