// Flags that put a job under the data policy and the audit log (docs/governance.md): --class,
// --policy (env DATACUBE_POLICY), --audit-log (env DATACUBE_AUDIT_LOG), --actor, --audit-json.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>

#include "datacube/audit/audit_log.h"
#include "datacube/base/result.h"
#include "datacube/policy/policy.h"
#include "datacube/transfer/job.h"

namespace datacube::cli {

struct GovernanceFlags {
  std::string data_class;
  std::string policy_file;
  std::string audit_log;
  std::string actor;
  bool audit_json = false;
};
void AddGovernanceFlags(CLI::App& cmd, GovernanceFlags& flags);

// What a job's options point at; lives as long as the job.
struct Governance {
  std::optional<policy::Policy> policy;
  std::unique_ptr<audit::Log> audit;
};

// The policy of a command: --policy FILE (or DATACUBE_POLICY), else the default table.
Result<policy::Policy> LoadPolicy(const std::string& policy_file);

// Loads the policy (when a class or a policy file is given) and opens the audit log (when one is
// given), and points `job` at them. Errors name the flag.
Result<std::unique_ptr<Governance>> ApplyGovernance(const GovernanceFlags& flags,
                                                    transfer::JobOptions& job);

}  // namespace datacube::cli
