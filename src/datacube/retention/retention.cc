#include "datacube/retention/retention.h"

#include <utility>

#include "datacube/base/glob.h"

namespace datacube::retention {
namespace {

struct CompiledRule {
  const policy::ClassRule* rule;
  std::vector<GlobPattern> globs;
};

Result<std::vector<CompiledRule>> Compile(const policy::Policy& policy) {
  std::vector<CompiledRule> compiled;
  for (const policy::ClassRule& rule : policy.classes) {
    if (rule.age_from != "object-time" && rule.age_from != "manifest-time") {
      return InvalidArgumentError("class " + rule.name + ": age_from must be object-time or " +
                                  "manifest-time, not " + rule.age_from);
    }
    CompiledRule entry{&rule, {}};
    for (const std::string& pattern : rule.match) {
      auto glob = GlobPattern::Compile(pattern);
      if (!glob.ok()) return glob.status();
      entry.globs.push_back(std::move(*glob));
    }
    compiled.push_back(std::move(entry));
  }
  return compiled;
}

Verdict DecideOne(const std::vector<CompiledRule>& rules, const Entry& entry, int64_t now_ns) {
  Verdict verdict;
  verdict.path = entry.path;
  for (const CompiledRule& compiled : rules) {
    for (const GlobPattern& glob : compiled.globs) {
      if (!glob.Matches(entry.path)) continue;
      const policy::ClassRule& rule = *compiled.rule;
      verdict.data_class = rule.name;
      verdict.rule = glob.pattern();
      bool by_manifest = rule.age_from == "manifest-time";
      std::optional<int64_t> time = by_manifest ? entry.manifest_ns : entry.object_ns;
      if (!time) {
        verdict.reason = by_manifest ? "kept: no manifest lists it" : "kept: no object time";
        return verdict;
      }
      // Compared in nanoseconds: an object a fraction of a second past its retention expired.
      std::chrono::nanoseconds age(now_ns - *time);
      verdict.age = std::chrono::duration_cast<std::chrono::seconds>(age);
      if (!rule.retention) {
        verdict.reason = "kept: class has no retention";
      } else if (age > *rule.retention) {
        verdict.expired = true;
        verdict.reason = "expired: older than the retention of " + rule.name;
      } else {
        verdict.reason = "kept: within retention";
      }
      return verdict;
    }
  }
  verdict.reason = "kept: no class rule matches";
  return verdict;
}

}  // namespace

Result<std::vector<Verdict>> Decide(const policy::Policy& policy, const std::vector<Entry>& entries,
                                    int64_t now_ns) {
  auto rules = Compile(policy);
  if (!rules.ok()) return rules.status();
  std::vector<Verdict> verdicts;
  verdicts.reserve(entries.size());
  for (const Entry& entry : entries) verdicts.push_back(DecideOne(*rules, entry, now_ns));
  return verdicts;
}

}  // namespace datacube::retention
