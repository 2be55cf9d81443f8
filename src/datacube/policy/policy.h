// Data classes and the egress policy.
//
// A policy is a table of data classes (model-weights, training-data, checkpoint, inference-cache,
// secret, or any a site defines). Each class says how sensitive its data is, whether it must be
// encrypted at rest, how long it is kept, and where it may go: approved regions, providers and
// endpoint hosts. The transfer layer asks CheckEgress before it opens a destination; gc reads the
// retention fields. The file format and the default table are in docs/governance.md#policy.
//
// Thread-safety: a Policy is an immutable value once parsed; DefaultPolicy() is built once.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "datacube/base/result.h"

namespace datacube::policy {

struct ClassRule {
  std::string name;         // model-weights, training-data, checkpoint, inference-cache, secret
  std::string sensitivity;  // public, internal, confidential, restricted
  bool may_hold_pii = false;
  bool encryption_required = false;
  std::optional<std::chrono::seconds> retention;  // gc: older than this has expired; nullopt = kept
  std::string age_from = "object-time";           // or "manifest-time"
  std::vector<std::string> approved_regions;      // "*" = any; a provider with no region is "none"
  std::vector<std::string> allowed_providers;  // s3, coreweave, gcs, azure, huggingface, git, local
  std::vector<std::string> allowed_endpoints;  // host globs; empty = any
  std::vector<std::string> match;              // gc: path globs of files of this class
};

struct Policy {
  std::string origin;  // the file it came from, or "default policy"
  std::vector<ClassRule> classes;
  // The rule of a class, or nullptr when the policy has none of that name.
  const ClassRule* Find(std::string_view name) const;
};

// Parses a policy file's text. Errors are kInvalidArgument and name `origin` and the field path
// ("policy.yaml: classes.secret.retention: ...").
Result<Policy> ParsePolicy(std::string_view yaml_text, std::string_view origin);
Result<Policy> LoadPolicyFile(const std::string& path);

// The documented default table (docs/governance.md#the-default-table).
const Policy& DefaultPolicy();

// Where a transfer's data is going, as the egress check sees it.
struct Destination {
  std::string provider;    // s3, coreweave, gcs, azure, huggingface, git, local
  std::string region;      // "us-east-1", a CoreWeave zone, "none" for a provider without regions
  std::string endpoint;    // host name of the endpoint; empty when there is none (local)
  std::string location;    // the destination as the user wrote it (redacted), for messages
  bool encrypted = false;  // the upload is client-side encrypted
};

struct Decision {
  bool allowed = true;
  std::string data_class;  // "" = unclassified
  std::string rule;        // which rule decided: "unclassified", "approved_regions", ...
  std::string provider, region;
  std::string reason;  // one sentence, names the rule, the class and the region
};

// Decides whether data of `data_class` may go to `dest` under `policy`. An empty class is
// allowed with rule "unclassified" (no rule applies); an unknown class is denied with rule
// "unknown-class". Checks in order: allowed_providers, approved_regions, allowed_endpoints,
// encryption_required.
Decision CheckEgress(const Policy& policy, std::string_view data_class, const Destination& dest);

// The policy as a policy file would write it (for `datacube policy show`).
std::string FormatPolicy(const Policy& policy);

}  // namespace datacube::policy
