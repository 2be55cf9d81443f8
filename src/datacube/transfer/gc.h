// Retention garbage collection of a directory, a PVC path or an S3 prefix.
//
// RunGc lists every object under the target with its object time (local mtime, S3
// LastModified), reads the manifests it finds there for the manifest time, asks
// retention::Decide which entries expired under which class rule, and, with `apply`, deletes
// exactly those, appending one audit record per deletion. Nothing a class rule does not match is
// ever deleted. docs/governance.md ("Retention and gc") describes the decision.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "datacube/audit/audit_log.h"
#include "datacube/location/location.h"
#include "datacube/policy/policy.h"
#include "datacube/retention/retention.h"
#include "datacube/storage/store_config.h"

namespace datacube::transfer {

// A manifest gc reads for manifest time: an object named "manifest.jsonl" or "*.manifest.jsonl"
// (the JSON lines of engine/manifest.h), whose paths are relative to the directory holding it.
bool IsManifestName(std::string_view path);

struct GcOptions {
  const policy::Policy* policy = nullptr;  // required
  int64_t now_ns = 0;                      // "now" for the ages
  bool apply = false;                      // false: decide and list only
  audit::Log* audit = nullptr;             // one "delete" record per deletion when set
  std::string actor;                       // for the audit records
  storage::StoreConfig config;
};

struct GcItem {
  retention::Verdict verdict;
  std::string url;  // the object's location, for output and audit records
  uint64_t size = 0;
  bool deleted = false;
  std::string error;  // why the deletion failed; empty otherwise
};

struct GcReport {
  std::vector<GcItem> items;  // every object under the target, in key order
  uint64_t expired = 0, deleted = 0, failed = 0;
};

// Errors (the target cannot be opened or listed, a manifest does not parse, the policy is
// unusable) are a Status; a failed deletion is counted in the report, and gc goes on.
Result<GcReport> RunGc(const Location& target, const GcOptions& options);

}  // namespace datacube::transfer
