#include "datacube/cli/common.h"
#include "datacube/cli/git_copy.h"
#include "datacube/cli/hf_copy.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>
#include <cstdio>
#include <iostream>

#include "datacube/base/log.h"
#include "datacube/base/secret.h"
#include "datacube/base/units.h"
#include "datacube/engine/manifest.h"
#include "datacube/engine/thread_pool.h"
#include "datacube/io/small_file.h"
#include "datacube/location/location.h"

namespace datacube::cli {

GlobalFlags& Globals() {
  static GlobalFlags flags;
  return flags;
}

void AddGlobalFlags(CLI::App& app) {
  auto& g = Globals();
  app.add_option("--log-format", g.log_format, "Log format: text or json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_flag("-v,--verbose", g.verbose, "More logging (repeat for more)");
  app.add_flag("-q,--quiet", g.quiet, "Only errors; no progress");
  app.add_option("--progress", g.progress, "Progress display: auto, bar, json or none")
      ->check(CLI::IsMember({"auto", "bar", "json", "none"}));
  app.add_option("--pvc-root", g.pvc_root,
                 "Directory where PVCs are mounted, for pvc://NAME (env DATACUBE_PVC_ROOT)");
}

Status ApplyLogging() {
  auto& g = Globals();
  LogConfig cfg;
  cfg.format = g.log_format == "json" ? LogFormat::kJson : LogFormat::kText;
  cfg.level = g.quiet ? LogLevel::kError : (g.verbose > 0 ? LogLevel::kDebug : LogLevel::kInfo);
  SetLogConfig(cfg);
  return Status();
}

storage::StoreConfig MakeStoreConfig() {
  storage::StoreConfig cfg;
  cfg.pvc_root = Globals().pvc_root;
  cfg.options = Globals().backend_options;
  return cfg;
}

Result<engine::ProgressMode> ParseProgressMode(const std::string& text) {
  if (Globals().quiet) return engine::ProgressMode::kNone;
  if (text == "auto") return engine::ProgressMode::kAuto;
  if (text == "bar") return engine::ProgressMode::kBar;
  if (text == "json") return engine::ProgressMode::kJson;
  if (text == "none") return engine::ProgressMode::kNone;
  return InvalidArgumentError("--progress: \"" + text + "\" is not one of auto, bar, json, none");
}

int ExitCodeFor(const Status& status) {
  if (status.ok()) return kExitOk;
  return status.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
}

int ReportError(const Status& status) {
  if (status.ok()) return kExitOk;
  LogError(std::string(status.message()), {{"code", std::string(StatusCodeName(status.code()))}});
  return ExitCodeFor(status);
}

void AddTransferFlags(CLI::App& cmd, TransferFlags& f) {
  cmd.add_option("--jobs,-j", f.jobs,
                 "Parallel workers (default: 4 per CPU core; files up to 1 MiB to or from S3 run "
                 "twice as many)");
  cmd.add_option("--part-size", f.part_size,
                 "Part size for large files and buffer size, e.g. 8M, 64Mi (default 8M)");
  cmd.add_flag("--checksum,-c", f.checksum,
               "Skip files only when size and SHA-256 match (hashes files as needed)");
  cmd.add_flag("--size-only", f.size_only, "Skip files whose size matches");
  cmd.add_flag("--dry-run,-n", f.dry_run, "Show what would be copied or deleted; change nothing");
  cmd.add_option("--include", f.include, "Copy only paths matching this glob (repeatable)");
  cmd.add_option("--exclude", f.exclude, "Do not copy paths matching this glob (repeatable)");
  cmd.add_option("--manifest-out", f.manifest_out,
                 "Write a manifest (JSON lines: path, size, sha256) of the destination files");
  cmd.add_option("--bwlimit", f.bwlimit, "Limit the aggregate rate, e.g. 100M (bytes per second)");
  cmd.add_option("--retries", f.retries, "Attempts per operation for transient failures")
      ->check(CLI::Range(1, 100));
  cmd.add_flag("--strict", f.strict, "Fail the run on unsafe object keys instead of skipping them");
  cmd.add_flag("--no-resume", f.no_resume, "Start interrupted large files over");
}

Result<engine::TransferOptions> MakeTransferOptions(const TransferFlags& f) {
  if (!f.manifest_out.empty()) {  // refused before anything moves, not after
    DC_RETURN_IF_ERROR(io::CheckReplaceableFile(f.manifest_out, "--manifest-out"));
  }
  engine::TransferOptions o;
  if (!f.jobs.empty()) {
    try {
      long n = std::stol(f.jobs);
      if (n < 1 || n > 1024) throw std::out_of_range("jobs");
      o.jobs = static_cast<size_t>(n);
    } catch (...) {
      return InvalidArgumentError("--jobs: \"" + f.jobs + "\" must be a number from 1 to 1024");
    }
  }
  if (!f.part_size.empty()) {
    auto size = ParseSize(f.part_size);
    if (!size.ok()) return size.status().WithContext("--part-size");
    if (*size < (64 << 10) || *size > (5ull << 30)) {
      return InvalidArgumentError("--part-size: must be between 64K and 5G");
    }
    o.part_size = *size;
  }
  if (!f.bwlimit.empty()) {
    auto rate = ParseSize(f.bwlimit);
    if (!rate.ok()) return rate.status().WithContext("--bwlimit");
    o.bwlimit = *rate;
  }
  if (f.checksum && f.size_only) {
    return InvalidArgumentError("--checksum and --size-only cannot be combined");
  }
  o.compare = f.checksum    ? engine::CompareMode::kChecksum
              : f.size_only ? engine::CompareMode::kSizeOnly
                            : engine::CompareMode::kSizeAndTime;
  o.dry_run = f.dry_run;
  o.strict_keys = f.strict;
  o.resume = !f.no_resume;
  o.require_checksum = f.require_checksum;
  o.retry.max_attempts = f.retries;
  for (const auto& p : f.include) DC_RETURN_IF_ERROR(o.filter.AddInclude(p).WithContext("--include"));
  for (const auto& p : f.exclude) DC_RETURN_IF_ERROR(o.filter.AddExclude(p).WithContext("--exclude"));
  return o;
}

namespace {

std::atomic<int> interrupts{0};

void OnInterrupt(int) {
  if (interrupts.fetch_add(1) > 0) std::_Exit(130);
}

}  // namespace

std::jthread StopOnInterrupt(std::stop_source source) {
  std::signal(SIGINT, OnInterrupt);
  std::signal(SIGTERM, OnInterrupt);
  return std::jthread([source](std::stop_token done) mutable {
    while (!done.stop_requested()) {
      if (interrupts.load() > 0) {
        source.request_stop();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
}

int RunCopyCommand(const std::string& src_text, const std::string& dst_text,
                   const TransferFlags& flags, bool delete_extra) {
  auto src = ParseLocation(src_text);
  if (!src.ok()) return ReportError(src.status().WithContext("source"));
  auto dst = ParseLocation(dst_text);
  if (!dst.ok()) return ReportError(dst.status().WithContext("destination"));
  auto options = MakeTransferOptions(flags);
  if (!options.ok()) return ReportError(options.status());
  options->delete_extra = delete_extra;
  auto mode = ParseProgressMode(Globals().progress);
  if (!mode.ok()) return ReportError(mode.status());

  std::stop_source interrupt;
  options->stop = interrupt.get_token();
  std::jthread watcher = StopOnInterrupt(interrupt);
  // Git is not an object store: clone/fetch/checkout and push (git_copy.h).
  if (src->scheme == Scheme::kGit || dst->scheme == Scheme::kGit) {
    return RunGitCopy(*src, *dst, flags, delete_extra, options->stop);
  }
  // To the Hub: one upload session (a few commits), not one commit per file.
  if (dst->scheme == Scheme::kHuggingFace && src->is_local() && !delete_extra) {
    return RunHfUploadCopy(*src, *dst, flags, options->stop);
  }

  storage::StoreConfig config = MakeStoreConfig();
  auto ends = engine::ResolveEndpoints(*src, *dst, config, config);
  if (!ends.ok()) return ReportError(ends.status());
  if (ends->single && delete_extra) {
    return ReportError(InvalidArgumentError("sync needs a directory or prefix as its source; " +
                                            src_text + " is a single file (use cp)"));
  }

  engine::ProgressReporter progress(*mode);
  progress.Start();
  auto report = engine::RunTransfer(*ends, *options, &progress);
  progress.Stop();
  if (!report.ok()) return ReportError(report.status());

  if (!flags.manifest_out.empty() && !options->dry_run) {
    std::vector<engine::ManifestEntry> entries;
    for (const auto& f : report->files) {
      if ((f.action == engine::FileAction::kCopied || f.action == engine::FileAction::kSkipped) &&
          !f.sha256.empty()) {
        entries.push_back({f.path, f.size, f.sha256});
      }
    }
    Status s = engine::WriteManifestFile(flags.manifest_out, std::move(entries));
    if (!s.ok()) return ReportError(s.WithContext("--manifest-out"));
  }
  if (options->dry_run) {
    for (const auto& f : report->files) {
      if (f.action == engine::FileAction::kPlannedCopy ||
          f.action == engine::FileAction::kPlannedDelete) {
        std::printf("%s %s\n", std::string(engine::FileActionName(f.action)).c_str(),
                    f.path.c_str());
      }
    }
  }
  if (!Globals().quiet) LogInfo((options->dry_run ? "dry run: " : "") + report->Summary());
  if (options->stop.stop_requested()) {
    LogError("interrupted; rerun the same command to resume");
    return kExitFailure;
  }
  if (!report->status.ok()) return ReportError(report->status);
  return kExitOk;
}

}  // namespace datacube::cli
