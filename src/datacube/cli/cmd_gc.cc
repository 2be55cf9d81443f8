// gc: retention garbage collection of a directory, PVC path or S3 prefix (transfer/gc.h).
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>

#include "datacube/audit/audit_log.h"
#include "datacube/base/log.h"
#include "datacube/cli/commands.h"
#include "datacube/cli/common.h"
#include "datacube/policy/policy.h"
#include "datacube/transfer/gc.h"

namespace datacube::cli {
namespace {

struct GcArgs {
  std::string target;
  std::string policy_file;
  bool dry_run = false;
  bool apply = false;
  bool json = false;
  std::string now;
  std::string audit_log;
};

// "2026-12-02T21:00:00Z" or with fractional seconds ("...00.250Z"), UTC only.
Result<int64_t> ParseRfc3339(const std::string& text) {
  std::tm tm{};
  const char* rest = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  int64_t frac_ns = 0;
  if (rest != nullptr && *rest == '.') {
    int64_t scale = 100'000'000;
    for (++rest; *rest >= '0' && *rest <= '9'; ++rest, scale /= 10)
      frac_ns += (*rest - '0') * scale;
  }
  if (rest == nullptr || std::string_view(rest) != "Z") {
    return InvalidArgumentError(
        "--now: want an RFC 3339 UTC time like 2026-01-31T12:00:00Z, got \"" + text + "\"");
  }
  return static_cast<int64_t>(timegm(&tm)) * 1'000'000'000 + frac_ns;
}

int64_t NowNs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

Result<policy::Policy> LoadPolicy(const std::string& flag) {
  std::string path = flag;
  if (path.empty()) {
    if (const char* env = std::getenv("DATACUBE_POLICY")) path = env;
  }
  if (path.empty()) return policy::DefaultPolicy();
  return policy::LoadPolicyFile(path);
}

std::string DumpJson(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void PrintItem(const transfer::GcItem& item, bool apply, bool json) {
  const retention::Verdict& v = item.verdict;
  std::string state = !v.expired     ? "kept"
                      : !apply       ? "expired"
                      : item.deleted ? "deleted"
                                     : "failed";
  if (json) {
    nlohmann::ordered_json j{{"path", v.path},
                             {"state", state},
                             {"class", v.data_class},
                             {"rule", v.rule},
                             {"age_seconds", v.age.count()},
                             {"reason", v.reason}};
    if (!item.error.empty()) j["error"] = item.error;
    std::printf("%s\n", DumpJson(j).c_str());
    return;
  }
  // Kept entries only with -v: the listing is the expired set.
  if (!v.expired && Globals().verbose == 0) return;
  std::printf("%s  %s  class=%s  age=%llds  rule=%s  (%s)%s%s\n", state.c_str(),
              EscapeForDisplay(v.path).c_str(), v.data_class.empty() ? "-" : v.data_class.c_str(),
              static_cast<long long>(v.age.count()), v.rule.empty() ? "-" : v.rule.c_str(),
              v.reason.c_str(), item.error.empty() ? "" : ": ", item.error.c_str());
}

int RunGcCommand(const GcArgs& args) {
  if (args.apply && args.dry_run) {
    return ReportError(InvalidArgumentError("--apply and --dry-run exclude each other"));
  }
  auto loc = ParseLocation(args.target);
  if (!loc.ok()) return ReportError(loc.status());
  auto pol = LoadPolicy(args.policy_file);
  if (!pol.ok()) return ReportError(pol.status());
  transfer::GcOptions options;
  options.policy = &*pol;
  options.apply = args.apply;
  options.config = MakeStoreConfig();
  options.now_ns = NowNs();
  if (!args.now.empty()) {
    auto now = ParseRfc3339(args.now);
    if (!now.ok()) return ReportError(now.status());
    options.now_ns = *now;
  }
  std::string audit_path = args.audit_log;
  if (audit_path.empty()) {
    if (const char* env = std::getenv("DATACUBE_AUDIT_LOG")) audit_path = env;
  }
  std::unique_ptr<audit::Log> log;
  if (!audit_path.empty()) {
    auto opened = audit::Log::Open(audit_path, false);
    if (!opened.ok()) return ReportError(opened.status());
    log = std::move(*opened);
    options.audit = log.get();
    options.actor = audit::ActorFrom(audit::ProcessEnvironment(), "");
  }
  auto report = transfer::RunGc(*loc, options);
  if (!report.ok()) return ReportError(report.status());
  for (const auto& item : report->items) PrintItem(item, args.apply, args.json);
  LogInfo(std::string(args.apply ? "gc: " : "gc (dry run): ") + std::to_string(report->expired) +
          " expired of " + std::to_string(report->items.size()) + " objects" +
          (args.apply ? ", deleted " + std::to_string(report->deleted) + ", failed " +
                            std::to_string(report->failed)
                      : ""));
  return report->failed > 0 ? kExitFailure : kExitOk;
}

}  // namespace

void RegisterGcCommand(CLI::App& app) {
  auto args = std::make_shared<GcArgs>();
  auto* cmd = app.add_subcommand(
      "gc", "List (default) or delete the objects under TARGET whose class retention expired");
  cmd->add_option("TARGET", args->target, "Directory, pvc:// path or s3://bucket/prefix")
      ->required();
  cmd->add_option("--policy", args->policy_file,
                  "Policy file (default: $DATACUBE_POLICY, else the built-in table)");
  cmd->add_flag("--dry-run,-n", args->dry_run, "Only list what expired (the default)");
  cmd->add_flag("--apply", args->apply, "Delete the expired objects");
  cmd->add_flag("--json", args->json, "One JSON object per object, kept ones included");
  cmd->add_option("--now", args->now, "Judge ages at this RFC 3339 UTC time instead of now");
  cmd->add_option("--audit-log", args->audit_log,
                  "Append a delete record per deletion (default: $DATACUBE_AUDIT_LOG)");
  cmd->callback([args] { SetExitCode(RunGcCommand(*args)); });
}

}  // namespace datacube::cli
