// Unit tests of the Hugging Face pieces that need no server: options and token sources, the
// error mapper, git ids, the cache layout (and an offline loader following huggingface_hub's
// rules), and the client and store against a recording mock transport.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "datacube/crypto/sha256.h"
#include "datacube/http/testing/mock_http_transport.h"
#include "datacube/storage/hf/cache_layout.h"
#include "datacube/storage/hf/git_oid.h"
#include "datacube/storage/hf/hf_store.h"
#include "datacube/storage/hf/hub_client.h"
#include "datacube/storage/hf/hub_errors.h"
#include "datacube/storage/hf/hub_options.h"

namespace datacube::storage::hf {
namespace {

namespace fs = std::filesystem;
using http::MakeResponse;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/hf-unit-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

StoreConfig ConfigWithEnv(std::map<std::string, std::string> env,
                          std::map<std::string, std::string> options = {}) {
  StoreConfig c;
  c.options = std::move(options);
  c.getenv = [env](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  return c;
}

Location Hf(const std::string& text) { return *ParseLocation(text); }

// A well-formed git blob id made of one hex digit (or a placeholder letter mapped to one).
std::string Oid(char c) {
  return std::string(40, "0123456789abcdef"[static_cast<unsigned char>(c) % 16]);
}

// ---- options and tokens ----

TEST(HubOptionsTest, TokenPrecedenceOptionThenEnvThenFiles) {
  TempDir home;
  fs::create_directories(home.path() + "/hf");
  std::ofstream(home.path() + "/hf/token") << "hf_fromhomefile\n";
  std::ofstream(home.path() + "/explicit") << "  hf_fromexplicitpath \n";
  std::string source;

  auto t = FindToken(ConfigWithEnv({{"HF_TOKEN", "hf_fromenv"}, {"HF_HOME", home.path() + "/hf"}},
                                   {{"token", "hf_fromoption"}}),
                     &source);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->reveal(), "hf_fromoption");
  EXPECT_EQ(source, "the token option");

  t = FindToken(ConfigWithEnv({{"HF_TOKEN", "hf_fromenv"}, {"HF_HOME", home.path() + "/hf"}}),
                &source);
  EXPECT_EQ(t->reveal(), "hf_fromenv");
  EXPECT_EQ(source, "HF_TOKEN");

  t = FindToken(ConfigWithEnv({{"HF_TOKEN_PATH", home.path() + "/explicit"},
                               {"HF_HOME", home.path() + "/hf"}}),
                &source);
  EXPECT_EQ(t->reveal(), "hf_fromexplicitpath");

  t = FindToken(ConfigWithEnv({{"HF_HOME", home.path() + "/hf"}}), &source);
  EXPECT_EQ(t->reveal(), "hf_fromhomefile");
  EXPECT_EQ(source, home.path() + "/hf/token");

  // XDG_CACHE_HOME/huggingface/token when HF_HOME is unset.
  fs::create_directories(home.path() + "/xdg/huggingface");
  std::ofstream(home.path() + "/xdg/huggingface/token") << "hf_fromxdg";
  t = FindToken(ConfigWithEnv({{"XDG_CACHE_HOME", home.path() + "/xdg"}}), &source);
  EXPECT_EQ(t->reveal(), "hf_fromxdg");

  t = FindToken(ConfigWithEnv({{"HOME", home.path() + "/nowhere"}}), &source);
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->empty());

  // An explicit HF_TOKEN_PATH that cannot be read is an error naming it (never the token).
  t = FindToken(ConfigWithEnv({{"HF_TOKEN_PATH", "/nonexistent/tok"}}), &source);
  EXPECT_EQ(t.status().code(), StatusCode::kNotFound);
  EXPECT_NE(std::string(t.status().message()).find("/nonexistent/tok"), std::string::npos);
}

TEST(HubOptionsTest, TokensAreRegisteredForRedaction) {
  std::string source;
  auto t = FindToken(ConfigWithEnv({}, {{"token", "hf_secretvalue123"}}), &source);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(Redact("sent hf_secretvalue123 by mistake"), "sent *** by mistake");
}

TEST(HubOptionsTest, EndpointRevisionAndRepoType) {
  auto o = HubOptionsFromConfig(Hf("hf://datasets/org/set@v1.0/train"),
                                ConfigWithEnv({{"HF_ENDPOINT", "http://127.0.0.1:7500///"}}));
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->endpoint, "http://127.0.0.1:7500");
  EXPECT_EQ(o->repo.type, RepoType::kDataset);
  EXPECT_EQ(o->repo.id, "org/set");
  EXPECT_EQ(o->revision, "v1.0");

  o = HubOptionsFromConfig(Hf("hf://org/m"), ConfigWithEnv({}));
  EXPECT_EQ(o->endpoint, "https://huggingface.co");
  EXPECT_EQ(o->revision, "main");
  EXPECT_EQ(o->repo.type, RepoType::kModel);

  o = HubOptionsFromConfig(Hf("hf://org/m"),
                           ConfigWithEnv({}, {{"repo-type", "space"}, {"revision", "refs/pr/2"}}));
  EXPECT_EQ(o->repo.type, RepoType::kSpace);
  EXPECT_EQ(o->revision, "refs/pr/2");

