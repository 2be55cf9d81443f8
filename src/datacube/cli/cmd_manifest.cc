// manifest and verify.
#include <cstdio>
#include <memory>

#include "datacube/base/log.h"
#include "datacube/cli/commands.h"
#include "datacube/cli/common.h"
#include "datacube/io/small_file.h"

namespace datacube::cli {
namespace {

int RunManifest(const std::string& where, const std::string& out, const std::string& jobs_text) {
  if (!out.empty()) {  // before hashing anything: the output path must be replaceable
    Status target = io::CheckReplaceableFile(out, "--output");
    if (!target.ok()) return ReportError(target);
  }
  size_t jobs = transfer::DefaultJobs();
  if (!jobs_text.empty()) {
    auto parsed = ParseCountFlag("--jobs", jobs_text, 1, 1024);
    if (!parsed.ok()) return ReportError(parsed.status());
    jobs = static_cast<size_t>(*parsed);
  }
  auto mode = ParseProgressMode(Globals().progress == "auto" ? "none" : Globals().progress);
  transfer::ProgressReporter progress(mode.ok() ? *mode : transfer::ProgressMode::kNone);
  progress.Start();
  auto entries = transfer::BuildManifestAt(where, MakeStoreConfig(), jobs, &progress);
  progress.Stop();
  if (!entries.ok()) return ReportError(entries.status());
  if (!out.empty()) {
    Status s = transfer::WriteManifestFile(out, *entries);
    if (!s.ok()) return ReportError(s);
    LogInfo("wrote manifest of " + std::to_string(entries->size()) + " files to " + out);
  } else {
    std::string text = transfer::FormatManifest(*entries);
    std::fwrite(text.data(), 1, text.size(), stdout);
  }
  return kExitOk;
}

int RunVerify(const std::string& where, const std::string& manifest_path,
              const std::string& jobs_text) {
  auto manifest = transfer::ReadManifestFile(manifest_path);
  if (!manifest.ok()) return ReportError(manifest.status());
  size_t jobs = transfer::DefaultJobs();
  if (!jobs_text.empty()) {
    auto parsed = ParseCountFlag("--jobs", jobs_text, 1, 1024);
    if (!parsed.ok()) return ReportError(parsed.status());
    jobs = static_cast<size_t>(*parsed);
  }
  auto mode = ParseProgressMode(Globals().progress == "auto" ? "none" : Globals().progress);
  transfer::ProgressReporter progress(mode.ok() ? *mode : transfer::ProgressMode::kNone);
  progress.Start();
  auto report = transfer::VerifyManifestAt(where, MakeStoreConfig(), *manifest, jobs, &progress);
  progress.Stop();
  if (!report.ok()) return ReportError(report.status());
  for (const auto& p : report->missing) std::printf("missing: %s\n", EscapeForDisplay(p).c_str());
  for (const auto& p : report->extra) std::printf("extra: %s\n", EscapeForDisplay(p).c_str());
  for (const auto& p : report->corrupted) {
    std::printf("corrupted: %s\n", EscapeForDisplay(p).c_str());
  }
  std::string summary = "verified " + std::to_string(report->verified) + " of " +
                        std::to_string(manifest->size()) +
                        " files: " + std::to_string(report->missing.size()) + " missing, " +
                        std::to_string(report->extra.size()) + " extra, " +
                        std::to_string(report->corrupted.size()) + " corrupted";
  if (report->ok()) {
    LogInfo(summary);
    return kExitOk;
  }
  LogError(summary);
  return kExitFailure;
}

}  // namespace

void RegisterManifestCommands(CLI::App& app) {
  struct Args {
    std::string where, out, manifest, jobs;
  };
  auto m = std::make_shared<Args>();
  auto* mcmd = app.add_subcommand(
      "manifest",
      "Hash every file below LOCATION and print a manifest (JSON lines: path, size, "
      "sha256), sorted by path");
  mcmd->add_option("LOCATION", m->where, "Directory or prefix")->required();
  mcmd->add_option("-o,--output", m->out, "Write the manifest to this file (atomically)");
  mcmd->add_option("--jobs,-j", m->jobs, "Parallel workers")->check(CLI::PositiveNumber);
  mcmd->callback([m] { SetExitCode(RunManifest(m->where, m->out, m->jobs)); });

  auto v = std::make_shared<Args>();
  auto* vcmd = app.add_subcommand(
      "verify",
      "Check LOCATION against a manifest: report missing, extra and corrupted files "
      "(exit 1 on any)");
  vcmd->add_option("LOCATION", v->where, "Directory or prefix")->required();
  vcmd->add_option("--manifest,-m", v->manifest, "Manifest file (JSON lines)")->required();
  vcmd->add_option("--jobs,-j", v->jobs, "Parallel workers")->check(CLI::PositiveNumber);
  vcmd->callback([v] { SetExitCode(RunVerify(v->where, v->manifest, v->jobs)); });
}

}  // namespace datacube::cli
