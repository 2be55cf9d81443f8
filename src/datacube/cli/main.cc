// datacube: move ML data between volumes and storage services, verified (README.md).
#include <CLI/CLI.hpp>
#include <cstdio>

#include "datacube/base/log.h"
#include "datacube/cli/commands.h"
#include "datacube/cli/common.h"

#ifndef DATACUBE_VERSION
#define DATACUBE_VERSION "0.0.0"
#endif

namespace datacube::cli {
namespace {
int exit_code = kExitOk;
}  // namespace

void SetExitCode(int code) { exit_code = code; }
int ExitCode() { return exit_code; }

void RegisterVersionCommand(CLI::App& app) {
  app.add_subcommand("version", "Print the version")->callback([] {
    std::printf("datacube %s\n", DATACUBE_VERSION);
  });
}

}  // namespace datacube::cli

int main(int argc, char** argv) {
  using namespace datacube::cli;
  CLI::App app{
      "datacube: copy, sync and verify ML data between volumes (PVCs) and storage services "
      "(S3, CoreWeave, GCS, Azure, Hugging Face, Git).\n"
      "Exit codes: 0 success, 1 transfer failed, 2 usage or input error."};
  app.require_subcommand(1);
  app.fallthrough();
  app.set_version_flag("--version", DATACUBE_VERSION);
  AddGlobalFlags(app);
  AddBackendFlags(app);
  RegisterCopyCommands(app);
  RegisterObjectCommands(app);
  RegisterManifestCommands(app);
  RegisterRunCommands(app);
  RegisterHfCommands(app);
  RegisterAuditCommands(app);
  RegisterPolicyCommands(app);
  RegisterPresignCommand(app);
  RegisterGcCommand(app);
  RegisterVersionCommand(app);
  app.parse_complete_callback([] { ApplyLogging().IgnoreError(); });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  // A SIGINT/SIGTERM decides the exit code (130/143), whatever the interrupted command returned.
  if (int interrupted = InterruptExitCode(); interrupted != 0) return interrupted;
  return ExitCode();
}
