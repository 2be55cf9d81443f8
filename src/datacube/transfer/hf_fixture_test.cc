// The Hugging Face backend against the Hub fixture, in process on loopback (port 0): listing with
// pagination, pinned reads, LFS redirects that never carry the token, every error the Hub
// reports, 429/5xx retries, corrupted LFS bytes caught and refetched, both download layouts,
// resume of finished files, the upload session (regular, LFS basic and multipart, skip of
// unchanged files, split commits, pull requests), and the ObjectStore conformance suite.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "datacube/crypto/sha256.h"
#include "datacube/storage/hf/cache_layout.h"
#include "datacube/storage/hf/git_oid.h"
#include "datacube/storage/hf/hf_store.h"
#include "datacube/storage/testing/conformance.h"
#include "datacube/transfer/hf_transfer.h"
#include "testing/hf_fixture/hub_fixture.h"

namespace datacube::storage::hf {
namespace {

namespace fs = std::filesystem;
using namespace datacube::transfer::hf;  // the download and upload sessions under test
using testing::hf::FixtureOptions;
using testing::hf::HubFixture;
using testing::hf::SeedFile;

constexpr char kWriteToken[] = "hf_fixturetest_write_0123456789";
constexpr char kReadToken[] = "hf_fixturetest_read_0123456789";
constexpr char kGrantedToken[] = "hf_fixturetest_granted_0123456789";

std::string MakeTempDir() {
  char tmpl[] = "/tmp/hf-fixture-test-XXXXXX";
  return ::mkdtemp(tmpl);
}

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

void WriteAll(const std::string& path, const std::string& data) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << data;
}

// One fixture for the whole test binary (each test uses its own repositories).
class Env {
 public:
  static Env& Get() {
    static Env env;
    return env;
  }
  HubFixture& fixture() { return *fixture_; }
  const std::string& dir() const { return dir_; }

  // A configuration pointing at the fixture with `token` ("" = anonymous).
  StoreConfig Config(const std::string& token = kWriteToken) const {
    StoreConfig c;
    std::map<std::string, std::string> env = {{"HF_ENDPOINT", fixture_->hub_url()},
                                              {"HOME", dir_ + "/home"}};
    if (!token.empty()) env["HF_TOKEN"] = token;
    c.getenv = [env](const std::string& name) -> std::optional<std::string> {
      auto it = env.find(name);
      if (it == env.end()) return std::nullopt;
      return it->second;
    };
    return c;
  }

  std::string NewRepo(const std::string& stem) {
    return "acme/" + stem + "-" + std::to_string(counter_++);
  }

 private:
  Env() : dir_(MakeTempDir()) {
    FixtureOptions o;
    o.root = dir_ + "/hub";
    o.tokens[kWriteToken] = {"alice", {"acme"}, true};
    o.tokens[kReadToken] = {"bob", {}, false};
    o.tokens[kGrantedToken] = {"carol", {}, false};
    o.tree_page_size = 3;  // every listing spans pages
    o.multipart_threshold = 1 << 20;
    o.multipart_chunk = 256 << 10;
    fixture_ = std::move(*HubFixture::Start(o));
  }
  ~Env() {
    fixture_.reset();
    fs::remove_all(dir_);
  }
  std::string dir_;
  std::unique_ptr<HubFixture> fixture_;
  int counter_ = 0;
};

std::shared_ptr<HfStore> OpenStore(const std::string& repo, const std::string& token = kWriteToken,
                                   bool pin = true) {
  auto hub = HubOptionsFromConfig(*ParseLocation("hf://" + repo), Env::Get().Config(token));
  EXPECT_TRUE(hub.ok()) << hub.status().ToString();
  HfStoreOptions o;
  o.hub = *hub;
  o.hub.retry.initial_delay = std::chrono::milliseconds(5);
  o.pin_at_open = pin;
  auto store = HfStore::Open(o);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? *store : nullptr;
}

Status OpenStatus(const std::string& location, const std::string& token) {
  auto hub = HubOptionsFromConfig(*ParseLocation(location), Env::Get().Config(token));
  if (!hub.ok()) return hub.status();
  HfStoreOptions o;
  o.hub = *hub;
  auto store = HfStore::Open(o);
  if (!store.ok()) return store.status();
  return (*store)->Files("").status();
}

std::vector<std::string> Keys(ObjectStore& store, const std::string& prefix, bool recursive,
                              std::vector<std::string>* prefixes = nullptr) {
  std::vector<std::string> keys;
  ListRequest req;
  req.prefix = prefix;
  req.recursive = recursive;
  while (true) {
    auto page = store.List(req);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) break;
    for (const auto& o : page->objects) keys.push_back(o.key);
    if (prefixes) {
      prefixes->insert(prefixes->end(), page->common_prefixes.begin(), page->common_prefixes.end());
    }
    if (page->next_page_token.empty()) break;
    req.page_token = page->next_page_token;
  }
  return keys;
}

