// audit verify, audit append: the tamper-evident audit log (audit/audit_log.h) from the shell.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "datacube/audit/audit_log.h"
#include "datacube/base/log.h"
#include "datacube/cli/commands.h"
#include "datacube/cli/common.h"

namespace datacube::cli {
namespace {

void PrintVerifyJson(const std::string& path, const audit::VerifyReport& report) {
  nlohmann::json out = {{"file", path},
                        {"valid", report.valid && !report.torn_tail},
                        {"records", report.records},
                        {"head", report.head},
                        {"torn_tail", report.torn_tail}};
  if (report.bad_line != 0) out["bad_line"] = report.bad_line;
  if (!report.reason.empty()) out["reason"] = report.reason;
  std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

// A torn tail is a failure too: the last record may have been cut off, so the log as it stands
// is not a complete history.
int RunVerify(const std::string& path, bool json) {
  auto report = audit::VerifyFile(path);
  if (!report.ok()) return ReportError(report.status());
  const bool good = report->valid && !report->torn_tail;
  if (json) {
    PrintVerifyJson(path, *report);
  } else if (good) {
    std::printf("%s: valid chain of %llu records, head %s\n", EscapeForDisplay(path).c_str(),
                static_cast<unsigned long long>(report->records), report->head.c_str());
  } else if (!report->valid) {
    std::fprintf(stderr, "%s:%llu: broken chain: %s (%llu valid records before it)\n",
                 EscapeForDisplay(path).c_str(), static_cast<unsigned long long>(report->bad_line),
                 EscapeForDisplay(report->reason).c_str(),
                 static_cast<unsigned long long>(report->records));
  } else {
    std::fprintf(stderr,
                 "%s: torn tail: the file ends in a partial record after %llu valid records "
                 "(truncated, or a writer died mid-write)\n",
                 EscapeForDisplay(path).c_str(), static_cast<unsigned long long>(report->records));
  }
  return good ? kExitOk : kExitFailure;
}

struct AppendArgs {
  std::string log, actor;
  audit::Record record;
  bool json = false;
};

int RunAppend(AppendArgs& args) {
  auto log = audit::Log::Open(args.log, args.json);
  if (!log.ok()) return ReportError(log.status());
  args.record.actor = audit::ActorFrom(audit::ProcessEnvironment(), args.actor);
  Status appended = (*log)->Append(args.record);
  if (!appended.ok()) return ReportError(appended);
  return kExitOk;
}

void RegisterAppend(CLI::App& group) {
  auto a = std::make_shared<AppendArgs>();
  auto* cmd = group.add_subcommand(
      "append", "Append one record to an audit log (for events datacube does not see itself)");
  cmd->add_option("--audit-log", a->log, "The audit log file (env DATACUBE_AUDIT_LOG)")
      ->envname("DATACUBE_AUDIT_LOG")
      ->required();
  cmd->add_option("--action", a->record.action, "transfer, delete, storage-change, ...")
      ->required();
  cmd->add_option("--actor", a->actor, "User or service account (else DATACUBE_ACTOR, USER)");
  cmd->add_option("--source", a->record.source, "Source location");
  cmd->add_option("--destination", a->record.destination, "Destination location");
  cmd->add_option("--class", a->record.data_class, "Data class");
  cmd->add_option("--bytes", a->record.bytes, "Bytes moved");
  cmd->add_option("--files", a->record.files, "Files moved");
  cmd->add_option("--manifest-digest", a->record.manifest_digest, "sha256:... of the manifest");
  cmd->add_option("--result", a->record.result, "ok, failed, allowed, denied, ...")->required();
  cmd->add_option("--detail", a->record.detail, "Reason or message");
  cmd->add_flag("--json", a->json, "Also print the appended record on stdout");
  cmd->callback([a] { SetExitCode(RunAppend(*a)); });
}

}  // namespace

void RegisterAuditCommands(CLI::App& app) {
  auto* group = app.add_subcommand("audit", "The tamper-evident audit log");
  group->require_subcommand(1);
  struct VerifyArgs {
    std::string file;
    bool json = false;
  };
  auto v = std::make_shared<VerifyArgs>();
  auto* verify = group->add_subcommand(
      "verify", "Check an audit log's hash chain; name the first bad line (exit 1 when broken)");
  verify->add_option("FILE", v->file, "The audit log")->required();
  verify->add_flag("--json", v->json, "Print the result as one JSON object");
  verify->callback([v] { SetExitCode(RunVerify(v->file, v->json)); });
  RegisterAppend(*group);
}

}  // namespace datacube::cli