  auto conflict = HubOptionsFromConfig(Hf("hf://org/m@a"), ConfigWithEnv({}, {{"revision", "b"}}));
  EXPECT_EQ(conflict.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(conflict.status().message()).find("revision"), std::string::npos);
  conflict =
      HubOptionsFromConfig(Hf("hf://datasets/org/m"), ConfigWithEnv({}, {{"repo-type", "model"}}));
  EXPECT_EQ(conflict.status().code(), StatusCode::kInvalidArgument);
  auto bad = HubOptionsFromConfig(Hf("hf://org/m"), ConfigWithEnv({{"HF_ENDPOINT", "ftp://x"}}));
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST(HubOptionsTest, RepoIdsAndFilesOption) {
  EXPECT_TRUE(ValidateRepoId("openai/whisper-large-v3").ok());
  EXPECT_TRUE(ValidateRepoId("a.b/c_d").ok());
  for (const char* bad : {"noslash", "a/b/c", "/x", "x/", "a/..b", "a/b c", "-a/b", "a/b."}) {
    EXPECT_EQ(ValidateRepoId(bad).code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(SplitFilesOption(" README.md, tokenizer.json ,,/config.json,"),
            (std::vector<std::string>{"README.md", "tokenizer.json", "config.json"}));
  auto loc = LocationFromOptions(ConfigWithEnv({}, {{"repo", "org/m"}, {"repo-type", "datasets"}}));
  ASSERT_TRUE(loc.ok());
  EXPECT_EQ(loc->ToString(), "hf://datasets/org/m");
  EXPECT_EQ(LocationFromOptions(ConfigWithEnv({})).status().code(), StatusCode::kInvalidArgument);
}

TEST(HubOptionsTest, CacheDirPrecedence) {
  EXPECT_EQ(DefaultHubCacheDir(ConfigWithEnv({{"HF_HUB_CACHE", "/a"}, {"HF_HOME", "/h"}})), "/a");
  EXPECT_EQ(DefaultHubCacheDir(ConfigWithEnv({{"HUGGINGFACE_HUB_CACHE", "/b"}})), "/b");
  EXPECT_EQ(DefaultHubCacheDir(ConfigWithEnv({{"HF_HOME", "/h"}})), "/h/hub");
  EXPECT_EQ(DefaultHubCacheDir(ConfigWithEnv({{"XDG_CACHE_HOME", "/x"}})), "/x/huggingface/hub");
  EXPECT_EQ(DefaultHubCacheDir(ConfigWithEnv({{"HOME", "/home/u"}})),
            "/home/u/.cache/huggingface/hub");
}

// ---- errors ----

ErrorContext Ctx(bool authenticated, std::string path = "", std::string rev = "main") {
  ErrorContext c;
  c.action = "reading";
  c.endpoint = "https://hub.example";
  c.repo = {RepoType::kModel, "org/m"};
  c.revision = rev;
  c.path = path;
  c.authenticated = authenticated;
  c.token_source = authenticated ? "HF_TOKEN" : "";
  c.url = "https://hub.example/org/m/resolve/main/x?sig=secret";
  return c;
}

TEST(HubErrorsTest, GatedRepoSaysHowToRequestAccess) {
  auto s = HubErrorToStatus(
      MakeResponse(403, R"({"error":"Access restricted"})",
                   {{"x-error-code", "GatedRepo"}, {"x-error-message", "not in the list"}}),
      Ctx(true));
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  std::string m(s.message());
  EXPECT_NE(m.find("gated"), std::string::npos) << m;
  EXPECT_NE(m.find("request access"), std::string::npos) << m;
  EXPECT_NE(m.find("https://hub.example/org/m"), std::string::npos) << m;
  EXPECT_NE(m.find("not in the list"), std::string::npos) << m;  // X-Error-Message surfaced

  s = HubErrorToStatus(MakeResponse(401, "", {{"x-error-code", "GatedRepo"}}), Ctx(false));
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(std::string(s.message()).find("token"), std::string::npos);
}

TEST(HubErrorsTest, NotFoundSaysWhichThing) {
  auto repo =
      HubErrorToStatus(MakeResponse(404, "", {{"x-error-code", "RepoNotFound"}}), Ctx(true));
  EXPECT_EQ(repo.code(), StatusCode::kNotFound);
  EXPECT_NE(std::string(repo.message()).find("repository org/m not found"), std::string::npos);
  auto anon = HubErrorToStatus(MakeResponse(401, ""), Ctx(false));
  EXPECT_EQ(anon.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(std::string(anon.message()).find("private or gated"), std::string::npos);
  auto rev = HubErrorToStatus(MakeResponse(404, "", {{"x-error-code", "RevisionNotFound"}}),
                              Ctx(true, "", "nobranch"));
  EXPECT_NE(std::string(rev.message()).find("revision \"nobranch\" does not exist"),
            std::string::npos)
      << rev.message();
  auto file = HubErrorToStatus(MakeResponse(404, "", {{"x-error-code", "EntryNotFound"}}),
                               Ctx(true, "weights/a.bin"));
  EXPECT_EQ(file.code(), StatusCode::kNotFound);
  EXPECT_NE(std::string(file.message()).find("file \"weights/a.bin\" does not exist"),
            std::string::npos)
      << file.message();
}

TEST(HubErrorsTest, BadTokenThrottlingAndServerErrors) {
  auto bad = HubErrorToStatus(
      MakeResponse(401, "", {{"x-error-message", "Invalid credentials in Authorization header"}}),
      Ctx(true));
  EXPECT_EQ(bad.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(std::string(bad.message()).find("rejected"), std::string::npos);
  EXPECT_NE(std::string(bad.message()).find("HF_TOKEN"), std::string::npos);  // the source

  auto limited = HubErrorToStatus(MakeResponse(429, "", {{"retry-after", "7"}}), Ctx(true));
  EXPECT_EQ(limited.code(), StatusCode::kUnavailable);
  EXPECT_NE(std::string(limited.message()).find("retry after 7s"), std::string::npos);

  auto server = HubErrorToStatus(
      MakeResponse(503, R"({"error":"maintenance"})", {{"x-request-id", "Root=1-abc"}}), Ctx(true));
  EXPECT_EQ(server.code(), StatusCode::kUnavailable);
  std::string m(server.message());
  EXPECT_NE(m.find("maintenance"), std::string::npos);
  EXPECT_NE(m.find("Root=1-abc"), std::string::npos);
  EXPECT_EQ(m.find("sig=secret"), std::string::npos) << "query strings are never printed";

  EXPECT_EQ(RetryAfter(MakeResponse(429, "", {{"retry-after", "12"}}))->count(), 12000);
  EXPECT_FALSE(RetryAfter(MakeResponse(429, "")).has_value());
  auto date = RetryAfter(MakeResponse(429, "", {{"retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"}}));
  ASSERT_TRUE(date.has_value());
  EXPECT_EQ(date->count(), 0);  // in the past
}

// ---- git ids ----

TEST(GitOidTest, MatchesGitHashObject) {
  // `printf hello | git hash-object --stdin` and the empty blob.
  EXPECT_EQ(GitBlobId("hello"), "b6fc4c620b67d95f953a5c1c1230aaab5db5a1b0");
  EXPECT_EQ(GitBlobId(""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
  GitBlobHasher h(11);
  h.Update("hello");
  h.Update(" world");
  EXPECT_EQ(h.FinishHex(), GitBlobId("hello world"));
  std::string sha = crypto::Sha256Hex("x");
  EXPECT_EQ(LfsPointer(sha, 1),
            "version https://git-lfs.github.com/spec/v1\noid sha256:" + sha + "\nsize 1\n");
  EXPECT_TRUE(IsGitOid("b6fc4c620b67d95f953a5c1c1230aaab5db5a1b0"));
  EXPECT_FALSE(IsGitOid("B6FC4C620B67D95F953A5C1C1230AAAB5DB5A1B0"));
}

// ---- cache layout ----

TEST(CacheLayoutTest, NamesAndLinkTargets) {
  EXPECT_EQ(RepoFolderName({RepoType::kModel, "openai/whisper"}), "models--openai--whisper");
  EXPECT_EQ(RepoFolderName({RepoType::kDataset, "o/d"}), "datasets--o--d");
  EXPECT_EQ(RepoFolderName({RepoType::kSpace, "o/s"}), "spaces--o--s");
  EXPECT_EQ(SnapshotLinkTarget("config.json", "abc"), "../../blobs/abc");
  EXPECT_EQ(SnapshotLinkTarget("a/b/c.bin", "abc"), "../../../../blobs/abc");
}

TEST(CacheLayoutTest, LoaderResolvesRefThenSnapshotThenFile) {
  TempDir cache;
  RepoRef repo{RepoType::kModel, "org/m"};
  std::string dir = RepoCacheDir(cache.path(), repo);
  std::string commit(40, 'a');
  fs::create_directories(dir + "/blobs");
  std::ofstream(dir + "/blobs/" + std::string(64, 'b')) << "weights";
  ASSERT_TRUE(LinkSnapshotFile(dir, commit, "sub/model.bin", std::string(64, 'b')).ok());
  EXPECT_EQ(TryLoadFromCache(cache.path(), repo, "sub/model.bin"), std::nullopt)
      << "no refs/main yet";
  ASSERT_TRUE(WriteRef(dir, "main", commit).ok());
  std::ifstream ref(dir + "/refs/main");
  std::string text((std::istreambuf_iterator<char>(ref)), {});
  EXPECT_EQ(text, commit) << "refs hold the sha without a newline";
  auto found = TryLoadFromCache(cache.path(), repo, "sub/model.bin");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(*found, dir + "/snapshots/" + commit + "/sub/model.bin");
  std::ifstream in(*found);
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "weights");
  char target[256];
  ssize_t n = ::readlink(found->c_str(), target, sizeof target);
  EXPECT_EQ(std::string(target, n), "../../../blobs/" + std::string(64, 'b'));
  // By commit too; a missing file or revision is not cached; relinking is idempotent.
  EXPECT_TRUE(TryLoadFromCache(cache.path(), repo, "sub/model.bin", commit).has_value());
  EXPECT_FALSE(TryLoadFromCache(cache.path(), repo, "other.bin").has_value());
  EXPECT_FALSE(TryLoadFromCache(cache.path(), repo, "sub/model.bin", "dev").has_value());
  EXPECT_TRUE(LinkSnapshotFile(dir, commit, "sub/model.bin", std::string(64, 'b')).ok());
  // Nested refs (refs/pr/1) and a commit revision writes no ref.
  ASSERT_TRUE(WriteRef(dir, "refs/pr/1", commit).ok());
  EXPECT_TRUE(TryLoadFromCache(cache.path(), repo, "sub/model.bin", "refs/pr/1").has_value());
  ASSERT_TRUE(WriteRef(dir, commit, commit).ok());
  EXPECT_FALSE(fs::exists(dir + "/refs/" + commit));
  // A dangling link (blob gone) is not a cached file.
  fs::remove(dir + "/blobs/" + std::string(64, 'b'));
  EXPECT_FALSE(TryLoadFromCache(cache.path(), repo, "sub/model.bin").has_value());
  // Paths that would escape are refused.
  EXPECT_FALSE(LinkSnapshotFile(dir, commit, "../../evil", "x").ok());
  EXPECT_FALSE(WriteRef(dir, "../../evil", commit).ok());
}

TEST(CacheLayoutTest, PlantedSymlinksInTheCacheAreRefusedNotFollowed) {
  TempDir cache;
  TempDir outside;
  RepoRef repo{RepoType::kModel, "org/m"};
  std::string dir = RepoCacheDir(cache.path(), repo);
  std::string commit(40, 'c');
  std::string etag(64, 'b');
  auto nothing_outside = [&] {
    EXPECT_TRUE(fs::is_empty(outside.path())) << "written outside the cache";
  };
  // snapshots/ itself, a directory inside a snapshot, refs/ and a nested ref's folder.
  for (const std::string& planted :
       std::vector<std::string>{"snapshots", "snapshots/" + commit, "snapshots/" + commit + "/sub",
                                "refs", "refs/refs"}) {
    SCOPED_TRACE(planted);
    fs::remove_all(dir);
    fs::create_directories(fs::path(dir + "/" + planted).parent_path());
    fs::create_directory_symlink(outside.path(), dir + "/" + planted);
    Status link = LinkSnapshotFile(dir, commit, "sub/model.bin", etag);
    Status ref = WriteRef(dir, "refs/pr/1", commit);
    Status main = WriteRef(dir, "main", commit);
    if (planted.rfind("snapshots", 0) == 0) {
      EXPECT_EQ(link.code(), StatusCode::kFailedPrecondition) << link.ToString();
      EXPECT_NE(std::string(link.message()).find(planted), std::string::npos) << link.ToString();
    } else {
      EXPECT_EQ(ref.code(), StatusCode::kFailedPrecondition) << ref.ToString();
      if (planted == "refs") {
        EXPECT_EQ(main.code(), StatusCode::kFailedPrecondition);
      }
    }
    nothing_outside();
  }
  // The repository folder itself.
  fs::remove_all(dir);
  fs::create_directory_symlink(outside.path(), dir);
  EXPECT_EQ(WriteRef(dir, "main", commit).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(LinkSnapshotFile(dir, commit, "a.txt", etag).code(), StatusCode::kFailedPrecondition);
  nothing_outside();
  // A ref that is a symlink to a file outside, or a directory, is not replaced.
  fs::remove(dir);
  fs::create_directories(dir + "/refs/main-dir");
  std::ofstream(outside.path() + "/victim") << "keep";
  fs::create_symlink(outside.path() + "/victim", dir + "/refs/main");
  EXPECT_EQ(WriteRef(dir, "main", commit).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(WriteRef(dir, "main-dir", commit).code(), StatusCode::kFailedPrecondition);
  std::ifstream victim(outside.path() + "/victim");
  std::string kept((std::istreambuf_iterator<char>(victim)), {});
  EXPECT_EQ(kept, "keep");
  // A snapshot entry that is a symlink is replaced (it is the link itself), never followed.
  fs::create_directories(dir + "/snapshots/" + commit);
  fs::create_symlink(outside.path() + "/victim", dir + "/snapshots/" + commit + "/x.txt");
  ASSERT_TRUE(LinkSnapshotFile(dir, commit, "x.txt", etag).ok());
  EXPECT_EQ(fs::read_symlink(dir + "/snapshots/" + commit + "/x.txt").string(),
            "../../blobs/" + etag);
  std::ifstream again(outside.path() + "/victim");
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(again)), {}), "keep");
}

// ---- client and store against a mock transport ----

HubOptions TestOptions(const std::string& token = "hf_unit_token") {
  HubOptions o;
  o.endpoint = "https://hub.test";
  o.repo = {RepoType::kModel, "org/m"};
  o.token = Secret<std::string>(token);
  o.token_source = "test";
  o.retry.max_attempts = 3;
  o.retry.initial_delay = std::chrono::milliseconds(1);
  o.retry.max_delay = std::chrono::milliseconds(2);
  return o;
}

std::string AuthOf(const http::HttpRequest& r) {
  for (const auto& [k, v] : r.headers) {
    std::string lower = k;
    for (auto& c : lower) c = static_cast<char>(std::tolower(c));
    if (lower == "authorization") return v;
  }
  return "";
}

TEST(HubClientTest, TokenOnlyForTheHubOrigin) {
  auto mock = std::make_shared<http::MockHttpTransport>();
  HubClient client(TestOptions(), mock);
  EXPECT_TRUE(client.IsHubUrl("https://hub.test/api/x"));
  EXPECT_TRUE(client.IsHubUrl("https://hub.test:443/api/x"));
  EXPECT_FALSE(client.IsHubUrl("http://hub.test/api/x"));
  EXPECT_FALSE(client.IsHubUrl("https://hub.test.evil.example/api/x"));
  EXPECT_FALSE(client.IsHubUrl("https://cdn.test/x"));
  mock->Respond("GET https://hub.test/a", MakeResponse(200));
  mock->Respond("GET https://cdn.test/b", MakeResponse(200));
  http::HttpRequest hub_req;
  hub_req.url = "https://hub.test/a";
  ASSERT_TRUE(client.Send(hub_req, "", nullptr, false).ok());
  http::HttpRequest cdn_req;
  cdn_req.url = "https://cdn.test/b";
  cdn_req.headers = {{"Authorization", "Bearer leaked"}};  // a caller mistake is corrected
  ASSERT_TRUE(client.Send(cdn_req, "", nullptr, false).ok());
  auto sent = mock->requests();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(AuthOf(sent[0].request), "Bearer hf_unit_token");
  EXPECT_EQ(AuthOf(sent[1].request), "");
}

TEST(HubClientTest, RetriesHonourRetryAfterAnd5xx) {
  auto mock = std::make_shared<http::MockHttpTransport>();
  HubClient client(TestOptions(), mock);
  std::string url = "https://hub.test/api/models/org/m/revision/main";
  mock->Respond("GET " + url, MakeResponse(429, "", {{"retry-after", "1"}}));
  mock->Respond("GET " + url, MakeResponse(503, ""));
  mock->Respond("GET " + url, MakeResponse(200, R"({"sha":")" + std::string(40, 'c') + "\"}"));
  auto start = std::chrono::steady_clock::now();
  auto info = client.GetRepoInfo("main");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->sha, std::string(40, 'c'));
  EXPECT_EQ(mock->requests().size(), 3u);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(950))
      << "Retry-After: 1 must be waited out";
}

TEST(HubClientTest, TreeFollowsLinkPages) {
  auto mock = std::make_shared<http::MockHttpTransport>();
  HubClient client(TestOptions(), mock);
  std::string first = TreeUrl(client.options(), "abc", "", true);
  EXPECT_EQ(first, "https://hub.test/api/models/org/m/tree/abc?recursive=true&expand=false");
  mock->Respond(
      "GET " + first,
      MakeResponse(200, R"([{"type":"file","path":"a","size":1,"oid":")" + Oid('x') + R"("}])",
                   {{"link", "<https://hub.test/next?cursor=2>; rel=\"next\""}}));
  mock->Respond(
      "GET https://hub.test/next?cursor=2",
      MakeResponse(200, R"([{"type":"directory","path":"d","size":0,"oid":")" + Oid('y') + R"("},
                  {"type":"file","path":"d/b","size":9,"oid":")" +
                            Oid('z') + R"(",
                   "lfs":{"oid":")" +
                            std::string(64, 'e') + R"(","size":9,"pointerSize":130}}])"));
  std::vector<TreeEntry> got;
  ASSERT_TRUE(client
                  .ListTree("abc", "", true,
                            [&](TreeEntry e) {
                              got.push_back(e);
                              return Status();
                            })
                  .ok());
  ASSERT_EQ(got.size(), 3u);
  EXPECT_TRUE(got[1].is_directory);
  ASSERT_TRUE(got[2].lfs.has_value());
  EXPECT_EQ(got[2].etag(), std::string(64, 'e'));
  EXPECT_EQ(got[0].etag(), Oid('x'));
  EXPECT_EQ(EncodeRevision("refs/pr/1"), "refs%2Fpr%2F1");
  EXPECT_EQ(ResolveUrl(client.options(), "refs/pr/1", "dir/a b.json"),
            "https://hub.test/org/m/resolve/refs%2Fpr%2F1/dir/a%20b.json");
}

TEST(HubClientTest, CommitPayloadAndMultipartAnswer) {
  std::string payload =
      BuildCommitPayload("Upload", "desc", std::string(40, 'p'),
                         {{CommitOperation::Kind::kFile, "a.txt", "hi", "", 0},
                          {CommitOperation::Kind::kLfsFile, "w.bin", "", std::string(64, 'f'), 5},
                          {CommitOperation::Kind::kDeletedFile, "old", "", "", 0}});
  EXPECT_EQ(payload,
            R"({"key":"header","value":{"description":"desc","parentCommit":")" +
                std::string(40, 'p') + R"(","summary":"Upload"}})" + "\n" +
                R"({"key":"file","value":{"content":"aGk=","encoding":"base64","path":"a.txt"}})" +
                "\n" + R"({"key":"lfsFile","value":{"algo":"sha256","oid":")" +
                std::string(64, 'f') + R"(","path":"w.bin","size":5}})" + "\n" +
                R"({"key":"deletedFile","value":{"path":"old"}})" + "\n");

  auto mock = std::make_shared<http::MockHttpTransport>();
  HubClient client(TestOptions(), mock);
  std::string header = R"({"chunk_size":"4")";
  for (int i = 1; i <= 10; ++i)
    header += ",\"" + std::to_string(i) + "\":\"https://s/p" + std::to_string(i) + "\"";
  header += "}";
  mock->Respond("POST https://hub.test/org/m.git/info/lfs/objects/batch",
                MakeResponse(200, R"({"transfer":"multipart","objects":[{"oid":")" +
                                      std::string(64, 'f') + R"(","size":40,"actions":{"upload":
                                      {"href":"https://hub.test/complete","header":)" +
                                      header + R"(}}}]})"));
  auto answer = client.LfsBatchUpload("main", {{std::string(64, 'f'), 40}}, false);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  ASSERT_EQ(answer->size(), 1u);
  EXPECT_EQ((*answer)[0].chunk_size, 4u);
  ASSERT_EQ((*answer)[0].part_urls.size(), 10u);
  EXPECT_EQ((*answer)[0].part_urls[9], "https://s/p10") << "numeric order, not lexical";
  auto sent = mock->requests();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_NE(sent[0].body.find(R"("transfers":["basic","multipart"])"), std::string::npos);
  EXPECT_NE(sent[0].body.find(R"("ref":{"name":"main"})"), std::string::npos);
}

