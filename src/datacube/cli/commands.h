// Each Register* adds subcommands to the app. A subcommand's callback stores its exit code with
// SetExitCode; main() returns it.
#pragma once

#include <CLI/CLI.hpp>

namespace datacube::cli {

void SetExitCode(int code);
int ExitCode();

void RegisterCopyCommands(CLI::App& app);      // cp, sync
void RegisterObjectCommands(CLI::App& app);    // ls, stat, cat, rm
void RegisterManifestCommands(CLI::App& app);  // manifest, verify
void RegisterVersionCommand(CLI::App& app);    // version
void RegisterPresignCommand(CLI::App& app);    // presign (S3 family)
void RegisterRunCommands(CLI::App& app);       // run, validate-cube (DataCube specs)
void RegisterHfCommands(CLI::App& app);        // hf download, hf upload
void RegisterAuditCommands(CLI::App& app);     // audit verify, audit append
void RegisterPolicyCommands(CLI::App& app);    // policy check, policy show
void RegisterGcCommand(CLI::App& app);         // gc (retention)

}  // namespace datacube::cli
