// policy check, policy show: the data policy's decision for a destination, without moving data.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "datacube/base/log.h"
#include "datacube/cli/commands.h"
#include "datacube/cli/common.h"
#include "datacube/transfer/egress.h"

namespace datacube::cli {
namespace {

struct CheckArgs {
  std::string src, dst, data_class, policy_file;
  bool json = false;
};

void PrintDecision(const policy::Decision& d, const std::string& origin, bool json) {
  if (json) {
    nlohmann::json out = {{"allowed", d.allowed},   {"class", d.data_class}, {"rule", d.rule},
                          {"provider", d.provider}, {"region", d.region},    {"reason", d.reason},
                          {"policy", origin}};
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return;
  }
  std::printf("%s: class %s, provider %s, region %s, rule %s (%s)\n%s\n",
              d.allowed ? "allowed" : "denied",
              d.data_class.empty() ? "(none)" : d.data_class.c_str(), d.provider.c_str(),
              d.region.c_str(), d.rule.c_str(), origin.c_str(), EscapeForDisplay(d.reason).c_str());
}

int RunCheck(const CheckArgs& args) {
  auto src = ParseLocation(args.src);
  if (!src.ok()) return ReportError(src.status().WithContext("source"));
  auto dst = ParseLocation(args.dst);
  if (!dst.ok()) return ReportError(dst.status().WithContext("destination"));
  auto policy = LoadPolicy(args.policy_file);
  if (!policy.ok()) return ReportError(policy.status());
  policy::Destination dest = transfer::DestinationOf(*dst, MakeStoreConfig(), false);
  policy::Decision decision = policy::CheckEgress(*policy, args.data_class, dest);
  PrintDecision(decision, policy->origin, args.json);
  return decision.allowed ? kExitOk : kExitFailure;
}

int RunShow(const std::string& policy_file) {
  auto policy = LoadPolicy(policy_file);
  if (!policy.ok()) return ReportError(policy.status());
  std::string text = policy::FormatPolicy(*policy);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return kExitOk;
}

}  // namespace

void RegisterPolicyCommands(CLI::App& app) {
  auto* group = app.add_subcommand("policy", "The data policy: classes and egress rules");
  group->require_subcommand(1);
  auto c = std::make_shared<CheckArgs>();
  auto* check = group->add_subcommand(
      "check",
      "Say whether data of --class may go from SRC to DST, and which rule decides (exit 1 when "
      "denied); moves nothing and sends no request");
  check->add_option("SRC", c->src, "Source location")->required();
  check->add_option("DST", c->dst, "Destination location")->required();
  check->add_option("--class", c->data_class, "Data class")->required();
  check->add_option("--policy", c->policy_file, "Policy file (default: the built-in table)")
      ->envname("DATACUBE_POLICY");
  check->add_flag("--json", c->json, "Print the decision as one JSON object");
  check->callback([c] { SetExitCode(RunCheck(*c)); });

  auto policy_file = std::make_shared<std::string>();
  auto* show = group->add_subcommand("show", "Print the effective policy as a policy file");
  show->add_option("--policy", *policy_file, "Policy file (default: the built-in table)")
      ->envname("DATACUBE_POLICY");
  show->callback([policy_file] { SetExitCode(RunShow(*policy_file)); });
}

}  // namespace datacube::cli
