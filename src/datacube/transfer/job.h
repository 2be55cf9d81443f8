// The transfer API: the one call every front end (`datacube cp`/`sync`, `datacube hf`,
// `datacube run`, and any program that links the library) makes to move data.
//
//   transfer::JobOptions options;
//   options.config.options["s3-endpoint"] = "http://127.0.0.1:7480";
//   auto report = transfer::RunJob(*ParseLocation("s3://bucket/models/"),
//                                  *ParseLocation("/data/models/"), options, &progress, stop);
//
// RunJob decides how the bytes move:
//   - git on either side: clone or fetch and check out into the local side, or push from it
//     (git_job.h); the engine is not involved, because a clone is a checkout, not a copy;
//   - a Hugging Face sink with a local source: one upload session of a few atomic commits
//     (hf_transfer.h), not one commit per file;
//   - a Hugging Face source with `hf.session` set: a download pinned to one commit, with the
//     `files` list and, optionally, huggingface_hub's cache layout (hf_transfer.h);
//   - everything else: both stores are opened through the registry (registry.h) and the engine
//     copies between them (engine/transfer.h), every file SHA-256 verified.
// It also writes the manifest when asked, and computes the digest of what is now on the local
// side when asked (a DataCube's result).
//
// Secrets are scoped by the caller: secrets a backend learns while a job runs (keys read from the
// environment, tokens in URLs) go to the redactor installed on the calling thread (base/secret.h),
// and the engine's workers inherit it. A long-running process that runs many jobs (a server, a
// controller) installs a JobRedactionScope around each job and around what it reports about it,
// so its redaction set does not grow with the number of jobs and one tenant's secret is never
// matched against another tenant's text. A command-line run is one job for the life of the
// process and needs no scope: its secrets go to the process-wide redactor.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "datacube/base/secret.h"
#include "datacube/engine/manifest.h"
#include "datacube/engine/progress.h"
#include "datacube/engine/thread_pool.h"
#include "datacube/engine/transfer.h"
#include "datacube/location/location.h"
#include "datacube/policy/policy.h"
#include "datacube/storage/store_config.h"

namespace datacube::audit {
class Log;
}  // namespace datacube::audit

