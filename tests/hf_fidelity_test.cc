// Fidelity proof of the Hugging Face Hub fixture: the official JavaScript client @huggingface/hub
// (node_modules, driven by tests/hf_fidelity/fidelity.mjs) lists, downloads, uploads small and
// LFS-size files (basic and HF multipart), commits deletions and reads caches against it. When
// the official client and the fixture disagree, the fixture is wrong.
//
// Each direction is crossed with datacube: what the official client uploads, datacube downloads
// byte for byte, and the reverse; the cache datacube writes is scanned by the library's own
// cache code, and the snapshot the library writes is found by datacube's loader.
#include <gtest/gtest.h>

#include <filesystem>

#include "datacube/storage/hf/cache_layout.h"
#include "tests/hf_fixture_process.h"

namespace datacube::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Script() {
  return std::string(DATACUBE_SOURCE_ROOT) + "/tests/hf_fidelity/fidelity.mjs";
}

class HfFidelityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    HfFixtureOptions o;
    o.tree_page_size = 3;  // the client must follow Link headers
    o.multipart_threshold = 16ull << 20;
    o.multipart_chunk = 5ull << 20;
    hub_ = new HfFixtureProcess(o);
  }
  static void TearDownTestSuite() {
    delete hub_;
    hub_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(hub_->ok()) << hub_->log();
    auto node = RunCommand({"node", "--version"});
    ASSERT_EQ(node.exit_code, 0) << "node is needed for the fidelity tests (scripts/deps)";
    ASSERT_TRUE(fs::exists(std::string(DATACUBE_SOURCE_ROOT) +
                           "/node_modules/@huggingface/hub/package.json"))
        << "run scripts/install-deps.sh (npm packages)";
  }

  // Runs one operation of the official client; parameters go over stdin.
  json Js(const std::string& op, json params, bool with_token = true, int* exit_code = nullptr) {
    params["hubUrl"] = hub_->hub;
    if (with_token && !params.contains("accessToken")) params["accessToken"] = hub_->write_token;
    CommandOptions o;
    o.stdin_data = params.dump();
    o.timeout = std::chrono::minutes(3);
    auto r = RunCommand({"node", Script(), op}, o);
    if (exit_code) *exit_code = r.exit_code;
    EXPECT_TRUE(r.exit_code == 0 || exit_code) << op << ": " << r.out << r.err;
    EXPECT_EQ(r.out.find(hub_->write_token), std::string::npos);
    // The library logs progress with console.debug on stdout; the answer is the last line.
    std::string last = r.out;
    while (!last.empty() && last.back() == '\n') last.pop_back();
    last = last.substr(last.rfind('\n') == std::string::npos ? 0 : last.rfind('\n') + 1);
    json out = json::parse(last, nullptr, false);
    return out.is_discarded() ? json{{"error", r.out + r.err}} : out;
  }

  CommandResult Dc(std::vector<std::string> args) {
    args.insert(args.begin(), DatacubeBin());
    CommandOptions o;
    o.env = hub_->Env(hub_->write_token);
    o.timeout = std::chrono::minutes(3);
    return RunCommand(args, o);
  }

  static HfFixtureProcess* hub_;
  TempDir tmp_;
};

HfFixtureProcess* HfFidelityTest::hub_ = nullptr;

TEST_F(HfFidelityTest, OfficialClientListsAndDownloadsWhatTheFixtureServes) {
  json seeded = hub_->Seed(
      "dc-test/served",
      json::array({
          {{"path", "config.json"}, {"content", "{\"a\": 1}"}},
          {{"path", "a/b/deep.txt"}, {"content", "deep"}},
          {{"path", "a/c.txt"}, {"content", "c"}},
          {{"path", "weights/model.safetensors"}, {"random_size", 3'000'000}, {"seed", 21}},
          {{"path", "z.bin"}, {"random_size", 1000}, {"seed", 22}},
      }));
  ASSERT_FALSE(seeded.is_null());
  json info = Js("info", {{"repo", "dc-test/served"}});
  EXPECT_EQ(info["sha"], seeded["commit"]) << info.dump();

  json list = Js("list", {{"repo", "dc-test/served"}});
  ASSERT_TRUE(list.contains("entries")) << list.dump();
  std::map<std::string, json> by_path;
  for (const auto& e : list["entries"]) by_path[e["path"]] = e;
  EXPECT_EQ(by_path["a"]["type"], "directory");
  EXPECT_EQ(by_path["a/b"]["type"], "directory");
  for (const auto& f : seeded["files"]) {
    const json& e = by_path[f["path"].get<std::string>()];
    ASSERT_FALSE(e.is_null()) << f["path"] << " missing from " << list.dump();
    EXPECT_EQ(e["type"], "file");
    EXPECT_EQ(e["size"], f["size"]);
    EXPECT_EQ(e["oid"], f["oid"]);
    if (f["lfs"].get<bool>()) {
      EXPECT_EQ(e["lfs"]["oid"], f["sha256"]);
      EXPECT_EQ(e["lfs"]["size"], f["size"]);
    } else {
      EXPECT_TRUE(e["lfs"].is_null());
    }
  }
  for (const auto& f : seeded["files"]) {
    json d = Js("download", {{"repo", "dc-test/served"}, {"path", f["path"]}});
    EXPECT_EQ(d["sha256"], f["sha256"]) << f["path"] << ": " << d.dump();
    EXPECT_EQ(d["infoSize"], f["size"]) << d.dump();
  }
  json missing = Js("download", {{"repo", "dc-test/served"}, {"path", "nope.txt"}});
  EXPECT_EQ(missing["missing"], true) << "EntryNotFound is recognised: " << missing.dump();

  json paths = Js("paths", {{"repo", "dc-test/served"},
                            {"paths", {"config.json", "a", "weights/model.safetensors", "x"}}});
  ASSERT_EQ(paths["entries"].size(), 3u) << paths.dump();
  EXPECT_EQ(paths["entries"][1]["type"], "directory");

  // The client reached LFS bytes on the storage host without sending the token there.
  int storage = 0;
  for (const auto& r : hub_->Requests()) {
    if (r["server"] != "storage") continue;
    ++storage;
    EXPECT_EQ(RecordedHeader(r, "authorization"), "") << r.dump();
  }
  EXPECT_GE(storage, 1);
}