TEST(HubClientTest, MultipartPartNumbersThatDoNotFitAreRefused) {
  auto mock = std::make_shared<http::MockHttpTransport>();
  HubClient client(TestOptions(), mock);
  mock->Respond("POST https://hub.test/org/m.git/info/lfs/objects/batch",
                MakeResponse(200, R"({"objects":[{"oid":")" + std::string(64, 'f') +
                                      R"(","size":40,"actions":{"upload":{"href":"https://s/c",
                                      "header":{"chunk_size":"40",
                                      "99999999999999999999999":"https://s/p1"}}}}]})"));
  auto answer = client.LfsBatchUpload("main", {{std::string(64, 'f'), 40}}, false);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(answer.status().message().find("out-of-range part number"), std::string_view::npos)
      << answer.status().ToString();
  EXPECT_EQ(mock->requests().size(), 1u) << "nothing uploaded after the refused answer";
}

// A store whose transport is the mock: one regular file and one LFS file.
struct MockRepo {
  std::shared_ptr<http::MockHttpTransport> mock = std::make_shared<http::MockHttpTransport>();
  std::shared_ptr<HfStore> store;
  std::string commit = std::string(40, 'c');
  std::string lfs_sha = crypto::Sha256Hex("0123456789");

  MockRepo() {
    mock->Respond("GET https://hub.test/api/models/org/m/revision/main",
                  MakeResponse(200, R"({"sha":")" + commit + "\"}"));
    mock->Respond(
        "GET https://hub.test/api/models/org/m/tree/" + commit + "?recursive=true&expand=false",
        MakeResponse(200, R"([{"type":"file","path":"small.txt","size":5,"oid":")" +
                              GitBlobId("hello") +
                              R"("},{"type":"file","path":"big.bin","size":10,"oid":")" +
                              GitBlobId(LfsPointer(lfs_sha, 10)) + R"(",
                                        "lfs":{"oid":")" +
                              lfs_sha + R"(","size":10,"pointerSize":1}}])"));
    HfStoreOptions o;
    o.hub = TestOptions();
    o.transport = mock;
    store = *HfStore::Open(o);
    ListRequest all;
    EXPECT_TRUE(store->List(all).ok());
  }
};

