#include "datacube/transfer/job.h"

#include "datacube/base/cancel.h"
#include "datacube/git/git_transfer.h"
#include "datacube/storage/hf/hub_options.h"
#include "datacube/transfer/egress.h"
#include "datacube/transfer/endpoints.h"
#include "datacube/transfer/git_job.h"
#include "datacube/transfer/hf_transfer.h"
#include "datacube/transfer/job_audit.h"
#include "datacube/transfer/registry.h"

namespace datacube::transfer {
namespace {

// The manifest of every file the report says is now at the destination (copied or skipped), with
// its SHA-256. A file whose hash the transfer did not learn is hashed from `local` (the local
// side) at `prefix` + path, or at `single_key` when the transfer was one object.
Result<LocalSummary> SummarizeReport(const TransferReport& report, storage::ObjectStore& local,
                                     const std::string& prefix, const std::string& single_key) {
  LocalSummary summary;
  std::vector<ManifestEntry> entries;
  std::vector<uint8_t> buffer;
  for (const auto& f : report.files) {
    if (f.action != FileAction::kCopied && f.action != FileAction::kSkipped) continue;
    std::string sha = f.sha256;
    if (sha.empty()) {
      buffer.resize(4 << 20);
      std::string key = single_key.empty() ? prefix + f.path : single_key;
      DC_ASSIGN_OR_RETURN(sha, engine::HashObject(local, key, buffer));
    }
    entries.push_back({f.path, f.size, sha});
    summary.bytes += f.size;
  }
  summary.files = entries.size();
  summary.manifest_digest = "sha256:" + engine::ManifestDigest(std::move(entries));
  return summary;
}

bool Finished(const TransferReport& report, const JobOptions& options, std::stop_token stop) {
  return report.status.ok() && !stop.stop_requested() && !options.transfer.dry_run;
}

Status WriteManifest(const TransferReport& report, const std::string& path) {
  std::vector<ManifestEntry> entries;
  for (const auto& f : report.files) {
    if ((f.action == FileAction::kCopied || f.action == FileAction::kSkipped) &&
        !f.sha256.empty()) {
      entries.push_back({f.path, f.size, f.sha256});
    }
  }
  return engine::WriteManifestFile(path, std::move(entries)).WithContext("--manifest-out");
}

Result<JobReport> RunEngineJob(const Location& source, const Location& sink,
                               const JobOptions& options, TransferOptions transfer,
                               ProgressSink* progress, std::stop_token stop) {
  auto ends = options.open_endpoints
                  ? options.open_endpoints()
                  : ResolveEndpoints(source, sink, options.config, options.config);
  if (!ends.ok()) return ends.status();
  if (ends->single && transfer.delete_extra) {
    return InvalidArgumentError("sync needs a directory or prefix as its source; " +
                                source.ToString() + " is a single file (use cp)");
  }
  JobReport report;
  DC_ASSIGN_OR_RETURN(report.transfer, engine::RunTransfer(*ends, transfer, progress));
  if (options.summarize_local_side && Finished(report.transfer, options, stop)) {
    const bool local_is_sink = sink.is_local();
    const storage::StoreRef& local = local_is_sink ? ends->dst : ends->src;
    std::string prefix = local_is_sink ? ends->dst_prefix : ends->src_prefix;
    DC_ASSIGN_OR_RETURN(report.summary,
                        AsDigest(SummarizeReport(report.transfer, *local.store, prefix,
                                                 ends->single ? local.key : "")));
  }
  return report;
}

// The local side of a Hugging Face session, opened for the summary.
Result<LocalSummary> SummarizeLocal(const TransferReport& transfer, const Location& local,
                                    const StoreConfig& config) {
  DC_ASSIGN_OR_RETURN(storage::StoreRef ref, OpenLocation(local, config, storage::OpenMode::kRead));
  std::string prefix = ref.key.empty() || ref.key.back() == '/' ? ref.key : ref.key + "/";
  return SummarizeReport(transfer, *ref.store, prefix, "");
}

std::string OptionOr(const StoreConfig& config, const char* name, const std::string& value) {
  return value.empty() ? config.Option(name) : value;
}

Result<JobReport> RunHfUploadJob(const Location& source, const Location& sink,
                                 const JobOptions& options, const TransferOptions& transfer,
                                 ProgressSink* progress) {
  const HfOptions& h = options.hf;
  const StoreConfig& config = options.config;
  hf::UploadRequest r;
  r.location = sink;
  r.config = config;
  if (source.scheme == Scheme::kPvc) {
    DC_ASSIGN_OR_RETURN(r.local_path, PvcLocalPath(source, config));
  } else {
    r.local_path = source.path.empty() ? "." : source.path;
  }
  if (h.path_in_repo) r.path_in_repo = *h.path_in_repo;
  r.commit_message = OptionOr(config, "commit-message", h.commit_message);
  r.commit_description = OptionOr(config, "commit-description", h.commit_description);
  r.create_repo = h.create_repo || config.Option("create-repo") == "true";
  r.private_repo = h.private_repo || config.Option("private") == "true";
  r.create_pr = h.create_pr || config.Option("create-pr") == "true";
  r.filter = transfer.filter;
  r.jobs = transfer.jobs;
  r.retry = transfer.retry;
  r.stop = transfer.stop;
  DC_ASSIGN_OR_RETURN(hf::UploadReport up, hf::Upload(r, progress));
  JobReport report;
  report.route = Route::kHfUpload;
  report.transfer = std::move(up.transfer);
  report.commits = std::move(up.commits);
  report.pull_request_url = std::move(up.pull_request_url);
  if (!report.commits.empty()) report.commit = report.commits.back();
  if (options.summarize_local_side && Finished(report.transfer, options, transfer.stop)) {
    DC_ASSIGN_OR_RETURN(report.summary, AsDigest(SummarizeLocal(report.transfer, source, config)));
  }
  return report;
}

Result<JobReport> RunHfDownloadJob(const Location& source, const Location& sink,
                                   const JobOptions& options, const TransferOptions& transfer,
                                   ProgressSink* progress) {
  const HfOptions& h = options.hf;
  hf::DownloadRequest request;
  request.location = source;
  request.config = options.config;
  request.files = h.files;
  if (request.files.empty()) {
    std::string files = options.config.Option("files");
    if (!files.empty()) request.files = storage::hf::SplitFilesOption(files);
  }
  request.transfer = transfer;
  if (!h.cache_dir.empty()) {
    request.cache_dir = h.cache_dir;
  } else if (sink.scheme == Scheme::kPvc) {
    DC_ASSIGN_OR_RETURN(request.local_dir, PvcLocalPath(sink, options.config));
  } else {
    request.local_dir = sink.path.empty() ? "." : sink.path;
  }
  DC_ASSIGN_OR_RETURN(hf::DownloadReport down, hf::Download(request, progress));
  JobReport report;
  report.route = Route::kHfDownload;
  report.transfer = std::move(down.transfer);
  report.commit = std::move(down.commit);
  report.snapshot_dir = std::move(down.snapshot_dir);
  if (options.summarize_local_side && h.cache_dir.empty() &&
      Finished(report.transfer, options, transfer.stop)) {
    DC_ASSIGN_OR_RETURN(report.summary,
                        AsDigest(SummarizeLocal(report.transfer, sink, options.config)));
  }
  return report;
}

Result<JobReport> Dispatch(const Location& source, const Location& sink, const JobOptions& options,
                           ProgressSink* progress, std::stop_token stop) {
  TransferOptions transfer = options.transfer;
  transfer.stop = stop;
  switch (RouteFor(source, sink, options)) {
    case Route::kGitClone:
    case Route::kGitPush:
      return RunGitJob(source, sink, options, stop);
    case Route::kHfUpload:
      return RunHfUploadJob(source, sink, options, transfer, progress);
    case Route::kHfDownload:
      if (!sink.is_local() && options.hf.cache_dir.empty()) {
        return InvalidArgumentError(
            "downloading from Hugging Face needs a local or pvc:// "
            "destination, not " +
            sink.ToString());
      }
      return RunHfDownloadJob(source, sink, options, transfer, progress);
    case Route::kEngine:
      break;
  }
  return RunEngineJob(source, sink, options, transfer, progress, stop);
}

}  // namespace

Route RouteFor(const Location& source, const Location& sink, const JobOptions& options) {
  if (source.scheme == Scheme::kGit || sink.scheme == Scheme::kGit) {
    return sink.scheme == Scheme::kGit ? Route::kGitPush : Route::kGitClone;
  }
  if (options.open_endpoints) return Route::kEngine;
  if (sink.scheme == Scheme::kHuggingFace && source.is_local() && !options.transfer.delete_extra) {
    return Route::kHfUpload;
  }
  if (source.scheme == Scheme::kHuggingFace && options.hf.session) return Route::kHfDownload;
  return Route::kEngine;
}

namespace {

Result<JobReport> RunCheckedJob(const Location& source, const Location& sink,
                                const JobOptions& options, ProgressSink* progress,
                                std::stop_token stop) {
  // Before any store is opened, so a refused sink sees no request at all.
  DC_RETURN_IF_ERROR(CheckSinkEgress(sink, options));
  DC_ASSIGN_OR_RETURN(JobReport report, Dispatch(source, sink, options, progress, stop));
  // An interrupted run writes no manifest: it would list only part of the tree.
  // Files that failed are left out of it; the report says the run failed.
  if (!options.manifest_out.empty() && !options.transfer.dry_run && !stop.stop_requested()) {
    DC_RETURN_IF_ERROR(WriteManifest(report.transfer, options.manifest_out));
  }
  return report;
}

}  // namespace

Result<JobReport> RunJob(const Location& source, const Location& sink, const JobOptions& options,
                         ProgressSink* progress, std::stop_token stop) {
  // Opening, listing and planning run on this thread: they stop with the same token.
  CancellationScope cancel(stop);
  Result<JobReport> outcome = RunCheckedJob(source, sink, options, progress, stop);
  DC_RETURN_IF_ERROR(AppendJobRecords(source, sink, options, outcome));
  return outcome;
}

bool SchemeSupported(Scheme scheme) { return SchemeHasBackend(scheme) || scheme == Scheme::kGit; }

// ---- Manifests ----

namespace {

struct Tree {
  storage::StoreRef ref;
  std::string prefix;
};

Result<Tree> OpenTree(const std::string& where, const StoreConfig& config) {
  DC_ASSIGN_OR_RETURN(Location loc, ParseLocation(where));
  Tree t;
  DC_ASSIGN_OR_RETURN(t.ref, OpenLocation(loc, config, storage::OpenMode::kRead));
  if (!t.ref.key.empty()) {
    auto st = t.ref.store->Stat(t.ref.key);
    if (st.ok()) {
      return InvalidArgumentError(where + " is a file; manifest and verify take a directory");
    }
    if (st.status().code() != StatusCode::kNotFound) return st.status();
    t.prefix = t.ref.key.back() == '/' ? t.ref.key : t.ref.key + "/";
    auto probe = t.ref.store->List({t.prefix, true, "", 1});
    if (probe.ok() && probe->objects.empty()) {
      return NotFoundError("no directory at " + where);
    }
  }
  return t;
}

}  // namespace

Result<std::vector<ManifestEntry>> BuildManifestAt(const std::string& where,
                                                   const StoreConfig& config, size_t jobs,
                                                   ProgressSink* progress) {
  DC_ASSIGN_OR_RETURN(Tree tree, OpenTree(where, config));
  return engine::BuildManifest(*tree.ref.store, tree.prefix, jobs, progress);
}

Result<engine::VerifyReport> VerifyManifestAt(const std::string& where, const StoreConfig& config,
                                              const std::vector<ManifestEntry>& manifest,
                                              size_t jobs, ProgressSink* progress) {
  DC_ASSIGN_OR_RETURN(Tree tree, OpenTree(where, config));
  return engine::VerifyManifest(*tree.ref.store, tree.prefix, manifest, jobs, progress);
}

// ---- Credentials and limits ----

Status CheckGitCredential(std::string_view what, std::string_view value) {
  return git::CheckCredentialText(what, value);
}

Result<std::chrono::seconds> ParseGitTimeLimit(std::string_view what, std::string_view text) {
  return git::ParseGitTimeout(what, text);
}

Result<std::string> ReadHfTokenFile(const std::string& path, std::string_view what) {
  return storage::hf::ReadTokenFile(path, std::string(what));
}

Status CheckHfToken(std::string_view token, std::string_view what) {
  return storage::hf::CheckTokenText(token, std::string(what));
}

std::string DefaultHfCacheDir(const StoreConfig& config) {
  return storage::hf::DefaultHubCacheDir(config);
}

}  // namespace datacube::transfer
