// run and validate-cube: DataCubes (docs/datacube-spec.md).
#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>

#include "datacube/base/log.h"
#include "datacube/base/secret.h"
#include "datacube/base/units.h"
#include "datacube/cli/commands.h"
#include "datacube/cli/common.h"
#include "datacube/cube/backends.h"
#include "datacube/cube/loader.h"
#include "datacube/cube/runner.h"
#include "datacube/io/small_file.h"

namespace datacube::cli {
namespace {

struct RunArgs {
  std::string file;
  std::string status_file;
  std::string secrets_dir;
  std::string configmaps_dir;
  bool dry_run = false;
  std::string attempt_backoff = "10s";
  std::string status_interval = "1s";
};

cube::ValidateOptions BuildValidateOptions() {
  return {.type_supported = cube::TypeSupportedInThisBuild};
}

// Loads and validates. A file that cannot be read yields a LoadResult holding that error, so
// that `run` still writes a Failed status for it.
cube::LoadResult Load(const std::string& file) {
  auto text = cube::ReadCubeFile(file);
  if (!text.ok()) return cube::UnreadableCube(text.status(), file);
  return cube::LoadCube(*text, file, BuildValidateOptions());
}

void PrintErrors(const cube::LoadResult& loaded) {
  std::string text(loaded.status().message());
  std::fprintf(stderr, "%s\n", Redact(text).c_str());
}

int RunValidate(const std::string& file) {
  cube::LoadResult loaded = Load(file);
  if (!loaded.ok()) {
    PrintErrors(loaded);
    return kExitUsage;
  }
  const cube::DataCube& c = loaded.cube;
  std::printf("%s: valid DataCube \"%s\" (%s -> %s)\n", file.c_str(), c.metadata.name.c_str(),
              std::string(cube::EndpointTypeName(*c.source.type)).c_str(),
              std::string(cube::EndpointTypeName(*c.sink.type)).c_str());
  return kExitOk;
}

// A duration flag within [lo, hi]: beyond a day a wait is a typo, and the arithmetic on it
// (doubling, adding to a clock) must not overflow.
Result<std::chrono::milliseconds> ParseFlagDuration(const std::string& flag,
                                                    const std::string& text,
                                                    std::chrono::milliseconds lo,
                                                    std::chrono::milliseconds hi,
                                                    std::string_view range) {
  auto d = ParseDuration(text);
  if (!d.ok()) return d.status().WithContext(flag);
  if (*d < lo || *d > hi) {
    return InvalidArgumentError(flag + ": \"" + text + "\" must be " + std::string(range));
  }
  return *d;
}

// The flags of `run` that need parsing; errors name the flag.
Status ParseRunFlags(const RunArgs& args, cube::RunOptions& options) {
  using std::chrono::hours;
  using std::chrono::milliseconds;
  DC_ASSIGN_OR_RETURN(options.attempt_backoff,
                      ParseFlagDuration("--attempt-backoff", args.attempt_backoff, milliseconds(0),
                                        hours(24), "at most 24h"));
  // A first wait longer than the usual cap is kept as the cap, not cut back after one retry.
  options.max_attempt_backoff = std::max(options.max_attempt_backoff, options.attempt_backoff);
  DC_ASSIGN_OR_RETURN(auto interval, ParseFlagDuration("--status-interval", args.status_interval,
                                                       milliseconds(0), hours(1), "at most 1h"));
  options.status_interval = std::max(interval, milliseconds(100));
  DC_ASSIGN_OR_RETURN(options.progress_mode, ParseProgressMode(Globals().progress));
  return Status();
}

void PrintDryRun(const transfer::TransferReport& report) {
  for (const auto& f : report.files) {
    if (f.action == transfer::FileAction::kPlannedCopy ||
        f.action == transfer::FileAction::kPlannedDelete) {
      std::printf("%s %s\n", std::string(transfer::FileActionName(f.action)).c_str(),
                  f.path.c_str());
    }
  }
}

int RunRun(const RunArgs& args) {
  // Nothing else can be reported when the status path itself is unusable; refuse before running.
  if (!args.status_file.empty()) {
    Status target = io::CheckReplaceableFile(args.status_file, "--status-file");
    if (!target.ok()) return ReportError(target);
  }
  cube::RunOptions options;
  options.sources.secrets_dir = args.secrets_dir;
  options.sources.configmaps_dir = args.configmaps_dir;
  options.plan.pvc_root = Globals().pvc_root;
  options.dry_run = args.dry_run;
  // A bad flag, an unreadable file and an invalid cube all end in a Failed status (InvalidSpec,
  // exit 2), so that whoever watches --status-file learns why.
  Status flags = ParseRunFlags(args, options);
  cube::LoadResult loaded = flags.ok() ? Load(args.file) : cube::UnreadableCube(flags, args.file);
  if (!loaded.ok()) PrintErrors(loaded);

  // First signal ends the attempt cleanly (the status says Interrupted); a second one kills.
  std::stop_source interrupt;
  options.interrupt = interrupt.get_token();
  std::jthread interrupt_watcher = StopOnInterrupt(interrupt);

  bool status_write_failed = false;
  if (!args.status_file.empty() && !args.dry_run) {
    options.on_status = [&](const cube::CubeStatus& status) {
      Status s = cube::WriteStatusFile(args.status_file, status);
      if (!s.ok() && !status_write_failed) {
        status_write_failed = true;  // say it once, not every second
        LogError(std::string(s.message()));
      }
    };
  }
  cube::RunOutcome outcome = cube::RunCube(loaded, options);

  if (args.dry_run) {
    PrintDryRun(outcome.report);
    if (outcome.exit_code == 0) LogInfo("dry run: nothing was changed");
  } else if (args.status_file.empty()) {
    std::fputs(cube::StatusToYaml(outcome.status).c_str(), stdout);
  }
  if (!outcome.error.ok() && loaded.ok()) {
    LogError(std::string(outcome.error.message()));
  }
  if (status_write_failed) return kExitFailure;
  return outcome.exit_code;
}

}  // namespace

void RegisterRunCommands(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* run = app.add_subcommand(
      "run",
      "Run a DataCube: move data between a PVC and a storage service as the spec says, with "
      "retries (backoffLimit), a deadline per attempt (activeDeadlineSeconds) and a status.\n"
      "The status is printed as YAML at the end, or kept current in --status-file.");
  run->add_option("-f,--filename", args->file, "DataCube YAML file (- for standard input)")
      ->required();
  run->add_option("--status-file", args->status_file,
                  "Write the status here (atomically, updated during the run) instead of stdout");
  run->add_option("--secrets-dir", args->secrets_dir,
                  "Directory of Secrets laid out as mounted: DIR/<secret>/<key>")
      ->envname("DATACUBE_SECRETS_DIR");
  run->add_option("--configmaps-dir", args->configmaps_dir,
                  "Directory of ConfigMaps laid out as mounted: DIR/<configmap>/<key>")
      ->envname("DATACUBE_CONFIGMAPS_DIR");
  run->add_flag("--dry-run,-n", args->dry_run,
                "Validate, resolve and list what would be copied or deleted; change nothing");
  run->add_option("--attempt-backoff", args->attempt_backoff,
                  "Wait before retrying a failed attempt, doubled each time (default 10s, as "
                  "Kubernetes Jobs)");
  run->add_option("--status-interval", args->status_interval,
                  "How often --status-file is refreshed with progress (default 1s)");
  run->callback([args] { SetExitCode(RunRun(*args)); });

  auto vfile = std::make_shared<std::string>();
  CLI::App* validate = app.add_subcommand(
      "validate-cube",
      "Check a DataCube file and report every problem with its field path (exit 2 if any).");
  validate->add_option("-f,--filename", *vfile, "DataCube YAML file (- for standard input)")
      ->required();
  validate->callback([vfile] { SetExitCode(RunValidate(*vfile)); });
}

}  // namespace datacube::cli