TEST(HfStoreMockTest, SmallFileCheckedAgainstGitBlobId) {
  MockRepo repo;
  std::string url = "https://hub.test/org/m/resolve/" + repo.commit + "/small.txt";
  repo.mock->Respond("GET " + url, MakeResponse(200, "jello"));  // corrupted in transit
  repo.mock->Respond("GET " + url, MakeResponse(200, "hello"));  // then intact
  io::StringSink sink;
  Status s = repo.store->Read("small.txt", ByteRange::All(), sink, {});
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  EXPECT_NE(std::string(s.message()).find("git blob id"), std::string::npos);
  io::StringSink ok;
  EXPECT_TRUE(repo.store->Read("small.txt", ByteRange::All(), ok, {}).ok());
  EXPECT_EQ(ok.str(), "hello");
}

TEST(HfStoreMockTest, APartOfASmallFileIsReadWholeAndVerified) {
  MockRepo repo;
  std::string url = "https://hub.test/org/m/resolve/" + repo.commit + "/small.txt";
  repo.mock->Respond("GET " + url, MakeResponse(200, "jello"));  // corrupted in transit
  repo.mock->Respond("GET " + url, MakeResponse(200, "hello"));
  io::StringSink bad;
  Status s = repo.store->Read("small.txt", {1, 3}, bad, {});
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  io::StringSink part;
  ASSERT_TRUE(repo.store->Read("small.txt", {1, 3}, part, {}).ok());
  EXPECT_EQ(part.str(), "ell") << "only the part asked for is passed on";
  for (const auto& r : repo.mock->requests()) {
    if (r.request.url != url) continue;
    for (const auto& [k, v] : r.request.headers) EXPECT_NE(k, "range") << v;
  }
}

