// `datacube hf download|upload`, cp to hf://, and the Hugging Face backend flags (hf_copy.h).
#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <thread>

#include "datacube/base/log.h"
#include "datacube/base/secret.h"
#include "datacube/cli/commands.h"
#include "datacube/cli/hf_copy.h"

namespace datacube::cli {
namespace {

// --token-file: read at parse time, so the value never has to be on any command line. The file
// must be a regular file; one trailing newline is dropped and any other control character is
// refused (a CR or LF would smuggle a header into every request).
void ReadTokenFile(const std::string& path) {
  auto token = transfer::ReadHfTokenFile(path, "--token-file");
  if (!token.ok())
    throw CLI::ValidationError("--token-file", std::string(token.status().message()));
  if (token->empty()) throw CLI::ValidationError("--token-file", path + " is empty");
  RegisterSecretForRedaction(*token);
  Globals().backend_options["token"] = *token;
}

// --token: the same rule, named after the flag.
void SetToken(const std::string& token) {
  RegisterSecretForRedaction(token);
  Status ok = transfer::CheckHfToken(token, "--token");
  if (!ok.ok()) throw CLI::ValidationError("--token", std::string(ok.message()));
  Globals().backend_options["token"] = token;
}

// The summary and exit code of a finished Hugging Face job (its manifest is already written).
int Finish(const transfer::TransferReport& report) {
  if (!Globals().quiet) LogInfo(report.Summary());
  if (!report.status.ok()) return ReportError(report.status);
  return kExitOk;
}

// What both subcommands start from: the repository (org/name or hf://...), the transfer options
// and the progress mode.
struct HfCommandSetup {
  Location location;
  transfer::JobOptions job;
  transfer::ProgressMode mode;
};

Result<HfCommandSetup> SetUpHfCommand(const std::string& repo, const TransferFlags& flags) {
  auto loc = ParseLocation(repo.rfind("hf://", 0) == 0 ? repo : "hf://" + repo);
  if (!loc.ok()) return loc.status().WithContext("repository");
  HfCommandSetup setup;
  setup.location = std::move(*loc);
  DC_ASSIGN_OR_RETURN(setup.job.transfer, MakeTransferOptions(flags));
  setup.job.config = MakeStoreConfig();
  setup.job.manifest_out = flags.manifest_out;
  DC_ASSIGN_OR_RETURN(setup.mode, ParseProgressMode(Globals().progress));
  return setup;
}

struct DownloadArgs {
  std::string repo;
  std::vector<std::string> files;
  std::string local_dir;
  std::string cache_dir;
  TransferFlags flags;
};

int RunDownload(const DownloadArgs& a) {
  auto setup = SetUpHfCommand(a.repo, a.flags);
  if (!setup.ok()) return ReportError(setup.status());
  auto& [loc, job, mode] = *setup;
  job.hf.session = true;
  job.hf.files = a.files;
  job.hf.cache_dir = a.cache_dir;
  Location local;  // unused with a cache directory
  if (!a.local_dir.empty()) {
    auto dir = ParseLocation(a.local_dir);
    if (!dir.ok()) return ReportError(dir.status().WithContext("--local-dir"));
    local = std::move(*dir);
  } else if (a.cache_dir.empty()) {
    job.hf.cache_dir = transfer::DefaultHfCacheDir(job.config);
  }
  std::stop_source interrupt;
  std::jthread watcher = StopOnInterrupt(interrupt);
  transfer::ProgressReporter progress(mode);
  progress.Start();
  auto report = transfer::RunJob(loc, local, job, &progress, interrupt.get_token());
  progress.Stop();
  if (!report.ok()) return ReportError(report.status());
  if (!report->snapshot_dir.empty()) std::printf("%s\n", report->snapshot_dir.c_str());
  if (Interrupted()) return InterruptExitCode();
  return Finish(report->transfer);
}

struct UploadArgs {
  std::string repo;
  std::string local;
  std::string path_in_repo;
  std::string message;
  std::string description;
  bool create_repo = false;
  bool private_repo = false;
  bool create_pr = false;
  TransferFlags flags;
};

int RunUpload(const UploadArgs& a) {
  auto setup = SetUpHfCommand(a.repo, a.flags);
  if (!setup.ok()) return ReportError(setup.status());
  auto& [loc, job, mode] = *setup;
  auto local = ParseLocation(a.local);
  if (!local.ok()) return ReportError(local.status().WithContext("LOCAL"));
  if (!local->is_local()) {
    return ReportError(InvalidArgumentError("LOCAL: " + a.local +
                                            " is not a local file or directory (or pvc://)"));
  }
  job.hf.path_in_repo = a.path_in_repo;
  job.hf.commit_message = a.message;
  job.hf.commit_description = a.description;
  job.hf.create_repo = a.create_repo;
  job.hf.private_repo = a.private_repo;
  job.hf.create_pr = a.create_pr;
  std::stop_source interrupt;
  std::jthread watcher = StopOnInterrupt(interrupt);
  transfer::ProgressReporter progress(mode);
  progress.Start();
  auto report = transfer::RunJob(*local, loc, job, &progress, interrupt.get_token());
  progress.Stop();
  if (!report.ok()) return ReportError(report.status());
  for (const auto& c : report->commits) std::printf("commit %s\n", c.c_str());
  if (!report->pull_request_url.empty()) {
    std::printf("pull request %s\n", report->pull_request_url.c_str());
  }
  return Finish(report->transfer);
}

}  // namespace

void AddHfFlags(CLI::App& app) {
  auto set = [](const char* name) {
    return [name](const std::string& v) { Globals().backend_options[name] = v; };
  };
  app.add_option_function<std::string>(
         "--token", SetToken,
         "Hugging Face token (visible in the process list: prefer HF_TOKEN or --token-file)")
      ->type_name("TOKEN");
  app.add_option_function<std::string>("--token-file", ReadTokenFile,
                                       "Hugging Face: file holding the token");
  app.add_option_function<std::string>("--revision", set("revision"),
                                       "Hugging Face: branch, tag, commit or refs/pr/N");
  app.add_option_function<std::string>("--repo-type", set("repo-type"),
                                       "Hugging Face: model (default), dataset or space")
      ->check(CLI::IsMember({"model", "dataset", "space"}));
}

void RegisterHfCommands(CLI::App& app) {
  CLI::App* hf = app.add_subcommand("hf", "Hugging Face Hub: download and upload repositories");
  hf->require_subcommand(1);

  auto d = std::make_shared<DownloadArgs>();
  CLI::App* dl = hf->add_subcommand(
      "download",
      "Download a repository (or some files) at one commit, verified: LFS files against their "
      "SHA-256, others against their git blob id. Interrupted downloads resume.");
  dl->add_option("REPO", d->repo, "org/name, datasets/org/name or hf://...[@revision][/path]")
      ->required();
  dl->add_option("FILES", d->files, "Only these paths in the repo");
  dl->add_option("--local-dir", d->local_dir, "Plain files into this directory (a PVC)");
  dl->add_option("--cache-dir", d->cache_dir,
                 "huggingface_hub cache layout in this hub cache (default: HF_HUB_CACHE or "
                 "$HF_HOME/hub when --local-dir is not given)");
  AddTransferFlags(*dl, d->flags);
  dl->callback([d] {
    if (!d->local_dir.empty() && !d->cache_dir.empty()) {
      SetExitCode(ReportError(InvalidArgumentError("give --local-dir or --cache-dir, not both")));
      return;
    }
    SetExitCode(RunDownload(*d));
  });

  auto u = std::make_shared<UploadArgs>();
  CLI::App* up = hf->add_subcommand(
      "upload",
      "Upload a file or directory as commits: small files inline, large or binary ones through "
      "LFS, exactly as the Hub decides; files already identical in the repo are skipped.");
  up->add_option("REPO", u->repo, "org/name, datasets/org/name or hf://...[@branch]")->required();
  up->add_option("LOCAL", u->local, "File or directory to upload")->required();
  up->add_option("PATH_IN_REPO", u->path_in_repo, "Where in the repo (default: the root)");
  up->add_option("--commit-message,-m", u->message, "Commit message");
  up->add_option("--commit-description", u->description, "Commit description");
  up->add_flag("--create-repo", u->create_repo, "Create the repository when it does not exist");
  up->add_flag("--private", u->private_repo, "With --create-repo: make it private");
  up->add_flag("--create-pr", u->create_pr, "Open a pull request instead of committing");
  AddTransferFlags(*up, u->flags);
  up->callback([u] { SetExitCode(RunUpload(*u)); });
}

}  // namespace datacube::cli
