#include "datacube/cli/governance.h"

namespace datacube::cli {

void AddGovernanceFlags(CLI::App& cmd, GovernanceFlags& flags) {
  cmd.add_option("--class", flags.data_class,
                 "Data class of what moves (model-weights, training-data, checkpoint, "
                 "inference-cache, secret): the destination is checked against its egress rules");
  cmd.add_option("--policy", flags.policy_file,
                 "Data policy file (YAML; default: the built-in table, `datacube policy show`)")
      ->envname("DATACUBE_POLICY");
  cmd.add_option("--audit-log", flags.audit_log,
                 "Append a tamper-evident record of this job (and of each deletion) to FILE")
      ->envname("DATACUBE_AUDIT_LOG");
  cmd.add_option("--actor", flags.actor,
                 "Who the audit records name (else DATACUBE_ACTOR, the pod's service account, "
                 "USER)");
  cmd.add_flag("--audit-json", flags.audit_json, "Also print each audit record on stdout");
}

Result<policy::Policy> LoadPolicy(const std::string& policy_file) {
  if (policy_file.empty()) return policy::DefaultPolicy();
  auto loaded = policy::LoadPolicyFile(policy_file);
  if (!loaded.ok()) return loaded.status().WithContext("--policy");
  return loaded;
}

Result<std::unique_ptr<Governance>> ApplyGovernance(const GovernanceFlags& flags,
                                                    transfer::JobOptions& job) {
  auto governance = std::make_unique<Governance>();
  if (!flags.data_class.empty() || !flags.policy_file.empty()) {
    DC_ASSIGN_OR_RETURN(governance->policy, LoadPolicy(flags.policy_file));
    job.policy = &*governance->policy;
    job.data_class = flags.data_class;
  }
  if (!flags.audit_log.empty()) {
    auto log = audit::Log::Open(flags.audit_log, flags.audit_json);
    if (!log.ok()) return log.status().WithContext("--audit-log");
    governance->audit = std::move(*log);
    job.audit = governance->audit.get();
    job.actor = audit::ActorFrom(audit::ProcessEnvironment(), flags.actor);
  }
  return governance;
}

}  // namespace datacube::cli