TEST(HfStoreMockTest, LfsRedirectFollowedWithoutTokenAndCached) {
  MockRepo repo;
  std::string url = "https://hub.test/org/m/resolve/" + repo.commit + "/big.bin";
  std::string cdn = "https://cdn.test/obj?X-Amz-Signature=abc";
  repo.mock->Respond("GET " + url, MakeResponse(302, "", {{"location", cdn}}));
  repo.mock->SetHandler(
      [](const http::HttpRequest& r, const std::string&) -> Result<http::HttpResponse> {
        if (r.url.rfind("https://cdn.test/", 0) != 0) return MakeResponse(404);
        std::string range;
        for (const auto& [k, v] : r.headers) {
          if (k == "range") range = v;
        }
        if (range == "bytes=0-4") return MakeResponse(206, "01234");
        if (range == "bytes=5-9") return MakeResponse(206, "56789");
        return MakeResponse(400);
      });
  io::StringSink a, b;
  ASSERT_TRUE(repo.store->Read("big.bin", {0, 5}, a, {}).ok());
  ASSERT_TRUE(repo.store->Read("big.bin", {5, 5}, b, {}).ok());
  EXPECT_EQ(a.str() + b.str(), "0123456789");
  int resolves = 0, cdn_requests = 0;
  for (const auto& r : repo.mock->requests()) {
    if (r.request.url == url) {
      ++resolves;
      EXPECT_EQ(AuthOf(r.request), "Bearer hf_unit_token");
    }
    if (r.request.url == cdn) {
      ++cdn_requests;
      EXPECT_EQ(AuthOf(r.request), "") << "the token must never reach the storage host";
    }
  }
  EXPECT_EQ(resolves, 1) << "the second part goes straight to the cached storage URL";
  EXPECT_EQ(cdn_requests, 2);
  // The store's ObjectInfo carries the LFS SHA-256 for the engine to verify.
  auto st = repo.store->Stat("big.bin");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->sha256, repo.lfs_sha);
  EXPECT_TRUE(repo.store->Stat("small.txt")->sha256.empty());
}

