// HubFixture: a Hugging Face Hub compatible server on loopback, for tests and benchmarks
// (no real Hub can be reached here). Proven against the official client @huggingface/hub by
// tests/hf_fidelity_test.cc: when the two disagree, the fixture is wrong.
//
// Two listeners, so that "another host" is real for clients:
//   hub      the Hub API and file URLs (docs/protocols/huggingface.md): revision info, tree
//            (paginated with Link rel="next"), paths-info, resolve/raw (X-Repo-Commit, ETag,
//            X-Linked-Etag, X-Linked-Size, 302 for LFS files), preupload, LFS batch (basic and HF
//            multipart), LFS verify and multipart completion, NDJSON commit (incl. create_pr),
//            repo create, whoami; errors with X-Error-Code / X-Error-Message / JSON bodies
//   storage  the pre-signed LFS object URLs the Hub redirects to and hands out for uploads
//            (HMAC-signed, expiring; Range supported)
// Repositories live on disk (hub_model.h). Tokens map to users; repos may be private (visible to
// their namespace) or gated (content needs a granted user).
//
// Test controls (C++ methods, and HTTP endpoints under /_fixture/ on the hub for out-of-process
// clients): seed repos, corrupt an LFS object when served, inject faults (status, Retry-After,
// count), record every request's headers on both listeners.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "datacube/base/result.h"
#include "testing/hf_fixture/hub_model.h"

namespace datacube::testing::hf {

struct FixtureUser {
  std::string name;
  std::set<std::string> orgs;
  bool write = true;
};

struct FixtureOptions {
  std::string root;  // where repositories are stored
  std::string host = "127.0.0.1";
  int hub_port = 0;                           // 0: any free port
  int storage_port = 0;                       // 0: any free port
  std::map<std::string, FixtureUser> tokens;  // token -> user
  // Entries per tree page (the Hub chooses its own; small values exercise pagination).
  size_t tree_page_size = 1000;
  // LFS uploads at least this large get HF's multipart transfer (when the client offers it).
  uint64_t multipart_threshold = 20ull << 20;
  uint64_t multipart_chunk = 8ull << 20;
  // Lifetime of pre-signed storage URLs.
  int url_lifetime_seconds = 3600;
  // Keep at most this many recorded requests (oldest dropped).
  size_t max_recorded = 200'000;
};

struct RecordedRequest {
  std::string server;  // "hub" or "storage"
  std::string method;
  std::string target;                                        // path and query, as sent
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  int status = 0;
};

// Answers matching requests with an error before any route runs.
struct Fault {
  std::string server;      // "hub", "storage" or "" for both
  std::string method;      // "" for any
  std::string path_regex;  // matched against the path (without query), ECMAScript syntax
  int status = 500;
  int times = 1;         // -1: always
  int retry_after = -1;  // seconds; -1: no header
  std::string error_code;
  std::string message = "injected fault";
};

// A file for Seed.
struct SeedFile {
  std::string path;
  std::string content;       // used unless random_size is set
  uint64_t random_size = 0;  // > 0: deterministic pseudo-random content of this size
  uint64_t seed = 1;
  // nullopt: LFS when the repo's .gitattributes says so or the file is >= 10 MiB, as the Hub.
  std::optional<bool> lfs{};
};

// A hostile Hub's answers for one repository (opt-in per repository; every other repository is
// served faithfully). JSON is given as text so that this header needs no JSON library.
struct Tamper {
  // path -> JSON object merged into that file's tree and paths-info entries, e.g.
  // {"oid": ""} or {"size": -5} or {"lfs": {"oid": "XYZ"}}.
  std::map<std::string, std::string> patch;
  // JSON entries appended to the tree listing (and to paths-info answers), e.g. a file "../x".
  std::vector<std::string> extra;
  // Pagination lies: "self" (every tree page links to itself) or "cycle" (the last page links
  // back to the first).
  std::string link;
  // path -> the Location of a 302 that resolve answers for it (e.g. "file:///etc/passwd").
  std::map<std::string, std::string> redirect;
};

struct SeededFile {
  std::string path;
  uint64_t size = 0;
  std::string sha256;
  std::string oid;  // git blob id (of the pointer for LFS)
  bool lfs = false;
};

class HubFixture {
 public:
  static Result<std::unique_ptr<HubFixture>> Start(FixtureOptions options);
  ~HubFixture();

  // Stops both listeners (also done by the destructor).
  void Stop();

  std::string hub_url() const;      // http://127.0.0.1:PORT
  std::string storage_url() const;  // http://127.0.0.1:PORT
  int hub_port() const;
  int storage_port() const;
  HubModel& model();

  // Creates the repo when missing (public, not gated) and commits `files` on `branch`.
  Result<std::vector<SeededFile>> Seed(const std::string& type, const std::string& id,
                                       const std::vector<SeedFile>& files,
                                       const std::string& message = "seed",
                                       const std::string& branch = "main");

  // The next `times` responses (-1: all) that carry the LFS object `sha256` have one byte
  // flipped (the middle one), as a broken CDN or disk would.
  void CorruptLfs(const std::string& sha256, int times);
  void AddFault(Fault fault);
  // Replaces the hostile behaviour of repository (type, id); an empty Tamper removes it.
  void SetTamper(const std::string& type, const std::string& id, Tamper tamper);
  void ClearFaults();
  std::vector<RecordedRequest> Requests() const;
  void ClearRequests();

  struct Impl;

 private:
  explicit HubFixture(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Parses "TOKEN=user[:org1,org2][:ro]" (the --token flag of the fixture binary).
Result<std::pair<std::string, FixtureUser>> ParseTokenSpec(const std::string& spec);

}  // namespace datacube::testing::hf