// Requests the fixture recorded for one repository's URLs (and the storage host's).
std::vector<testing::hf::RecordedRequest> RequestsFor(const std::string& repo) {
  std::vector<testing::hf::RecordedRequest> out;
  for (auto& r : Env::Get().fixture().Requests()) {
    if (r.target.find(repo) != std::string::npos || r.server == "storage") out.push_back(r);
  }
  return out;
}

std::string HeaderOf(const testing::hf::RecordedRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

// ---- the fixture's repository model is git's ----

TEST(HfFixtureModelTest, TreeIdsAreGitsOwn) {
  std::map<std::string, std::string> files = {
      {"a-b", "1"},
      {"a/x.txt", "2"},
      {"a/y/z.bin", "3"},
      {"a0", "4"},
      {"b c.txt", "5"},
      // No filter=lfs here: with git-lfs installed, `git add` would store a pointer instead.
      {".gitattributes", "*.txt text\n"}};
  std::map<std::string, testing::hf::FileRecord> records;
  std::string dir = MakeTempDir();
  for (const auto& [p, c] : files) {
    records[p] = {GitBlobId(c), c.size(), "", 0};
    WriteAll(dir + "/" + p, c);
  }
  std::string cmd = "cd " + dir + " && git init -q && git add -A && git write-tree";
  FILE* out = ::popen(cmd.c_str(), "r");
  ASSERT_NE(out, nullptr);
  char buf[64] = {0};
  ASSERT_NE(std::fgets(buf, sizeof buf, out), nullptr);
  ::pclose(out);
  EXPECT_EQ(testing::hf::RootTreeId(records), std::string(buf, 40));
  fs::remove_all(dir);
}

// ---- reading ----

TEST(HfFixtureTest, ListStatReadAcrossPagesPinnedToOneCommit) {
  std::string repo = Env::Get().NewRepo("read");
  std::string big = RandomBytes(300'000, 1);
  ASSERT_TRUE(Env::Get()
                  .fixture()
                  .Seed("model", repo,
                        {{"config.json", "{\"v\":1}"},
                         {"a/b/c.txt", "deep"},
                         {"a/d.txt", "mid"},
                         {"model.safetensors", big, 0, 1, true},
                         {"z.txt", "last"}})
                  .ok());
  auto store = OpenStore(repo);
  ASSERT_NE(store, nullptr);
  std::string pinned = store->commit();
  EXPECT_EQ(Keys(*store, "", true),
            (std::vector<std::string>{".gitattributes", "a/b/c.txt", "a/d.txt", "config.json",
                                      "model.safetensors", "z.txt"}));
  std::vector<std::string> prefixes;
  EXPECT_EQ(Keys(*store, "a/", false, &prefixes), std::vector<std::string>{"a/d.txt"});
  EXPECT_EQ(prefixes, std::vector<std::string>{"a/b/"});
  auto st = store->Stat("model.safetensors");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->size, big.size());
  EXPECT_EQ(st->sha256, crypto::Sha256Hex(big));
  EXPECT_EQ(store->Stat("nope").status().code(), StatusCode::kNotFound);
  io::StringSink part;
  ASSERT_TRUE(store->Read("model.safetensors", {1000, 5000}, part, {}).ok());
  EXPECT_EQ(part.str(), big.substr(1000, 5000));
  io::StringSink past;
  EXPECT_EQ(store->Read("z.txt", {100, 1}, past, {}).code(), StatusCode::kOutOfRange);

  // The branch moves; the open store keeps reading the commit it pinned.
  ASSERT_TRUE(Env::Get().fixture().Seed("model", repo, {{"config.json", "{\"v\":2}"}}).ok());
  io::StringSink old_config;
  ASSERT_TRUE(store->Read("config.json", ByteRange::All(), old_config, {}).ok());
  EXPECT_EQ(old_config.str(), "{\"v\":1}");
  EXPECT_EQ(store->commit(), pinned);
  auto fresh = OpenStore(repo);
  io::StringSink new_config;
  ASSERT_TRUE(fresh->Read("config.json", ByteRange::All(), new_config, {}).ok());
  EXPECT_EQ(new_config.str(), "{\"v\":2}");
}

TEST(HfFixtureTest, TheTokenNeverReachesTheStorageHost) {
  std::string repo = Env::Get().NewRepo("token");
  auto seeded =
      Env::Get().fixture().Seed("model", repo, {{"w.bin", RandomBytes(200'000, 2), 0, 1, true}});
  ASSERT_TRUE(seeded.ok());
  Env::Get().fixture().ClearRequests();
  auto store = OpenStore(repo);
  io::StringSink sink;
  ASSERT_TRUE(store->Read("w.bin", ByteRange::All(), sink, {}).ok());
  int storage = 0, hub = 0;
  for (const auto& r : RequestsFor(repo)) {
    if (r.server == "storage") {
      ++storage;
      EXPECT_EQ(HeaderOf(r, "authorization"), "") << r.target;
      EXPECT_EQ(r.target.find(kWriteToken), std::string::npos);
      for (const auto& [k, v] : r.headers) EXPECT_EQ(v.find(kWriteToken), std::string::npos) << k;
    } else {
      ++hub;
      EXPECT_EQ(HeaderOf(r, "authorization"), std::string("Bearer ") + kWriteToken) << r.target;
    }
  }
  EXPECT_GE(storage, 1);
  EXPECT_GE(hub, 2);
}

TEST(HfFixtureTest, ErrorsSayWhatIsWrongAndHowToFixIt) {
  std::string priv = Env::Get().NewRepo("private");
  ASSERT_TRUE(Env::Get().fixture().Seed("model", priv, {{"a.txt", "x"}}).ok());
  ASSERT_TRUE(Env::Get().fixture().model().SetPrivate("model", priv, true).ok());
  Status anon = OpenStatus("hf://" + priv, "");
  EXPECT_EQ(anon.code(), StatusCode::kUnauthenticated) << anon.ToString();
  EXPECT_NE(std::string(anon.message()).find("--token"), std::string::npos);
  Status stranger = OpenStatus("hf://" + priv, kReadToken);
  EXPECT_EQ(stranger.code(), StatusCode::kNotFound) << stranger.ToString();
  EXPECT_TRUE(OpenStatus("hf://" + priv, kWriteToken).ok());

  Status bad = OpenStatus("hf://" + priv, "hf_not_a_real_token_at_all");
  EXPECT_EQ(bad.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(std::string(bad.message()).find("rejected"), std::string::npos) << bad.ToString();
  EXPECT_EQ(std::string(bad.message()).find("hf_not_a_real_token_at_all"), std::string::npos);

  Status rev = OpenStatus("hf://" + priv + "@no-such-branch", kWriteToken);
  EXPECT_EQ(rev.code(), StatusCode::kNotFound);
  EXPECT_NE(std::string(rev.message()).find("no-such-branch"), std::string::npos);

  std::string gated = Env::Get().NewRepo("gated");
  ASSERT_TRUE(Env::Get().fixture().Seed("model", gated, {{"w.bin", "weights", 0, 1, false}}).ok());
  ASSERT_TRUE(Env::Get().fixture().model().SetGated("model", gated, "manual", {"carol"}).ok());
  auto denied = OpenStore(gated, kReadToken);  // listing is allowed, content is not
  ASSERT_NE(denied, nullptr);
  io::StringSink sink;
  Status s = denied->Read("w.bin", ByteRange::All(), sink, {});
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
  EXPECT_NE(std::string(s.message()).find("request access"), std::string::npos);
  EXPECT_NE(std::string(s.message()).find(Env::Get().fixture().hub_url() + "/" + gated),
            std::string::npos)
      << s.ToString();
  auto anon_gated = OpenStore(gated, "");
  EXPECT_EQ(anon_gated->Read("w.bin", ByteRange::All(), sink, {}).code(),
            StatusCode::kUnauthenticated);
  auto granted = OpenStore(gated, kGrantedToken);
  io::StringSink ok;
  EXPECT_TRUE(granted->Read("w.bin", ByteRange::All(), ok, {}).ok());
  EXPECT_EQ(ok.str(), "weights");

  // A missing file names the file.
  io::StringSink none;
  Status missing = granted->Read("nothing/here.bin", ByteRange::All(), none, {});
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_NE(std::string(missing.message()).find("nothing/here.bin"), std::string::npos);
}

TEST(HfFixtureTest, RateLimitsAndServerErrorsAreRetried) {
  std::string repo = Env::Get().NewRepo("retry");
  ASSERT_TRUE(Env::Get().fixture().Seed("model", repo, {{"a.txt", "x"}}).ok());
  Env::Get().fixture().AddFault(
      {"hub", "GET", "/api/models/" + repo + "/tree/", 429, 1, 1, "", "slow down"});
  Env::Get().fixture().AddFault(
      {"hub", "GET", "/api/models/" + repo + "/revision/", 502, 1, -1, "", "bad gateway"});
  auto start = std::chrono::steady_clock::now();
  auto store = OpenStore(repo);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Keys(*store, "", true).size(), 2u);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(950))
      << "Retry-After: 1 is honoured";
}

// ---- downloads ----

struct Seeded {
  std::string repo;
  std::map<std::string, std::string> files;  // path -> content
};

Seeded SeedModel(const std::string& stem) {
  Seeded s;
  s.repo = Env::Get().NewRepo(stem);
  s.files = {{"config.json", "{\"hidden\":64}"},
             {"tokenizer/vocab.txt", "a\nb\nc\n"},
             {"model-00001.safetensors", RandomBytes(1'500'000, 11)},
             {"model-00002.safetensors", RandomBytes(700'000, 12)},
             {"copy/model-00002.safetensors", ""}};
  s.files["copy/model-00002.safetensors"] = s.files["model-00002.safetensors"];  // same blob
  std::vector<SeedFile> files;
  for (const auto& [p, c] : s.files) files.push_back({p, c});
  EXPECT_TRUE(Env::Get().fixture().Seed("model", s.repo, files).ok());
  return s;
}

engine::TransferOptions FastOptions() {
  engine::TransferOptions o;
  o.jobs = 4;
  o.part_size = 256 << 10;
  o.retry.max_attempts = 3;
  o.retry.initial_delay = std::chrono::milliseconds(5);
  o.retry.max_delay = std::chrono::milliseconds(20);
  return o;
}

TEST(HfFixtureTest, DownloadPlainVerifiesAndSkipsFinishedFilesOnRerun) {
  Seeded s = SeedModel("plain");
  std::string out = MakeTempDir();
  DownloadRequest r;
  r.location = *ParseLocation("hf://" + s.repo);
  r.config = Env::Get().Config();
  r.local_dir = out;
  r.transfer = FastOptions();
  auto report = Download(r, nullptr);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_TRUE(report->transfer.status.ok()) << report->transfer.status.ToString();
  EXPECT_EQ(report->transfer.files_copied, s.files.size() + 1);  // + .gitattributes
  for (const auto& [p, c] : s.files) EXPECT_EQ(ReadAll(out + "/" + p), c) << p;

  Env::Get().fixture().ClearRequests();
  auto again = Download(r, nullptr);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->transfer.files_copied, 0u);
  EXPECT_EQ(again->transfer.files_skipped, s.files.size() + 1);
  for (const auto& req : Env::Get().fixture().Requests()) {
    EXPECT_NE(req.server, "storage") << "a rerun fetches nothing: " << req.target;
    EXPECT_EQ(req.target.find("/resolve/"), std::string::npos) << req.target;
  }
  fs::remove_all(out);
}

TEST(HfFixtureTest, DownloadOnlyTheNamedFilesAndReportMissingOnes) {
  Seeded s = SeedModel("files");
  std::string out = MakeTempDir();
  DownloadRequest r;
  r.location = *ParseLocation("hf://" + s.repo);
  r.config = Env::Get().Config();
  r.local_dir = out;
  r.files = {"config.json", "tokenizer/vocab.txt"};
  r.transfer = FastOptions();
  auto report = Download(r, nullptr);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->transfer.files_copied, 2u);
  EXPECT_FALSE(fs::exists(out + "/model-00001.safetensors"));
  r.files = {"config.json", "missing.bin"};
  auto missing = Download(r, nullptr);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(std::string(missing.status().message()).find("missing.bin"), std::string::npos);
  fs::remove_all(out);
}

TEST(HfFixtureTest, CorruptedLfsBytesAreCaughtRetriedAndFinallyReported) {
  Seeded s = SeedModel("corrupt");
  std::string sha = crypto::Sha256Hex(s.files["model-00001.safetensors"]);
  std::string out = MakeTempDir();
  DownloadRequest r;
  r.location = *ParseLocation("hf://" + s.repo);
  r.config = Env::Get().Config();
  r.local_dir = out;
  r.files = {"model-00001.safetensors"};
  r.transfer = FastOptions();

  // Once: caught by the SHA-256 check and fetched again.
  Env::Get().fixture().CorruptLfs(sha, 1);
  auto once = Download(r, nullptr);
  ASSERT_TRUE(once.ok());
  EXPECT_TRUE(once->transfer.status.ok()) << once->transfer.status.ToString();
  EXPECT_EQ(crypto::Sha256Hex(ReadAll(out + "/model-00001.safetensors")), sha);

  // Always: every attempt fails the check; the error says so and nothing lands.
  fs::remove_all(out);
  fs::create_directories(out);
  Env::Get().fixture().CorruptLfs(sha, -1);
  auto always = Download(r, nullptr);
  Env::Get().fixture().CorruptLfs(sha, 0);
  ASSERT_TRUE(always.ok());
  EXPECT_EQ(always->transfer.status.code(), StatusCode::kDataLoss);
  EXPECT_NE(std::string(always->transfer.status.message()).find("checksum mismatch"),
            std::string::npos)
      << always->transfer.status.ToString();
  EXPECT_FALSE(fs::exists(out + "/model-00001.safetensors"));
  for (const auto& e : fs::recursive_directory_iterator(out)) {
    ADD_FAILURE() << "left behind: " << e.path();
  }
  fs::remove_all(out);
}

TEST(HfFixtureTest, DownloadIntoTheCacheIsFoundByTheLoader) {
  Seeded s = SeedModel("cache");
  std::string cache = MakeTempDir();
  DownloadRequest r;
  r.location = *ParseLocation("hf://" + s.repo);
  r.config = Env::Get().Config();
  r.cache_dir = cache;
  r.transfer = FastOptions();
  auto report = Download(r, nullptr);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_TRUE(report->transfer.status.ok()) << report->transfer.status.ToString();
  RepoRef ref{RepoType::kModel, s.repo};
  for (const auto& [p, c] : s.files) {
    auto found = TryLoadFromCache(cache, ref, p);  // refs/main -> snapshot -> file
    ASSERT_TRUE(found.has_value()) << p;
    EXPECT_EQ(*found, report->snapshot_dir + "/" + p);
    EXPECT_EQ(ReadAll(*found), c) << p;
  }
  std::string repo_dir = RepoCacheDir(cache, ref);
  EXPECT_EQ(ReadAll(repo_dir + "/refs/main"), report->commit);
  // Blobs are named by etag and shared: the copied file is one blob, fetched once.
  std::string sha2 = crypto::Sha256Hex(s.files["model-00002.safetensors"]);
  EXPECT_TRUE(fs::exists(repo_dir + "/blobs/" + sha2));
  EXPECT_TRUE(fs::exists(repo_dir + "/blobs/" + GitBlobId(s.files["config.json"])));
  char target[512];
  ssize_t n = ::readlink((report->snapshot_dir + "/copy/model-00002.safetensors").c_str(), target,
                         sizeof target);
  EXPECT_EQ(std::string(target, n), "../../../blobs/" + sha2);
  size_t blobs = 0;
  for (const auto& e : fs::directory_iterator(repo_dir + "/blobs")) {
    (void)e;
    ++blobs;
  }
  EXPECT_EQ(blobs, s.files.size());  // 6 files incl. .gitattributes, one shared blob
  // A second run links again and fetches nothing.
  auto again = Download(r, nullptr);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->transfer.files_copied, 0u);
  fs::remove_all(cache);
}

TEST(HfFixtureTest, ARegularFileLargerThanAPartIsVerifiedPartByPart) {
  std::string repo = Env::Get().NewRepo("regular-parts");
  std::string text = RandomBytes(600'000, 21);
  ASSERT_TRUE(Env::Get().fixture().Seed("model", repo, {{"notes.bin", text, 0, 1, false}}).ok());
  std::string out = MakeTempDir();
  DownloadRequest r;
  r.location = *ParseLocation("hf://" + repo);
  r.config = Env::Get().Config();
  r.local_dir = out;
  r.transfer = FastOptions();  // 256 KiB parts: three of them
  Env::Get().fixture().ClearRequests();
  auto report = Download(r, nullptr);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_TRUE(report->transfer.status.ok()) << report->transfer.status.ToString();
  EXPECT_EQ(ReadAll(out + "/notes.bin"), text);
  int whole_reads = 0;
  for (const auto& req : RequestsFor(repo)) {
    if (req.target.find("/resolve/") == std::string::npos ||
        req.target.find("notes.bin") == std::string::npos) {
      continue;
    }
    EXPECT_EQ(HeaderOf(req, "range"), "") << "each part is checked against the whole file's id";
    ++whole_reads;
  }
  EXPECT_EQ(whole_reads, 3);
  fs::remove_all(out);
}

// ---- a hostile Hub: nothing lands ----

// Every regular file below `dir` (empty when nothing was written).
std::vector<std::string> FilesBelow(const std::string& dir) {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_directory()) out.push_back(e.path().string());
  }
  return out;
}

TEST(HfFixtureHostileTest, AHostileListingIsRefusedAndNothingLandsInEitherLayout) {
  const std::string hex40(40, 'a');
  struct Case {
    std::string name;
    std::string tamper;  // JSON: {"patch": ..., "extra": ..., "link": ...}
    std::string names;   // what the error must say
  };
  const std::vector<Case> cases = {
      {"empty oid", R"({"patch":{"config.json":{"oid":""}}})",
       "\"config.json\" has the malformed git blob id \"\""},
      {"two files, one non-hex oid",
       R"({"patch":{"config.json":{"oid":"same"},"tokenizer/vocab.txt":{"oid":"same"}}})",
       "has the malformed git blob id \"same\""},
      {"upper-case LFS oid",
       R"({"patch":{"model-00002.safetensors":{"lfs":{"oid":")" + std::string(64, 'A') +
           R"(","size":700000}}}})",
       "\"model-00002.safetensors\" has the malformed LFS oid"},
      {"negative size", R"({"patch":{"config.json":{"size":-5}}})",
       "\"config.json\" has a malformed size -5"},
      {"size as text", R"({"patch":{"config.json":{"size":"abc"}}})",
       "\"config.json\" has a malformed size \"abc\""},
      {"size beyond 2^64", R"({"patch":{"config.json":{"size":100000000000000000000}}})",
       "\"config.json\" has a malformed size"},
      {"path with ..",
       R"({"extra":[{"type":"file","path":"../escape.txt","size":1,"oid":")" + hex40 + R"("}]})",
       "\"..\" segment"},
      {"absolute path",
       R"({"extra":[{"type":"file","path":"/tmp/evil","size":1,"oid":")" + hex40 + R"("}]})",
       "absolute path"},
      {"control characters",
       R"({"extra":[{"type":"file","path":"a\u001b[2Jb","size":1,"oid":")" + hex40 + R"("}]})",
       "control character"},
      {"NUL", R"({"extra":[{"type":"file","path":"a\u0000b","size":1,"oid":")" + hex40 + R"("}]})",
       "NUL"},
      {"a page linking to itself", R"({"link":"self"})", "links back to an earlier page"},
      {"the last page linking to the first", R"({"link":"cycle"})",
       "links back to an earlier page"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Seeded s = SeedModel("hostile");
    auto t = nlohmann::json::parse(c.tamper);
    testing::hf::Tamper tamper;
    const nlohmann::json patch = t.value("patch", nlohmann::json::object());
    const nlohmann::json extra = t.value("extra", nlohmann::json::array());
    for (const auto& [p, v] : patch.items()) tamper.patch[p] = v.dump();
    for (const auto& e : extra) tamper.extra.push_back(e.dump());
    tamper.link = t.value("link", "");
    Env::Get().fixture().SetTamper("model", s.repo, tamper);
    Env::Get().fixture().ClearRequests();

    std::string out = MakeTempDir();
    std::string cache = MakeTempDir();
    for (bool to_cache : {false, true}) {
      DownloadRequest r;
      r.location = *ParseLocation("hf://" + s.repo);
      r.config = Env::Get().Config();
      (to_cache ? r.cache_dir : r.local_dir) = to_cache ? cache : out;
      r.transfer = FastOptions();
      auto report = Download(r, nullptr);
      Status st = report.ok() ? report->transfer.status : report.status();
      EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
      EXPECT_NE(std::string(st.message()).find(c.names), std::string::npos) << st.ToString();
      for (char ch : std::string(st.message())) {
        EXPECT_GE(static_cast<unsigned char>(ch), 0x20)
            << "raw control character: " << st.ToString();
      }
    }
    EXPECT_EQ(FilesBelow(out), std::vector<std::string>());
    EXPECT_EQ(FilesBelow(cache), std::vector<std::string>()) << "no blob, link or ref";
    EXPECT_FALSE(fs::exists("/tmp/evil"));
    for (const auto& req : RequestsFor(s.repo)) {
      EXPECT_EQ(req.target.find("/resolve/"), std::string::npos) << "fetched " << req.target;
      EXPECT_NE(req.server, "storage") << "fetched " << req.target;
    }
    Env::Get().fixture().SetTamper("model", s.repo, {});
    fs::remove_all(out);
    fs::remove_all(cache);
  }
}