TEST(HfStoreMockTest, ExpiredStorageUrlIsResolvedAgain) {
  MockRepo repo;
  std::string url = "https://hub.test/org/m/resolve/" + repo.commit + "/big.bin";
  repo.mock->Respond("GET " + url, MakeResponse(302, "", {{"location", "https://cdn.test/old"}}));
  repo.mock->Respond("GET " + url, MakeResponse(302, "", {{"location", "https://cdn.test/new"}}));
  repo.mock->Respond("GET https://cdn.test/old", MakeResponse(206, "01234"));
  repo.mock->Respond("GET https://cdn.test/old", MakeResponse(403, "expired"));
  repo.mock->Respond("GET https://cdn.test/new", MakeResponse(206, "56789"));
  io::StringSink a, b;
  ASSERT_TRUE(repo.store->Read("big.bin", {0, 5}, a, {}).ok());
  Status s = repo.store->Read("big.bin", {5, 5}, b, {});
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(b.str(), "56789");
}

// ---- hostile listings ----

std::string TreeFirstUrl() {
  return "https://hub.test/api/models/org/m/tree/abc?recursive=true&expand=false";
}

std::string FileJson(const std::string& path, const std::string& extra = "") {
  return R"({"type":"file","path":")" + path + R"(","size":3,"oid":")" + Oid('a') + "\"" + extra +
         "}";
}

// Lists `answers` (one tree page) through the client; returns the status and what reached fn.
Status ListOnce(const std::string& page, std::vector<std::string>* got = nullptr,
                const std::string& dir = "") {
  auto mock = std::make_shared<http::MockHttpTransport>();
  HubClient client(TestOptions(), mock);
  mock->Respond("GET " + TreeUrl(client.options(), "abc", dir, true), MakeResponse(200, page));
  return client.ListTree("abc", dir, true, [&](TreeEntry e) {
    if (got) got->push_back(e.path);
    return Status();
  });
}

void ExpectRefused(const Status& s, const std::string& names, const std::string& what) {
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << what << ": " << s.ToString();
  EXPECT_NE(std::string(s.message()).find(names), std::string::npos)
      << what << ": " << s.ToString();
}

TEST(HubListingTest, PaginationThatLoopsOrNeverEndsIsRefused) {
  // A page that links to itself.
  {
    auto mock = std::make_shared<http::MockHttpTransport>();
    HubClient client(TestOptions(), mock);
    mock->Respond("GET " + TreeFirstUrl(),
                  MakeResponse(200, "[" + FileJson("a") + "]",
                               {{"link", "<" + TreeFirstUrl() + ">; rel=\"next\""}}));
    int seen = 0;
    Status s = client.ListTree("abc", "", true, [&](TreeEntry) {
      ++seen;
      return Status();
    });
    ExpectRefused(s, "links back to an earlier page", "self link");
    EXPECT_EQ(mock->requests().size(), 1u);
  }
  // A cycle of two pages.
  {
    auto mock = std::make_shared<http::MockHttpTransport>();
    HubClient client(TestOptions(), mock);
    std::string second = "https://hub.test/api/models/org/m/tree/abc?cursor=2";
    mock->Respond(
        "GET " + TreeFirstUrl(),
        MakeResponse(200, "[" + FileJson("a") + "]", {{"link", "<" + second + ">; rel=\"next\""}}));
    mock->Respond("GET " + second,
                  MakeResponse(200, "[" + FileJson("b") + "]",
                               {{"link", "<" + TreeFirstUrl() + ">; rel=\"next\""}}));
    ExpectRefused(client.ListTree("abc", "", true, [](TreeEntry) { return Status(); }),
                  "links back to an earlier page", "cycle");
    EXPECT_EQ(mock->requests().size(), 2u);
  }
  // New pages forever: bounded by the page limit.
  {
    auto mock = std::make_shared<http::MockHttpTransport>();
    HubOptions o = TestOptions();
    o.max_listing_pages = 50;
    HubClient client(o, mock);
    std::atomic<int> n{0};
    mock->SetHandler(
        [&](const http::HttpRequest&, const std::string&) -> Result<http::HttpResponse> {
          int i = ++n;
          return MakeResponse(200, "[" + FileJson("f" + std::to_string(i)) + "]",
                              {{"link", "<https://hub.test/api/models/org/m/tree/abc?cursor=" +
                                            std::to_string(i) + ">; rel=\"next\""}});
        });
    ExpectRefused(client.ListTree("abc", "", true, [](TreeEntry) { return Status(); }),
                  "does not end (more than 50 pages)", "endless pages");
    EXPECT_EQ(n.load(), 50);
  }
  // ... and by the entry limit.
  {
    auto mock = std::make_shared<http::MockHttpTransport>();
    HubOptions o = TestOptions();
    o.max_listing_entries = 3;
    HubClient client(o, mock);
    mock->Respond("GET " + TreeFirstUrl(),
                  MakeResponse(200, "[" + FileJson("a") + "," + FileJson("b") + "," +
                                        FileJson("c") + "," + FileJson("d") + "]"));
    ExpectRefused(client.ListTree("abc", "", true, [](TreeEntry) { return Status(); }),
                  "more than 3 entries", "endless entries");
  }
  // Empty pages that link on, and links to another host.
  {
    auto mock = std::make_shared<http::MockHttpTransport>();
    HubClient client(TestOptions(), mock);
    mock->Respond(
        "GET " + TreeFirstUrl(),
        MakeResponse(200, "[]", {{"link", "<https://hub.test/x?cursor=1>; rel=\"next\""}}));
    ExpectRefused(client.ListTree("abc", "", true, [](TreeEntry) { return Status(); }),
                  "is empty but links to another page", "empty page");
    auto mock2 = std::make_shared<http::MockHttpTransport>();
    HubClient client2(TestOptions(), mock2);
    mock2->Respond("GET " + TreeFirstUrl(),
                   MakeResponse(200, "[" + FileJson("a") + "]",
                                {{"link", "<https://evil.test/x?cursor=1>; rel=\"next\""}}));
    ExpectRefused(client2.ListTree("abc", "", true, [](TreeEntry) { return Status(); }),
                  "links to another host (https://evil.test/x)", "foreign host");
    EXPECT_EQ(mock2->requests().size(), 1u) << "the other host is never asked";
  }
}

