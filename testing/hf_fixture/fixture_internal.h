// Internals shared by the fixture's route files (hub_fixture.cc, routes_read.cc,
// routes_write.cc). Not for tests.
#pragma once

#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "testing/hf_fixture/hub_fixture.h"

namespace datacube::testing::hf {

using nlohmann::json;

// A repository named by a URL.
struct RepoPath {
  std::string type;  // "model", "dataset", "space"
  std::string id;    // "org/name"
  std::string org() const { return id.substr(0, id.find('/')); }
  // URL prefix of file URLs: "", "datasets/", "spaces/".
  std::string UrlPrefix() const { return type == "model" ? "" : type + "s/"; }
};

// Who is calling, from the Authorization header.
struct Caller {
  bool has_token = false;
  const FixtureUser* user = nullptr;  // null: anonymous, or an unknown token
};

enum class Need { kMeta, kContent, kWrite };

struct MultipartUpload {
  RepoPath repo;
  std::string sha256;
  uint64_t size = 0;
  uint64_t chunk = 0;
  size_t parts = 0;
  std::map<int, std::string> etags;  // guarded by Impl::mu
};

struct HubFixture::Impl {
  FixtureOptions options;
  std::unique_ptr<HubModel> model;
  httplib::Server hub;
  httplib::Server storage;
  std::thread hub_thread;
  std::thread storage_thread;
  int hub_port = 0;
  int storage_port = 0;
  std::string secret;  // HMAC key for pre-signed URLs

  mutable std::mutex mu;
  std::map<std::string, int> corrupt;    // guarded by mu: sha256 -> times left
  std::vector<Fault> faults;             // guarded by mu
  std::deque<RecordedRequest> requests;  // guarded by mu
  // Requests received but not yet recorded: httplib logs a request only after its response is
  // sent, so a client can finish before its last request is on the record. Guarded by mu.
  int unrecorded = 0;
  mutable std::condition_variable recorded_cv;
  // Waits (briefly) until every request received so far is on the record. Holds `lock` on mu.
  void WaitRecorded(std::unique_lock<std::mutex>& lock) const;
  std::map<std::string, MultipartUpload> uploads;  // guarded by mu
  std::map<std::string, Tamper> tampers;           // guarded by mu: "type:id" -> lies
  // A copy of the repository's Tamper (empty when it is served faithfully).
  Tamper TamperFor(const RepoPath& repo) const;
  std::atomic<uint64_t> next_id{1};

  std::string HubUrl() const;
  std::string StorageUrl() const;

  // Signing: "<base><path>?<query>&expires=..&sig=.." and its check.
  std::string Sign(const std::string& base, const std::string& method, const std::string& path,
                   const std::string& query = "") const;
  bool CheckSignature(const httplib::Request& req, const std::string& method) const;

  Caller Identify(const httplib::Request& req) const;
  // Writes the error and returns false when the caller may not do `need` on `repo` (`path` is the
  // file asked for: README.md and .gitattributes of gated repos are public, as on the Hub).
  bool Authorize(const Caller& caller, const RepoPath& repo, Need need, const std::string& path,
                 httplib::Response& res) const;
  // Rejects an unknown token (401 "Invalid credentials in Authorization header").
  bool CheckToken(const Caller& caller, httplib::Response& res) const;

  void Install();
  bool ApplyFault(const std::string& server, const httplib::Request& req, httplib::Response& res);
  static bool IsRecorded(const std::string& server, const httplib::Request& req);
  void Record(const std::string& server, const httplib::Request& req, const httplib::Response& res);
  int TakeCorruption(const std::string& sha256);  // >0: corrupt this response

  // Routes.
  void RouteHubGet(const httplib::Request& req, httplib::Response& res);
  void RouteHubPost(const httplib::Request& req, httplib::Response& res);
  void RouteStorageGet(const httplib::Request& req, httplib::Response& res);
  void RouteStoragePut(const httplib::Request& req, httplib::Response& res,
                       const httplib::ContentReader& reader);

  void RepoInfo(const httplib::Request& req, httplib::Response& res, const RepoPath& repo,
                const std::string& rev);
  void Tree(const httplib::Request& req, httplib::Response& res, const RepoPath& repo,
            const std::string& rev, const std::string& path, const std::string& raw_path);
  void PathsInfo(const httplib::Request& req, httplib::Response& res, const RepoPath& repo,
                 const std::string& rev);
  void Resolve(const httplib::Request& req, httplib::Response& res, const RepoPath& repo,
               const std::string& rev, const std::string& path, bool raw);
  void Preupload(const httplib::Request& req, httplib::Response& res, const RepoPath& repo,
                 const std::string& rev);
  void Commit(const httplib::Request& req, httplib::Response& res, const RepoPath& repo,
              const std::string& rev);
  void CreateRepo(const httplib::Request& req, httplib::Response& res);
  void LfsBatch(const httplib::Request& req, httplib::Response& res, const RepoPath& repo);
  void LfsVerify(const httplib::Request& req, httplib::Response& res, const RepoPath& repo);
  void LfsComplete(const httplib::Request& req, httplib::Response& res, const std::string& id);
  void Control(const httplib::Request& req, httplib::Response& res, const std::string& what);
};

// Creates the repo when missing and commits `files` (HubFixture::Seed and /_fixture/seed).
Result<std::vector<SeededFile>> SeedImpl(HubFixture::Impl& impl, const std::string& type,
                                         const std::string& id, const std::vector<SeedFile>& files,
                                         const std::string& message, const std::string& branch);

// Helpers.
void SendError(httplib::Response& res, int status, const std::string& code,
               const std::string& message);
void SendJson(httplib::Response& res, const json& body, int status = 200,
              const std::string& type = "application/json");
std::string UrlDecode(const std::string& s);
std::string UrlEncodePath(const std::string& s);             // keeps '/'
std::vector<std::string> SplitRaw(const std::string& path);  // raw segments of a path
// Splits "rev/path..." segments: rev may be refs/pr/N (raw or %2F-encoded). Returns the index
// of the first path segment.
size_t ParseRevision(const std::vector<std::string>& segs, size_t start, std::string* rev);
std::string JoinDecoded(const std::vector<std::string>& segs, size_t start);
std::string QueryParam(const httplib::Request& req, const std::string& name);
bool IsTrue(const std::string& v);
json EntryJson(const std::string& path, const FileRecord& f);
// Maps a model Status from ApplyCommit/CreateRepo to the Hub's answer.
void SendModelError(httplib::Response& res, const Status& s);

}  // namespace datacube::testing::hf