TEST(HfFixtureHostileTest, ARefusedFileMeansTheRefIsNotWritten) {
  Seeded s = SeedModel("noref");
  std::string sha = crypto::Sha256Hex(s.files["model-00001.safetensors"]);
  std::string cache = MakeTempDir();
  DownloadRequest r;
  r.location = *ParseLocation("hf://" + s.repo);
  r.config = Env::Get().Config();
  r.cache_dir = cache;
  r.transfer = FastOptions();
  Env::Get().fixture().CorruptLfs(sha, -1);
  auto report = Download(r, nullptr);
  Env::Get().fixture().CorruptLfs(sha, 0);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->transfer.status.code(), StatusCode::kDataLoss);
  RepoRef ref{RepoType::kModel, s.repo};
  std::string repo_dir = RepoCacheDir(cache, ref);
  EXPECT_FALSE(fs::exists(repo_dir + "/refs")) << "refs/main must wait for a complete snapshot";
  EXPECT_FALSE(fs::exists(repo_dir + "/blobs/" + sha));
  EXPECT_FALSE(TryLoadFromCache(cache, ref, "config.json").has_value());
  // Once every file lands, the ref is published.
  auto again = Download(r, nullptr);
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(again->transfer.status.ok()) << again->transfer.status.ToString();
  EXPECT_EQ(ReadAll(repo_dir + "/refs/main"), again->commit);
  fs::remove_all(cache);
}