TEST(HubListingTest, MalformedSizesAreRefusedNamingTheFile) {
  for (const auto& [size, why] : std::vector<std::pair<std::string, std::string>>{
           {"-5", "negative"},
           {"\"abc\"", "a string"},
           {"\"12\"", "a numeric string"},
           {"1.5", "fractional"},
           {"18446744073709551616", "2^64"},
           {"1e30", "huge"},
           {"9007199254740993000", "beyond any real file"},
           {"null", "null"}}) {
    std::vector<std::string> got;
    Status s = ListOnce(
        R"([{"type":"file","path":"w.bin","size":)" + size + R"(,"oid":")" + Oid('a') + R"("}])",
        &got);
    ExpectRefused(s, "\"w.bin\" has a malformed size", why);
    EXPECT_TRUE(got.empty()) << why;
  }
  ExpectRefused(ListOnce(R"([{"type":"file","path":"w.bin","oid":")" + Oid('a') + R"("}])"),
                "\"w.bin\" has no \"size\"", "missing");
  // The LFS object's size must be the file's.
  ExpectRefused(ListOnce(R"([{"type":"file","path":"w.bin","size":3,"oid":")" + Oid('a') +
                         R"(","lfs":{"oid":")" + std::string(64, 'e') + R"(","size":-1}}])"),
                "\"w.bin\" has a malformed size", "lfs size");
  ExpectRefused(ListOnce(R"([{"type":"file","path":"w.bin","size":3,"oid":")" + Oid('a') +
                         R"(","lfs":{"oid":")" + std::string(64, 'e') + R"(","size":4}}])"),
                "\"w.bin\" has size 3 but its LFS object 4", "lfs size mismatch");
}

TEST(HubListingTest, MalformedOidsAreRefusedNamingTheFile) {
  for (const auto& [oid, why] : std::vector<std::pair<std::string, std::string>>{
           {"\"\"", "empty"},
           {"\"x\"", "not hex"},
           {"\"" + std::string(40, 'A') + "\"", "upper case"},
           {"\"" + std::string(39, 'a') + "\"", "short"},
           {"\"" + std::string(64, 'a') + "\"", "a SHA-256 where a blob id belongs"},
           {"7", "a number"}}) {
    ExpectRefused(ListOnce(R"([{"type":"file","path":"c.json","size":3,"oid":)" + oid + "}]"),
                  "\"c.json\" has the malformed git blob id", why);
  }
  ExpectRefused(ListOnce(R"([{"type":"file","path":"c.json","size":3}])"),
                "\"c.json\" has the malformed git blob id", "missing");
  for (const auto& [oid, why] : std::vector<std::pair<std::string, std::string>>{
           {"\"\"", "empty"},
           {"\"" + std::string(64, 'E') + "\"", "upper case"},
           {"\"" + std::string(63, 'e') + "\"", "short"},
           {"\"../../x\"", "a path"}}) {
    ExpectRefused(ListOnce(R"([{"type":"file","path":"w.bin","size":3,"oid":")" + Oid('a') +
                           R"(","lfs":{"oid":)" + oid + R"(,"size":3}}])"),
                  "\"w.bin\" has the malformed LFS oid", why);
  }
}

TEST(HubListingTest, PathsThatEscapeOrLieOutsideTheFolderAreRefused) {
  for (const auto& [path, why] :
       std::vector<std::pair<std::string, std::string>>{{"../evil", "\"..\" segment"},
                                                        {"a/../../evil", "\"..\" segment"},
                                                        {"/etc/passwd", "absolute"},
                                                        {"a\\u0000b", "NUL"},
                                                        {"log\\nFAKE line", "control character"},
                                                        {"\\u001b[31mred", "control character"},
                                                        {"a//b", "empty path segment"},
                                                        {"a\\\\b", "backslash"},
                                                        {"", "it is empty"}}) {
    std::vector<std::string> got;
    Status s = ListOnce("[" + FileJson("ok.txt") + "," + FileJson(path) + "]", &got);
    EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << why << ": " << s.ToString();
    EXPECT_NE(std::string(s.message()).find("unsafe object key"), std::string::npos)
        << s.ToString();
    for (char c : std::string(s.message())) {
      EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20) << "raw control character in " << why;
    }
    EXPECT_LE(got.size(), 1u);
  }
  // A directory entry is checked the same way.
  ExpectRefused(ListOnce(R"([{"type":"directory","path":"..","oid":")" + Oid('a') + R"("}])"),
                "unsafe object key", "directory");
  ExpectRefused(ListOnce(R"([{"type":"symlink","path":"x","size":1,"oid":")" + Oid('a') + R"("}])"),
                "\"x\" has the unknown type \"symlink\"", "type");
  // Listing the folder "sub": everything must be below "sub/".
  std::vector<std::string> got;
  EXPECT_TRUE(ListOnce("[" + FileJson("sub/a") + "]", &got, "sub").ok());
  for (const std::string outside : {"other/x", "sub", "subway/x"}) {
    ExpectRefused(ListOnce("[" + FileJson("sub/a") + "," + FileJson(outside) + "]", nullptr, "sub"),
                  "\"" + outside + "\" is not inside the folder \"sub\"", outside);
  }
}

TEST(HubListingTest, PathsInfoAnswersOnlyForWhatWasAsked) {
  auto mock = std::make_shared<http::MockHttpTransport>();
  HubClient client(TestOptions(), mock);
  std::string url = "https://hub.test/api/models/org/m/paths-info/abc";
  mock->Respond("POST " + url,
                MakeResponse(200, "[" + FileJson("a.txt") + "," + FileJson("b.txt") + "]"));
  mock->Respond("POST " + url,
                MakeResponse(200, R"([{"type":"file","path":"a.txt","size":-5,"oid":")" + Oid('a') +
                                      R"("}])"));
  auto r = client.PathsInfo("abc", {"a.txt"});
  ExpectRefused(r.status(), "names \"b.txt\", which was not asked for", "unasked");
  ExpectRefused(client.PathsInfo("abc", {"a.txt"}).status(), "\"a.txt\" has a malformed size",
                "size");
}

TEST(HfStoreMockTest, AListingWithAPathTwiceOrAsFileAndFolderIsRefused) {
  for (const auto& [page, names] : std::vector<std::pair<std::string, std::string>>{
           {"[" + FileJson("a") + "," + FileJson("a", R"(,"x":1)") + "]", "\"a\" is listed twice"},
           {"[" + FileJson("a") + "," + FileJson("a-b") + "," + FileJson("a/b") + "]",
            "\"a\" is listed both as a file and as the folder of \"a/b\""}}) {
    auto mock = std::make_shared<http::MockHttpTransport>();
    std::string commit(40, 'c');
    mock->Respond("GET https://hub.test/api/models/org/m/revision/main",
                  MakeResponse(200, R"({"sha":")" + commit + "\"}"));
    mock->Respond(
        "GET https://hub.test/api/models/org/m/tree/" + commit + "?recursive=true&expand=false",
        MakeResponse(200, page));
    HfStoreOptions o;
    o.hub = TestOptions();
    o.transport = mock;
    auto store = *HfStore::Open(o);
    ExpectRefused(store->Files("").status(), names, names);
  }
}

