// Retention decisions for gc: which listed objects have expired under which class rule.
//
// Pure logic, no I/O: the caller lists the target (a directory or an S3 prefix), gives each entry
// its path relative to the target and its time, and gets back one Verdict per entry. Each entry is
// matched to the first class rule whose `match` globs select its path (base/glob.h meaning); an
// entry no rule matches is kept, and so is one whose rule has no retention. An entry has expired
// when now - time > retention. How gc decides is described in docs/governance.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "datacube/base/result.h"
#include "datacube/policy/policy.h"

namespace datacube::retention {

struct Entry {
  std::string path;                    // relative to the gc target
  std::optional<int64_t> object_ns;    // object time (local mtime, S3 LastModified)
  std::optional<int64_t> manifest_ns;  // time of the manifest that lists it, when there is one
};

struct Verdict {
  std::string path;
  bool expired = false;
  std::string data_class;       // "" when no class rule matches
  std::string rule;             // the glob that matched, for messages
  std::chrono::seconds age{0};  // now - the time the rule's age_from names
  std::string reason;           // why kept or expired, one phrase
};

// Decides every entry. Fails with kInvalidArgument when a rule's glob does not compile or its
// age_from is neither "object-time" nor "manifest-time".
Result<std::vector<Verdict>> Decide(const policy::Policy& policy, const std::vector<Entry>& entries,
                                    int64_t now_ns);

}  // namespace datacube::retention
