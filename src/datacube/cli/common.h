// Pieces every subcommand shares: global flags, building a StoreConfig from flags and
// environment, progress set-up, and mapping a Status to the exit code (0 ok, 1 transfer
// failure, 2 usage or input error).
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <map>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "datacube/base/status.h"
#include "datacube/cli/governance.h"
#include "datacube/location/location.h"
#include "datacube/transfer/job.h"

namespace datacube::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

struct GlobalFlags {
  std::string log_format = "text";
  int verbose = 0;
  bool quiet = false;
  std::string progress = "auto";
  std::string pvc_root;
  // Backend options given as flags, by option name (see backend_flags.cc).
  std::map<std::string, std::string> backend_options;
};

GlobalFlags& Globals();

// Registers the global flags on the top-level app (they may also follow the subcommand).
void AddGlobalFlags(CLI::App& app);
// Applies --log-format/-v/-q. Returns a usage error for bad values.
Status ApplyLogging();

// Flags of the storage backends (endpoint, credentials, addressing), one place for all commands.
void AddBackendFlags(CLI::App& app);

transfer::StoreConfig MakeStoreConfig();
Result<transfer::ProgressMode> ParseProgressMode(const std::string& text);

// Prints the error (redacted) and returns the exit code for it.
int ReportError(const Status& status);
// 2 for usage/input errors (kInvalidArgument), 1 otherwise, 0 for OK.
int ExitCodeFor(const Status& status);

// Parses a whole number flag: decimal digits only (no sign, no spaces, no suffix), from `min` to
// `max`. Errors name the flag and the text ("--jobs: \"-1\" must be a whole number from 1 to
// 1024"), so "-1" is refused instead of wrapping to 18446744073709551615.
Result<uint64_t> ParseCountFlag(std::string_view flag, std::string_view text, uint64_t min,
                                uint64_t max);

// Flags shared by cp and sync.
struct TransferFlags {
  std::string jobs;
  std::string part_size;
  bool checksum = false;
  bool size_only = false;
  bool dry_run = false;
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  std::string manifest_out;
  std::string bwlimit;
  int retries = 5;
  bool strict = false;
  bool no_resume = false;
  bool require_checksum = false;  // cp and sync (cmd_copy.cc)
  GovernanceFlags governance;     // --class, --policy, --audit-log (governance.h)
};
void AddTransferFlags(CLI::App& cmd, TransferFlags& flags);
Result<transfer::TransferOptions> MakeTransferOptions(const TransferFlags& flags);

// Installs SIGINT/SIGTERM handlers and returns a thread that, at the first signal, requests
// `source` and the process-wide interrupt token (base/cancel.h) to stop: workers, retries and
// in-flight HTTP requests (even stalled ones) give up within milliseconds, and the command
// unwinds, leaving only resumable state (hidden partial files with their journals). Should the
// unwinding not finish within kInterruptGrace, the thread prints the message and exits (every
// write is atomic, so an exit at any point leaves no torn file). A second signal exits at once.
// The handler only records the signal, because requesting a stop runs callbacks that take
// locks. Keep the thread alive while working.
inline constexpr std::chrono::milliseconds kInterruptGrace{1500};
std::jthread StopOnInterrupt(std::stop_source source);

// 0 when no SIGINT/SIGTERM arrived. Otherwise prints "interrupted by SIGTERM; rerun to resume"
// (once) and returns the conventional exit code, 128 + the signal number: 130 for SIGINT, 143
// for SIGTERM. main() returns it whatever the command returned.
int InterruptExitCode();
// True once SIGINT/SIGTERM arrived (errors caused by the cancellation are then not reported one
// by one).
bool Interrupted();

// Runs a copy or sync end to end through the transfer API, with progress and summary. Returns
// the exit code.
int RunCopyCommand(const std::string& src, const std::string& dst, const TransferFlags& flags,
                   bool delete_extra);

}  // namespace datacube::cli