TEST(HfFixtureHostileTest, APlantedSymlinkInTheCacheIsRefusedAndNothingLandsOutside) {
  Seeded s = SeedModel("planted");
  for (const std::string planted : {"blobs", "snapshots", "refs"}) {
    SCOPED_TRACE(planted);
    std::string cache = MakeTempDir();
    std::string outside = MakeTempDir();
    std::string repo_dir = RepoCacheDir(cache, RepoRef{RepoType::kModel, s.repo});
    fs::create_directories(repo_dir);
    fs::create_directory_symlink(outside, repo_dir + "/" + planted);
    DownloadRequest r;
    r.location = *ParseLocation("hf://" + s.repo);
    r.config = Env::Get().Config();
    r.cache_dir = cache;
    r.transfer = FastOptions();
    auto report = Download(r, nullptr);
    Status st = report.ok() ? report->transfer.status : report.status();
    EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
    EXPECT_NE(std::string(st.message()).find(planted), std::string::npos) << st.ToString();
    EXPECT_EQ(FilesBelow(outside), std::vector<std::string>()) << "written through the symlink";
    EXPECT_FALSE(fs::exists(repo_dir + "/refs/main") && !fs::is_symlink(repo_dir + "/refs"));
    fs::remove_all(cache);
    fs::remove_all(outside);
  }
}