namespace datacube::transfer {

// The engine's types, re-exported: front ends include this header and nothing below it.
using engine::CompareMode;
using engine::DefaultJobs;
using engine::FileAction;
using engine::FileActionName;
using engine::FileResult;
using engine::kDefaultPartSize;
using engine::ManifestEntry;
using engine::ProgressMode;
using engine::ProgressReporter;
using engine::ProgressSink;
using engine::ProgressSnapshot;
using engine::TransferEndpoints;
using engine::TransferOptions;
using engine::TransferReport;
using storage::StoreConfig;

// Git settings of a job whose source or sink is a git+https:// location.
struct GitOptions {
  // Typed settings, as `datacube cp` gives them. The repository is the local path itself.
  std::string token;  // empty: a public repository
  std::string username;
  std::string ca_file;
  bool lfs = true;
  int depth = 0;       // clone: shallow with this many commits; 0 = full history
  std::string branch;  // push: the local branch; empty = the location's revision, else checked out
  std::optional<std::chrono::seconds> stall_timeout;
  std::optional<std::chrono::seconds> timeout;
  // A DataCube's git options by their documented names (url, token, ref, depth, branch, lfs,
  // ca-file, ...). When set they replace the typed fields above, and the repository is the
  // directory named after it below the local path, as `git clone URL` lays it out.
  std::optional<std::map<std::string, std::string>> cube_options;
};

// Hugging Face settings.
struct HfOptions {
  // Download through a Hub session: pinned to one commit, limited to `files`, optionally into
  // huggingface_hub's cache layout, reporting the commit. Without it an hf:// source is copied
  // by the engine like any other store.
  bool session = false;
  std::vector<std::string> files;  // empty: the `files` option, else every file
  std::string cache_dir;           // the hub cache root; empty: plain files at the sink
  // Upload. Where in the repo; unset: the sink location's path.
  std::optional<std::string> path_in_repo;
  // Each empty/false field falls back to the option of the same DataCube name in
  // `config.options` (commit-message, commit-description, create-repo, private, create-pr).
  std::string commit_message;
  std::string commit_description;
  bool create_repo = false;
  bool private_repo = false;
  bool create_pr = false;
};

struct JobOptions {
  // Jobs, part size, comparison, dry run, sync deletes (delete_extra), filters, retries, rate
  // limit. Its stop token is ignored: RunJob's `stop` argument cancels the job.
  TransferOptions transfer;
  // Both sides' backend configuration: the PVC root, backend options by name (the names a
  // DataCube uses), and the environment the job sees. Values may be secrets.
  StoreConfig config;
  // Write a manifest (JSON lines: path, size, sha256) of the destination files here, atomically,
  // unless the job was cancelled or is a dry run (files that failed are left out).
  std::string manifest_out;
  // Compute the SHA-256 manifest digest of every file now on the local (file or pvc://) side.
  bool summarize_local_side = false;
  GitOptions git;
  HfOptions hf;
  // The data class of what this job moves ("" = unclassified: no egress rule applies) and the
  // policy its sink is checked against before any store is opened (nullptr = no check).
  std::string data_class;
  const policy::Policy* policy = nullptr;
  // Where RunJob records the job (a transfer, refusal or failure record, and one delete record
  // per file sync removed); nullptr = no audit log. `actor` is who the records name.
  audit::Log* audit = nullptr;
  std::string actor;
  // Tests: opens the engine's two stores instead of the registry (in-memory stores, faults).
  std::function<Result<engine::TransferEndpoints>()> open_endpoints;
};

enum class Route { kEngine, kHfUpload, kHfDownload, kGitClone, kGitPush };

// What is now on the local side of a finished job.
struct LocalSummary {
  uint64_t files = 0;
  uint64_t bytes = 0;
  std::string manifest_digest;  // "sha256:<hex>" of the sorted manifest
};

struct JobReport {
  Route route = Route::kEngine;
  // Per-file results; for git, the LFS files it verified. Its status is OK or the first error.
  TransferReport transfer;
  // git: what happened ("cloned ... at 1a2b3c4"); a dry run: what would happen.
  std::string message;
  std::string commit;                // the commit downloaded from, cloned or pushed
  std::vector<std::string> commits;  // Hugging Face upload: commit ids, in order
  std::string pull_request_url;
  std::string snapshot_dir;  // Hugging Face cache layout only
  std::optional<LocalSummary> summary;
};

// Runs one job from `source` to `sink`. Errors before any data moved (a location of the wrong
// kind, unknown bucket or repository, bad credentials, invalid options) are returned as a Status
// (kInvalidArgument for bad input); once data moves, the report's transfer.status tells whether
// every file made it. `stop` cancels the job promptly, leaving only resumable state.
Result<JobReport> RunJob(const Location& source, const Location& sink, const JobOptions& options,
                         ProgressSink* progress, std::stop_token stop);

// A RedactionScope with a new Redactor of its own: install one per job (see the top of this file).
class JobRedactionScope {
 public:
  JobRedactionScope() : redactor_(std::make_shared<Redactor>()), scope_(redactor_) {}
  const Redactor& redactor() const { return *redactor_; }

 private:
  std::shared_ptr<Redactor> redactor_;
  RedactionScope scope_;
};

// Which route RunJob takes for these locations.
Route RouteFor(const Location& source, const Location& sink, const JobOptions& options);

// True when this build has a backend (or, for git, the git module) for `scheme`.
bool SchemeSupported(Scheme scheme);

// ---- Manifests of a tree (`datacube manifest`, `datacube verify`) ----

// Hashes every file below `where` (a location's text: a directory or prefix, not a file), sorted
// by path.
Result<std::vector<ManifestEntry>> BuildManifestAt(const std::string& where,
                                                   const StoreConfig& config, size_t jobs,
                                                   ProgressSink* progress);
// Compares the files below `where` with `manifest`.
Result<engine::VerifyReport> VerifyManifestAt(const std::string& where, const StoreConfig& config,
                                              const std::vector<ManifestEntry>& manifest,
                                              size_t jobs, ProgressSink* progress);
using engine::FormatManifest;
using engine::ReadManifestFile;
using engine::WriteManifestFile;

// ---- Credentials and limits as the backends read them, for front ends parsing flags ----

// A git token or user name: refused (kInvalidArgument naming `what`) when it holds a control
// character that would smuggle a header into a request.
Status CheckGitCredential(std::string_view what, std::string_view value);
// A git time limit ("30s", "5m"), 1 s to 24 h; errors start with `what`.
Result<std::chrono::seconds> ParseGitTimeLimit(std::string_view what, std::string_view text);
// A Hugging Face token file (regular file, one trailing newline dropped); errors name `what`.
Result<std::string> ReadHfTokenFile(const std::string& path, std::string_view what);
Status CheckHfToken(std::string_view token, std::string_view what);
// huggingface_hub's cache root: HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub.
std::string DefaultHfCacheDir(const StoreConfig& config);

}  // namespace datacube::transfer
