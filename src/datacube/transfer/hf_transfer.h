// Hugging Face downloads and uploads as sessions on the Hub (docs/huggingface.md); the transfer
// layer's Hugging Face routes of RunJob (job.h).
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
// Both report through engine::TransferReport like every other transfer; RunJob (job.h) is the
// entry point that chooses them and maps a DataCube's or the command line's options onto them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "datacube/engine/transfer.h"
#include "datacube/location/location.h"
#include "datacube/storage/store_config.h"

namespace datacube::transfer::hf {

using storage::StoreConfig;

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
  engine::TransferReport transfer;   // copied = uploaded, skipped = already identical remotely
  std::vector<std::string> commits;  // commit ids, in order
  std::string pull_request_url;
};

Result<UploadReport> Upload(const UploadRequest& request, engine::ProgressSink* progress);

}  // namespace datacube::transfer::hf