TEST(HfFixtureHostileTest, ARedirectToFileIsRefusedAndNothingIsRead) {
  Seeded s = SeedModel("redirect");
  testing::hf::Tamper tamper;
  tamper.redirect["config.json"] = "file:///etc/passwd";
  tamper.redirect["model-00001.safetensors"] = "file:///etc/hostname";
  Env::Get().fixture().SetTamper("model", s.repo, tamper);
  std::string out = MakeTempDir();
  DownloadRequest r;
  r.location = *ParseLocation("hf://" + s.repo);
  r.config = Env::Get().Config();
  r.local_dir = out;
  r.files = {"config.json", "model-00001.safetensors"};
  r.transfer = FastOptions();
  auto report = Download(r, nullptr);
  Env::Get().fixture().SetTamper("model", s.repo, {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  Status st = report->transfer.status;
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_NE(std::string(st.message()).find("refused redirect to file:///etc/"), std::string::npos)
      << st.ToString();
  EXPECT_NE(std::string(st.message()).find("(only http/https)"), std::string::npos);
  EXPECT_EQ(report->transfer.files_failed, 2u);
  EXPECT_EQ(FilesBelow(out), std::vector<std::string>());
  fs::remove_all(out);
}

// ---- uploads ----

UploadRequest UploadTo(const std::string& repo, const std::string& dir) {
  UploadRequest u;
  u.location = *ParseLocation("hf://" + repo);
  u.config = Env::Get().Config();
  u.local_path = dir;
  u.jobs = 4;
  u.retry.initial_delay = std::chrono::milliseconds(5);
  return u;
}

TEST(HfFixtureTest, UploadRegularLfsAndMultipartThenSkipUnchanged) {
  std::string repo = Env::Get().NewRepo("upload");
  std::string dir = MakeTempDir();
  std::map<std::string, std::string> files = {
      {"README.md", "# model\n"},
      {"empty.txt", ""},
      {"sample.npy", RandomBytes(1000, 3)},                    // LFS by .gitattributes
      {"bin/small-binary", std::string("a\0b", 3)},            // LFS: binary sample
      {"weights/big.safetensors", RandomBytes(3'000'000, 4)},  // LFS multipart
  };
  for (const auto& [p, c] : files) WriteAll(dir + "/" + p, c);
  WriteAll(dir + "/.git/HEAD", "never uploaded");
  UploadRequest u = UploadTo(repo, dir);
  u.create_repo = true;
  u.path_in_repo = "models/v1";
  u.commit_message = "First upload";
  Env::Get().fixture().ClearRequests();
  auto report = Upload(u, nullptr);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_TRUE(report->transfer.status.ok()) << report->transfer.status.ToString();
  EXPECT_EQ(report->transfer.files_copied, files.size());
  ASSERT_EQ(report->commits.size(), 1u);

  // What the Hub now holds, read back through the store.
  auto store = OpenStore(repo);
  for (const auto& [p, c] : files) {
    io::StringSink sink;
    ASSERT_TRUE(store->Read("models/v1/" + p, ByteRange::All(), sink, {}).ok()) << p;
    EXPECT_EQ(sink.str(), c) << p;
  }
  EXPECT_EQ(store->Stat("models/v1/.git/HEAD").status().code(), StatusCode::kNotFound);
  auto commit = Env::Get().fixture().model().Commit("model", repo, store->commit());
  EXPECT_EQ(commit->title, "First upload");
  EXPECT_TRUE(commit->files.at("models/v1/weights/big.safetensors").is_lfs());
  EXPECT_TRUE(commit->files.at("models/v1/bin/small-binary").is_lfs());
  EXPECT_FALSE(commit->files.at("models/v1/README.md").is_lfs());
  EXPECT_FALSE(commit->files.at("models/v1/empty.txt").is_lfs());
  bool multipart = false;
  for (const auto& r : Env::Get().fixture().Requests()) {
    if (r.server == "storage") {
      EXPECT_EQ(HeaderOf(r, "authorization"), "") << r.target;
      if (r.target.rfind("/part/", 0) == 0) multipart = true;
    }
  }
  EXPECT_TRUE(multipart) << "the 3 MB file goes through HF multipart (threshold 1 MiB)";

  // Unchanged: nothing to do, no commit.
  auto again = Upload(u, nullptr);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->transfer.files_copied, 0u);
  EXPECT_EQ(again->transfer.files_skipped, files.size());
  EXPECT_TRUE(again->commits.empty());

  // One file changed: one file in one commit.
  WriteAll(dir + "/README.md", "# model v2\n");
  auto third = Upload(u, nullptr);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->transfer.files_copied, 1u);
  EXPECT_EQ(third->commits.size(), 1u);
  fs::remove_all(dir);
}

