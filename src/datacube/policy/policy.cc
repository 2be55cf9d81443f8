// The default table, the egress decision and the policy's text form.
#include "datacube/policy/policy.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "datacube/base/glob.h"

namespace datacube::policy {
namespace {

using std::chrono::seconds;
constexpr seconds kDay{86400};

// Regions where confidential data may be stored: the two US regions and the one EU region the
// default deployment uses, plus "local" (a path or PVC inside the cluster).
const std::vector<std::string> kConfidentialRegions = {"us-east-1", "us-west-2", "eu-west-1",
                                                       "local"};
const std::vector<std::string> kObjectStores = {"s3", "coreweave", "gcs", "azure", "local"};

Policy BuildDefault() {
  Policy p;
  p.origin = "default policy";
  std::vector<std::string> weights_providers = kObjectStores;
  weights_providers.insert(weights_providers.end() - 1, "huggingface");
  p.classes.push_back({"model-weights",
                       "internal",
                       false,
                       false,
                       std::nullopt,
                       "object-time",
                       {"*"},
                       weights_providers,
                       {},
                       {}});
  p.classes.push_back({"training-data",
                       "confidential",
                       true,
                       true,
                       std::nullopt,
                       "object-time",
                       kConfidentialRegions,
                       kObjectStores,
                       {},
                       {}});
  p.classes.push_back({"checkpoint",
                       "internal",
                       false,
                       false,
                       30 * kDay,
                       "object-time",
                       {"*"},
                       kObjectStores,
                       {},
                       {"checkpoint-*/**", "*.ckpt"}});
  p.classes.push_back({"inference-cache",
                       "internal",
                       false,
                       false,
                       7 * kDay,
                       "object-time",
                       {"*"},
                       kObjectStores,
                       {},
                       {"inference-cache/**"}});
  p.classes.push_back(
      {"secret", "restricted", false, true, std::nullopt, "object-time", {"*"}, {"local"}, {}, {}});
  return p;
}

bool EqualFold(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool ListAllows(const std::vector<std::string>& list, std::string_view value) {
  return std::any_of(list.begin(), list.end(), [&](const std::string& item) {
    return item == "*" || EqualFold(item, value);
  });
}

bool EndpointAllowed(const std::vector<std::string>& globs, const std::string& host) {
  if (globs.empty() || host.empty()) return true;
  std::string lower = host;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  for (const auto& glob : globs) {
    auto pattern = GlobPattern::Compile(glob);
    if (pattern.ok() && pattern->Matches(lower)) return true;
  }
  return false;
}

std::string Join(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& item : list) out += (out.empty() ? "" : ", ") + item;
  return out.empty() ? "(none)" : out;
}

Decision Deny(Decision d, std::string rule, std::string why) {
  d.allowed = false;
  d.rule = std::move(rule);
  d.reason = "egress denied: " + why;
  return d;
}

void WriteList(std::ostringstream& out, const char* key, const std::vector<std::string>& list) {
  out << "    " << key << ": [";
  for (size_t i = 0; i < list.size(); ++i) out << (i ? ", " : "") << '"' << list[i] << '"';
  out << "]\n";
}

std::string FormatRetention(const std::optional<seconds>& retention) {
  if (!retention) return "none";
  int64_t s = retention->count();
  if (s % 86400 == 0) return std::to_string(s / 86400) + "d";
  if (s % 3600 == 0) return std::to_string(s / 3600) + "h";
  return std::to_string(s) + "s";
}

}  // namespace

const ClassRule* Policy::Find(std::string_view name) const {
  for (const auto& rule : classes) {
    if (rule.name == name) return &rule;
  }
  return nullptr;
}

const Policy& DefaultPolicy() {
  static const Policy* policy = new Policy(BuildDefault());
  return *policy;
}

Decision CheckEgress(const Policy& policy, std::string_view data_class, const Destination& dest) {
  Decision d;
  d.data_class = std::string(data_class);
  d.provider = dest.provider;
  d.region = dest.region;
  std::string where = " (" + dest.location + ", provider " + dest.provider + ", region " +
                      dest.region + "; " + policy.origin + ")";
  if (data_class.empty()) {
    d.rule = "unclassified";
    d.reason = "allowed: no class given, so no egress rule applies" + where;
    return d;
  }
  const ClassRule* rule = policy.Find(data_class);
  std::string cls = "class " + d.data_class;
  if (rule == nullptr) {
    return Deny(d, "unknown-class", cls + " is not defined in " + policy.origin + where);
  }
  if (!ListAllows(rule->allowed_providers, dest.provider)) {
    return Deny(d, "allowed_providers",
                cls + " may not go to provider " + dest.provider + " in region " + dest.region +
                    " (rule allowed_providers: " + Join(rule->allowed_providers) + ")" + where);
  }
  if (!ListAllows(rule->approved_regions, dest.region)) {
    return Deny(d, "approved_regions",
                cls + " may not go to region " + dest.region +
                    " (rule approved_regions: " + Join(rule->approved_regions) + ")" + where);
  }
  if (!EndpointAllowed(rule->allowed_endpoints, dest.endpoint)) {
    return Deny(d, "allowed_endpoints",
                cls + " may not go to endpoint " + dest.endpoint + " in region " + dest.region +
                    " (rule allowed_endpoints: " + Join(rule->allowed_endpoints) + ")" + where);
  }
  if (rule->encryption_required && !dest.encrypted && dest.provider != "local") {
    return Deny(d, "encryption_required",
                cls + " requires encryption, and this upload to region " + dest.region +
                    " is not encrypted (rule encryption_required)" + where);
  }
  d.rule = "class " + d.data_class;
  d.reason = "allowed: " + cls + " may go to provider " + dest.provider + " in region " +
             dest.region + where;
  return d;
}

std::string FormatPolicy(const Policy& policy) {
  std::ostringstream out;
  out << "# " << policy.origin << "\nversion: 1\nclasses:\n";
  for (const auto& rule : policy.classes) {
    out << "  " << rule.name << ":\n";
    out << "    sensitivity: " << rule.sensitivity << "\n";
    out << "    may_hold_pii: " << (rule.may_hold_pii ? "true" : "false") << "\n";
    out << "    encryption_required: " << (rule.encryption_required ? "true" : "false") << "\n";
    out << "    retention: " << FormatRetention(rule.retention) << "\n";
    out << "    age_from: " << rule.age_from << "\n";
    WriteList(out, "approved_regions", rule.approved_regions);
    WriteList(out, "allowed_providers", rule.allowed_providers);
    WriteList(out, "allowed_endpoints", rule.allowed_endpoints);
    WriteList(out, "match", rule.match);
  }
  return out.str();
}

}  // namespace datacube::policy