TEST_F(HfFidelityTest, WhatTheOfficialClientUploadsDatacubeDownloads) {
  json created = Js("create", {{"repo", "dc-test/js-upload"}});
  ASSERT_FALSE(created.contains("error")) << created.dump();
  EXPECT_EQ(created["repoUrl"], hub_->hub + "/dc-test/js-upload");
  std::string lfs_sha = WriteRandomFile(tmp_ / "lfs.bin", 12'000'000, 31);      // basic
  std::string multi_sha = WriteRandomFile(tmp_ / "multi.bin", 18'000'000, 32);  // multipart
  json up = Js("upload", {{"repo", "dc-test/js-upload"},
                          {"title", "from the official client"},
                          {"files",
                           {{{"path", "README.md"}, {"content", "# js\n"}},
                            {{"path", "data/lfs.bin"}, {"localPath", tmp_ / "lfs.bin"}},
                            {{"path", "data/multi.bin"}, {"localPath", tmp_ / "multi.bin"}}}}});
  ASSERT_TRUE(up.contains("commit")) << up.dump();
  bool multipart = false, basic = false;
  for (const auto& r : hub_->Requests()) {
    std::string target = r["target"];
    if (r["server"] == "storage" && target.rfind("/part/", 0) == 0) multipart = true;
    if (r["server"] == "storage" && target.rfind("/upload/", 0) == 0) basic = true;
  }
  EXPECT_TRUE(multipart && basic) << "both LFS transfers were exercised";
  auto r = Dc({"--progress", "none", "cp", "hf://dc-test/js-upload", tmp_ / "out"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Sha256OfFile(tmp_ / "out/data/lfs.bin"), lfs_sha);
  EXPECT_EQ(Sha256OfFile(tmp_ / "out/data/multi.bin"), multi_sha);
  EXPECT_EQ(ReadFile(tmp_ / "out/README.md"), "# js\n");
  json list = Js("list", {{"repo", "dc-test/js-upload"}});
  for (const auto& e : list["entries"]) {
    if (e["path"] == "data/lfs.bin") EXPECT_EQ(e["lfs"]["oid"], lfs_sha);
    if (e["path"] == "README.md") EXPECT_TRUE(e["lfs"].is_null());
  }
  // A deletion committed by the client is seen by datacube.
  json del = Js("delete", {{"repo", "dc-test/js-upload"}, {"paths", {"README.md"}}});
  ASSERT_TRUE(del.contains("commit")) << del.dump();
  auto st = Dc({"stat", "hf://dc-test/js-upload/README.md"});
  EXPECT_NE(st.exit_code, 0);
}

TEST_F(HfFidelityTest, WhatDatacubeUploadsTheOfficialClientDownloads) {
  fs::create_directories(tmp_ / "src/sub");
  WriteFile(tmp_ / "src/config.json", "{\"layers\": 4}");
  std::string lfs_sha = WriteRandomFile(tmp_ / "src/sub/model.safetensors", 20'000'000, 41);
  auto r = Dc({"--progress", "none", "hf", "upload", "dc-test/dc-upload", tmp_ / "src",
               "--create-repo", "-m", "from datacube"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json d = Js("download", {{"repo", "dc-test/dc-upload"}, {"path", "sub/model.safetensors"}});
  EXPECT_EQ(d["sha256"], lfs_sha) << d.dump();
  json c = Js("download", {{"repo", "dc-test/dc-upload"}, {"path", "config.json"}});
  EXPECT_EQ(c["size"], 13);
  json list = Js("list", {{"repo", "dc-test/dc-upload"}});
  bool seen = false;
  for (const auto& e : list["entries"]) {
    if (e["path"] == "sub/model.safetensors") {
      seen = true;
      EXPECT_EQ(e["lfs"]["oid"], lfs_sha);
    }
  }
  EXPECT_TRUE(seen) << list.dump();
}

TEST_F(HfFidelityTest, CachesAreUnderstoodBothWays) {
  json seeded =
      hub_->Seed("dc-test/cache",
                 json::array({
                     {{"path", "config.json"}, {"content", "{}"}},
                     {{"path", "tok/vocab.txt"}, {"content", "a b c"}},
                     {{"path", "model.safetensors"}, {"random_size", 2'500'000}, {"seed", 51}},
                 }));
  std::string commit = seeded["commit"];
  // datacube writes; the library scans it and finds files offline.
  auto r = Dc(
      {"--progress", "none", "hf", "download", "dc-test/cache", "--cache-dir", tmp_ / "dc-cache"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json scan = Js("scan", {{"cacheDir", tmp_ / "dc-cache"}}, false);
  ASSERT_EQ(scan["repos"].size(), 1u) << scan.dump();
  EXPECT_TRUE(scan["warnings"].empty()) << scan.dump();
  const json& repo = scan["repos"][0];
  EXPECT_EQ(repo["id"]["name"], "dc-test/cache");
  EXPECT_EQ(repo["id"]["type"], "model");
  ASSERT_EQ(repo["revisions"].size(), 1u);
  EXPECT_EQ(repo["revisions"][0]["commitOid"], commit);
  EXPECT_EQ(repo["revisions"][0]["refs"], json::array({"main"}));
  // huggingface.js scans the top level of a snapshot only (.gitattributes, config.json,
  // model.safetensors); each link resolves to a blob of the right size.
  ASSERT_EQ(repo["revisions"][0]["files"].size(), 3u) << scan.dump();
  for (const auto& f : repo["revisions"][0]["files"]) {
    std::string blob = f["blob"];
    EXPECT_NE(blob.find("/models--dc-test--cache/blobs/"), std::string::npos) << blob;
    EXPECT_EQ(fs::file_size(blob), f["size"].get<uint64_t>());
  }
  json offline = Js("cached",
                    {{"repo", "dc-test/cache"},
                     {"path", "tok/vocab.txt"},
                     {"revision", commit},
                     {"cacheDir", tmp_ / "dc-cache"},
                     {"hubUrl", "http://127.0.0.1:1"}},
                    false);
  EXPECT_EQ(offline["path"],
            tmp_ / ("dc-cache/models--dc-test--cache/snapshots/" + commit + "/tok/vocab.txt"))
      << offline.dump();

  // The library writes; datacube's loader finds every file by refs/main.
  json snap = Js("snapshot", {{"repo", "dc-test/cache"}, {"cacheDir", tmp_ / "js-cache"}});
  ASSERT_TRUE(snap.contains("snapshot")) << snap.dump();
  storage::hf::RepoRef ref{storage::hf::RepoType::kModel, "dc-test/cache"};
  for (const auto& f : seeded["files"]) {
    auto path = storage::hf::TryLoadFromCache(tmp_ / "js-cache", ref, f["path"]);
    ASSERT_TRUE(path.has_value()) << f["path"];
    EXPECT_EQ(Sha256OfFile(*path), f["sha256"]);
  }
}

TEST_F(HfFidelityTest, AccessRulesLookTheSameToTheOfficialClient) {
  hub_->Control("repo", {{"type", "model"}, {"id", "dc-test/js-gated"}, {"gated", "auto"}});
  hub_->Seed("dc-test/js-gated", json::array({{{"path", "w.bin"}, {"content", "weights"}}}));
  hub_->Control("repo", {{"type", "model"}, {"id", "dc-test/js-private"}, {"private", true}});
  int code = 0;
  json anon = Js("download", {{"repo", "dc-test/js-gated"}, {"path", "w.bin"}}, false, &code);
  EXPECT_EQ(code, 3);
  EXPECT_EQ(anon["status"], 401) << anon.dump();
  json reader =
      Js("download",
         {{"repo", "dc-test/js-gated"}, {"path", "w.bin"}, {"accessToken", hub_->read_token}}, true,
         &code);
  EXPECT_EQ(reader["status"], 403) << reader.dump();
  EXPECT_NE(reader["error"].get<std::string>().find("restricted"), std::string::npos);
  json priv = Js("info", {{"repo", "dc-test/js-private"}}, false, &code);
  EXPECT_EQ(priv["status"], 401) << priv.dump();
  json owner = Js("info", {{"repo", "dc-test/js-private"}});
  EXPECT_EQ(owner["private"], true) << owner.dump();
}

}  // namespace
}  // namespace datacube::testing
