// cp and sync.
#include <memory>

#include "datacube/cli/commands.h"
#include "datacube/cli/common.h"

namespace datacube::cli {
namespace {

void AddVerifyFlags(CLI::App& cmd, TransferFlags& flags) {
  cmd.add_flag("--require-checksum", flags.require_checksum,
               "Fail files from a network source that offers no checksum to verify them against "
               "(S3: x-amz-meta-sha256, a single-part ETag, x-amz-checksum-*, md5chksum)");
}

// AWS CLI users type `cp -r DIR DST` out of habit. A directory source is always copied whole, so
// the flag is accepted and changes nothing.
void AddRecursiveFlag(CLI::App& cmd, bool& recursive) {
  cmd.add_flag("-r,--recursive", recursive,
               "Accepted for AWS CLI habits and ignored: a directory SRC is always copied whole");
}

}  // namespace

void RegisterCopyCommands(CLI::App& app) {
  struct CpArgs {
    std::string src, dst;
    TransferFlags flags;
    bool recursive = false;  // accepted, ignored
  };
  auto cp = std::make_shared<CpArgs>();
  CLI::App* cmd = app.add_subcommand(
      "cp",
      "Copy a file, or a directory's contents, from SRC to DST.\n"
      "A directory SRC copies what is inside it into DST (like `rclone copy` and "
      "`aws s3 cp --recursive`).\nFiles already at DST with the same size and time (or SHA-256) "
      "are skipped.");
  cmd->add_option("SRC", cp->src, "Source location (path, pvc://, s3://, hf://, ...)")->required();
  cmd->add_option("DST", cp->dst, "Destination location")->required();
  AddTransferFlags(*cmd, cp->flags);
  AddVerifyFlags(*cmd, cp->flags);
  AddGovernanceFlags(*cmd, cp->flags.governance);
  AddRecursiveFlag(*cmd, cp->recursive);
  cmd->callback([cp] { SetExitCode(RunCopyCommand(cp->src, cp->dst, cp->flags, false)); });

  struct SyncArgs {
    std::string src, dst;
    TransferFlags flags;
    bool del = false;
    bool recursive = false;  // accepted, ignored
  };
  auto sync = std::make_shared<SyncArgs>();
  CLI::App* scmd = app.add_subcommand(
      "sync",
      "Make DST hold what SRC holds: copy new and changed files; with --delete, also remove files "
      "that are not in SRC (only after every copy succeeded).");
  scmd->add_option("SRC", sync->src, "Source directory or prefix")->required();
  scmd->add_option("DST", sync->dst, "Destination directory or prefix")->required();
  scmd->add_flag("--delete", sync->del, "Delete destination files that are not in the source");
  AddTransferFlags(*scmd, sync->flags);
  AddVerifyFlags(*scmd, sync->flags);
  AddGovernanceFlags(*scmd, sync->flags.governance);
  AddRecursiveFlag(*scmd, sync->recursive);
  scmd->callback(
      [sync] { SetExitCode(RunCopyCommand(sync->src, sync->dst, sync->flags, sync->del)); });
}

}  // namespace datacube::cli