TEST(HfFixtureTest, LargeFoldersBecomeSeveralCommitsAndPullRequestsLeaveMainAlone) {
  std::string repo = Env::Get().NewRepo("split");
  std::string dir = MakeTempDir();
  for (int i = 0; i < 7; ++i)
    WriteAll(dir + "/f" + std::to_string(i) + ".txt", "file " + std::to_string(i));
  UploadRequest u = UploadTo(repo, dir);
  u.create_repo = true;
  u.max_commit_files = 3;
  auto report = Upload(u, nullptr);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->commits.size(), 3u);  // 3 + 3 + 1
  EXPECT_EQ(report->transfer.files_copied, 7u);

  WriteAll(dir + "/f0.txt", "changed in a pull request");
  WriteAll(dir + "/f1.txt", "changed too");
  u.create_pr = true;
  u.max_commit_files = 1;
  auto pr = Upload(u, nullptr);
  ASSERT_TRUE(pr.ok()) << pr.status().ToString();
  EXPECT_EQ(pr->commits.size(), 2u);
  EXPECT_NE(pr->pull_request_url.find("/discussions/1"), std::string::npos);
  auto main_store = OpenStore(repo);
  io::StringSink on_main;
  ASSERT_TRUE(main_store->Read("f0.txt", ByteRange::All(), on_main, {}).ok());
  EXPECT_EQ(on_main.str(), "file 0");
  auto hub =
      HubOptionsFromConfig(*ParseLocation("hf://" + repo + "@refs/pr/1"), Env::Get().Config());
  HfStoreOptions o;
  o.hub = *hub;
  auto pr_store = *HfStore::Open(o);
  io::StringSink on_pr;
  ASSERT_TRUE(pr_store->Read("f1.txt", ByteRange::All(), on_pr, {}).ok());
  EXPECT_EQ(on_pr.str(), "changed too");
  fs::remove_all(dir);
}

