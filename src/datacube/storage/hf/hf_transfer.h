// Hugging Face downloads and uploads: the entry points `datacube cp`, `datacube hf download|upload`
// and `datacube run` (DataCube huggingface source and sink) call. See docs/huggingface.md.
//
// Download = the engine (transfer.h) copying from an HfStore pinned to one commit, so every file
// is verified (LFS files by SHA-256 against their oid, small files by git blob id), large files
// move in parallel ranged parts, and an interrupted run resumes: finished files are skipped and a
// partial large file continues from its journalled parts. Two layouts:
//   local_dir  plain files at <local_dir>/<path in repo> (the PVC case)
//   cache_dir  huggingface_hub's cache: blobs/<etag>, snapshots/<commit>/<path> -> blob,
//              refs/<revision>, so transformers finds the files offline (cache_layout.h)
//
// Upload = a commit session: walk the local files, ask the Hub (preupload) which go through LFS,
// skip files whose content the revision already has, upload LFS bytes (basic or multipart,
// parts in parallel), verify, then commit. Large folders become several commits (by file count
// and bytes), each atomic; a rerun after a crash skips what earlier commits already hold.
//
// For `datacube run` (issue 4): the *FromOptions functions take the DataCube options verbatim
// (repo, token, files, revision, repo-type / path-in-repo, commit-message) in StoreConfig::options
// and report through engine::TransferReport like every other transfer.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "datacube/engine/transfer.h"
#include "datacube/location/location.h"
#include "datacube/storage/registry.h"

namespace datacube::storage::hf {

struct DownloadRequest {
  // hf://[type/]org/name[@revision][/path]: the repo, and optionally a file or folder in it.
  Location location;
  // Options (token, revision, repo-type) and the environment (HF_ENDPOINT, HF_TOKEN, proxies).
  StoreConfig config;
  // Only these paths in the repo (the DataCube `files` option); empty = every file.
  std::vector<std::string> files;
  // Exactly one of the two layouts.
  std::string local_dir;
  std::string cache_dir;  // the hub cache root (HF_HUB_CACHE), not the repo folder
  // Jobs, part size, include/exclude filter, retries, cancellation.
  engine::TransferOptions transfer;
};

struct DownloadReport {
  engine::TransferReport transfer;  // FileResult::path = path in the repo
  std::string commit;               // every byte came from this commit
  std::string snapshot_dir;         // cache layout only
};

// Downloads; the report's status says whether every file made it. Errors before any transfer
// (unknown repo, revision or file, bad token, gated repo) are returned as a Status.
Result<DownloadReport> Download(const DownloadRequest& request, engine::ProgressSink* progress);

struct UploadRequest {
  // hf://[type/]org/name[@branch][/path-in-repo]
  Location location;
  StoreConfig config;
  // A file or a directory.
  std::string local_path;
  // Where in the repo ("" = root). A single file goes to exactly this path unless it is empty
  // or ends with '/'; a directory's files go below it. Overrides location.path when set.
  std::string path_in_repo;
  std::string commit_message;  // default "Upload with datacube"
  std::string commit_description;
  bool create_repo = false;  // create it when missing (exists = fine)
  bool private_repo = false;
  bool create_pr = false;  // open a pull request instead of committing to the branch
  PathFilter filter;
  size_t jobs = 0;  // parallel LFS uploads and hashing; 0 = engine::DefaultJobs()
  RetryPolicy retry;
  std::stop_token stop;
  // One commit holds at most this many files and this many bytes (LFS + inline).
  size_t max_commit_files = 1000;
  uint64_t max_commit_bytes = 16ull << 30;
  // Inline (non-LFS) content per commit, base64 in the NDJSON body.
  uint64_t max_commit_inline_bytes = 64ull << 20;
};

struct UploadReport {
  engine::TransferReport transfer;  // copied = uploaded, skipped = already identical remotely
  std::vector<std::string> commits;  // commit ids, in order
  std::string pull_request_url;
};

Result<UploadReport> Upload(const UploadRequest& request, engine::ProgressSink* progress);

// ---- DataCube (datacube run) ----

// huggingface source: `repo` (required), `token`, `files` (comma-separated), and the documented
// extensions `revision` and `repo-type`, from config.options. Downloads into `dest_dir` (the PVC
// path) as plain files; with `cache_dir` set, into that hub cache instead.
Result<DownloadReport> DownloadFromOptions(const StoreConfig& config, const std::string& dest_dir,
                                           const engine::TransferOptions& transfer,
                                           engine::ProgressSink* progress,
                                           const std::string& cache_dir = "");

// huggingface sink: `repo` (required), `token`, `path-in-repo`, `commit-message`, and the
// extensions `revision` (branch), `repo-type`, `create-repo` ("true": create when missing),
// `private` ("true" with create-repo), `create-pr` ("true"), from config.options. Uploads
// `src_path` (the PVC path, a directory or file).
Result<UploadReport> UploadFromOptions(const StoreConfig& config, const std::string& src_path,
                                       const engine::TransferOptions& transfer,
                                       engine::ProgressSink* progress);

// For callers that already hold Locations (`datacube cp`, `datacube run`'s CubeTransfer):
// uploads the local or pvc:// `src` (file or directory) to the hf:// `dst`, whose path is the path
// in the repo. Options `commit-message`, `create-repo`, `private`, `create-pr` (and token,
// revision, repo-type) come from config.options; jobs, filter, retries and cancellation from
// `transfer`.
Result<UploadReport> UploadLocation(const Location& src, const Location& dst,
                                    const StoreConfig& config,
                                    const engine::TransferOptions& transfer,
                                    engine::ProgressSink* progress);

// The download counterpart: hf:// `src` to the local or pvc:// directory `dst`; with `cache_dir`
// set, into that hub cache instead (dst is then ignored). `files` comes from config.options.
Result<DownloadReport> DownloadLocation(const Location& src, const Location& dst,
                                        const StoreConfig& config,
                                        const engine::TransferOptions& transfer,
                                        engine::ProgressSink* progress,
                                        const std::string& cache_dir = "");

}  // namespace datacube::storage::hf