TEST(HfStoreMockTest, ARedirectToAnotherSchemeIsRefusedAndNeverFollowed) {
  for (const std::string target :
       {"file:///etc/passwd", "FILE:///etc/shadow", "ftp://cdn.test/x", "gopher://x/"}) {
    auto mock = std::make_shared<http::MockHttpTransport>();
    std::string commit(40, 'c');
    std::string lfs_sha = crypto::Sha256Hex("0123456789");
    mock->Respond("GET https://hub.test/api/models/org/m/revision/main",
                  MakeResponse(200, R"({"sha":")" + commit + "\"}"));
    mock->Respond(
        "GET https://hub.test/api/models/org/m/tree/" + commit + "?recursive=true&expand=false",
        MakeResponse(200, R"([{"type":"file","path":"big.bin","size":10,"oid":")" +
                              GitBlobId(LfsPointer(lfs_sha, 10)) + R"(","lfs":{"oid":")" + lfs_sha +
                              R"(","size":10}}])"));
    mock->Respond("GET https://hub.test/org/m/resolve/" + commit + "/big.bin",
                  MakeResponse(302, "", {{"location", target + "?sig=secret"}}));
    HfStoreOptions o;
    o.hub = TestOptions();
    o.transport = mock;
    auto store = *HfStore::Open(o);
    ASSERT_TRUE(store->Files("").ok());
    io::StringSink sink;
    Status s = store->Read("big.bin", ByteRange::All(), sink, {});
    EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
    EXPECT_NE(std::string(s.message()).find("refused redirect to " + target + " (only http/https)"),
              std::string::npos)
        << s.ToString();
    EXPECT_EQ(std::string(s.message()).find("secret"), std::string::npos);
    EXPECT_TRUE(sink.str().empty());
    for (const auto& r : mock->requests()) {
      EXPECT_EQ(r.request.url.rfind("http", 0), 0u) << "sent " << r.request.url;
    }
  }
}

TEST(HfStoreMockTest, AFileReadWithoutAListingIsStillVerified) {
  auto mock = std::make_shared<http::MockHttpTransport>();
  std::string commit(40, 'c');
  mock->Respond("GET https://hub.test/api/models/org/m/revision/main",
                MakeResponse(200, R"({"sha":")" + commit + "\"}"));
  mock->Respond("POST https://hub.test/api/models/org/m/paths-info/" + commit,
                MakeResponse(200, R"([{"type":"file","path":"c.json","size":5,"oid":")" +
                                      GitBlobId("hello") + R"("}])"));
  mock->Respond("GET https://hub.test/org/m/resolve/" + commit + "/c.json",
                MakeResponse(200, "jello"));
  HfStoreOptions o;
  o.hub = TestOptions();
  o.transport = mock;
  auto store = *HfStore::Open(o);
  io::StringSink sink;
  Status s = store->Read("c.json", ByteRange::All(), sink, {});
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
}

// ---- credentials are single-line ----

TEST(HubOptionsTest, TokensWithControlCharactersAreRefusedNamingTheSource) {
  TempDir home;
  const std::string secret = "hf_injected";
  std::string current;
  auto expect_refused = [&](const Result<Secret<std::string>>& t, const std::string& source) {
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument)
        << source << " " << ::testing::PrintToString(current);
    std::string m(t.status().message());
    EXPECT_NE(m.find(source), std::string::npos) << m;
    EXPECT_NE(m.find("control character"), std::string::npos) << m;
    EXPECT_EQ(m.find(secret), std::string::npos) << "the value must never be shown: " << m;
  };
  std::string source;
  for (const std::string& bad :
       {secret + "\r\nX-Evil: 1", secret + "\n", "\n" + secret, secret + "\t",
        secret + std::string(1, '\0') + "x", secret + "\x7f", secret + "\x1b[2J"}) {
    current = bad;
    expect_refused(FindToken(ConfigWithEnv({}, {{"token", bad}}), &source), "the token option");
    expect_refused(FindToken(ConfigWithEnv({{"HF_TOKEN", bad}}), &source), "HF_TOKEN");
    std::ofstream(home.path() + "/tok", std::ios::binary | std::ios::trunc) << bad << "\n";
    expect_refused(FindToken(ConfigWithEnv({{"HF_TOKEN_PATH", home.path() + "/tok"}}), &source),
                   "HF_TOKEN_PATH");
    fs::create_directories(home.path() + "/hf");
    std::ofstream(home.path() + "/hf/token", std::ios::binary | std::ios::trunc) << bad << "\n";
    expect_refused(FindToken(ConfigWithEnv({{"HF_HOME", home.path() + "/hf"}}), &source),
                   home.path() + "/hf/token");
  }
  // One trailing line ending of a file is dropped (echo, editors, CRLF); a second is refused.
  for (const std::string ok :
       {"hf_goodtoken\n", "hf_goodtoken\r\n", "hf_goodtoken", " hf_goodtoken \n"}) {
    std::ofstream(home.path() + "/tok", std::ios::binary | std::ios::trunc) << ok;
    auto t = FindToken(ConfigWithEnv({{"HF_TOKEN_PATH", home.path() + "/tok"}}), &source);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_EQ(t->reveal(), "hf_goodtoken");
  }
  std::ofstream(home.path() + "/tok", std::ios::binary | std::ios::trunc) << "hf_goodtoken\n\n";
  EXPECT_EQ(
      FindToken(ConfigWithEnv({{"HF_TOKEN_PATH", home.path() + "/tok"}}), &source).status().code(),
      StatusCode::kInvalidArgument);
  // A token file that is a directory or a FIFO is named as such (and the FIFO never blocks).
  fs::create_directories(home.path() + "/dir");
  auto dir = FindToken(ConfigWithEnv({{"HF_TOKEN_PATH", home.path() + "/dir"}}), &source);
  EXPECT_NE(std::string(dir.status().message()).find("is not a regular file (a directory)"),
            std::string::npos)
      << dir.status().ToString();
  ASSERT_EQ(::mkfifo((home.path() + "/fifo").c_str(), 0600), 0);
  auto fifo = FindToken(ConfigWithEnv({{"HF_TOKEN_PATH", home.path() + "/fifo"}}), &source);
  EXPECT_NE(std::string(fifo.status().message()).find("is not a regular file"), std::string::npos)
      << fifo.status().ToString();
  // The endpoint too goes into every request line.
  auto ep = HubOptionsFromConfig(Hf("hf://org/m"),
                                 ConfigWithEnv({{"HF_ENDPOINT", "https://hub.test\r\nX: 1"}}));
  EXPECT_EQ(ep.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace datacube::storage::hf