TEST(HfFixtureTest, UploadNeedsWriteAccess) {
  std::string repo = Env::Get().NewRepo("ro");
  ASSERT_TRUE(Env::Get().fixture().Seed("model", repo, {{"a.txt", "x"}}).ok());
  std::string dir = MakeTempDir();
  WriteAll(dir + "/b.txt", "y");
  UploadRequest u = UploadTo(repo, dir);
  u.config = Env::Get().Config(kReadToken);
  auto report = Upload(u, nullptr);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kPermissionDenied) << report.status().ToString();
  EXPECT_NE(std::string(report.status().message()).find("write access"), std::string::npos);
  u.config = Env::Get().Config("");
  EXPECT_EQ(Upload(u, nullptr).status().code(), StatusCode::kUnauthenticated);
  fs::remove_all(dir);
}

// ---- the conformance suite: the store's Put/Delete are single-file commits ----

const bool registered = [] {
  ConformanceParams p;
  p.name = "HfFixture";
  p.make_store = []() -> std::shared_ptr<ObjectStore> {
    std::string repo = Env::Get().NewRepo("conformance");
    EXPECT_TRUE(Env::Get().fixture().model().CreateRepo("model", repo, false).ok());
    auto store = OpenStore(repo, kWriteToken, /*pin=*/false);
    // Hide the repo's own .gitattributes from key-exact listings: tests use a prefix.
    return store;
  };
  p.key_prefix = "t/";
  p.large_object_size = 3 << 20;
  RegisterObjectStoreConformanceTests(p);
  return true;
}();

}  // namespace
}  // namespace datacube::storage::hf
