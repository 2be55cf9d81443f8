// DataCube option maps -> GitSourceOptions / GitSinkOptions. Every error names the option.
//
// CheckGitOptionValue is the one place that decides whether a value is acceptable: `datacube
// validate-cube` calls it for literal values and `datacube run` goes through it again when it
// builds the options, so the two never disagree.
#include <climits>
#include <set>

#include "datacube/base/units.h"
#include "datacube/git/git_remote.h"
#include "datacube/git/git_transfer.h"

namespace datacube::git {
namespace {

using OptionMap = std::map<std::string, std::string>;

std::string OptionName(std::string_view name) { return "git option \"" + std::string(name) + "\""; }

Status Bad(std::string_view name, const std::string& why) {
  return InvalidArgumentError(OptionName(name) + ": " + why);
}

Result<bool> ParseBool(std::string_view name, const std::string& v) {
  if (v == "true" || v == "1" || v == "yes") return true;
  if (v == "false" || v == "0" || v == "no") return false;
  return Bad(name, "\"" + v + "\" is not true or false");
}

// Digits only, no sign, no spaces, within [min, max].
bool ParseBoundedInt(std::string_view v, long long min, long long max, long long* out) {
  if (v.empty() || v.size() > 18) return false;
  long long n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  if (n < min || n > max) return false;
  *out = n;
  return true;
}

Result<int> ParseDepth(const std::string& v) {
  long long n = 0;
  if (!ParseBoundedInt(v, 1, INT_MAX, &n)) {
    return Bad("depth", "\"" + v +
                            "\" must be a positive whole number of commits (1 to 2147483647); "
                            "leave the option out for the full history");
  }
  return static_cast<int>(n);
}

Result<int> ParseRetries(const std::string& v) {
  long long n = 0;
  if (!ParseBoundedInt(v, 1, 100, &n)) {
    return Bad("retries", "\"" + v + "\" must be a number of attempts from 1 to 100");
  }
  return static_cast<int>(n);
}

// Values that reach git's configuration, a command line or the credential helper: one line.
Status CheckSingleLine(std::string_view name, std::string_view v) {
  if (name == "token" || name == "username") return CheckCredentialText(OptionName(name), v);
  for (unsigned char c : v) {
    if (c < 0x20 || c == 0x7f) return Bad(name, "contains a control character");
  }
  return Status();
}

Status CheckValue(std::string_view name, const std::string& v) {
  std::string_view value = v;
  if (name == "token") {
    // A Secret mounted from a file ends with a line break; only that one is tolerated.
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.remove_suffix(1);
  }
  DC_RETURN_IF_ERROR(CheckSingleLine(name, value));
  if (v.empty()) return Status();  // left at its default
  if (name == "lfs") return ParseBool(name, v).status();
  if (name == "depth") return ParseDepth(v).status();
  if (name == "retries") return ParseRetries(v).status();
  if (name == "stall-timeout" || name == "timeout") {
    return ParseGitTimeout(OptionName(name), v).status();
  }
  return Status();
}

const std::set<std::string>& CommonNames() {
  static const std::set<std::string> names = {"url",     "token",         "username", "lfs",
                                              "ca-file", "stall-timeout", "timeout",  "retries"};
  return names;
}

Status Common(const OptionMap& m, const std::set<std::string>& extra, GitCommonOptions* o) {
  for (const auto& [name, value] : m) {
    if (!CommonNames().count(name) && !extra.count(name)) {
      std::string known;
      for (const auto& k : CommonNames()) known += (known.empty() ? "" : ", ") + k;
      for (const auto& k : extra) known += ", " + k;
      return Bad(name, "unknown option (known: " + known + ")");
    }
    DC_RETURN_IF_ERROR(CheckValue(name, value));
  }
  auto get = [&](const std::string& n) {
    auto it = m.find(n);
    return it == m.end() ? std::string() : it->second;
  };
  o->url = get("url");
  if (o->url.empty()) return Bad("url", "is required (https://host/owner/repo.git)");
  o->token = get("token");
  o->username = get("username");
  o->ca_file = get("ca-file");
  if (!get("lfs").empty()) {
    DC_ASSIGN_OR_RETURN(o->lfs, ParseBool("lfs", get("lfs")));
  }
  if (!get("stall-timeout").empty()) {
    DC_ASSIGN_OR_RETURN(o->stall_timeout,
                        ParseGitTimeout(OptionName("stall-timeout"), get("stall-timeout")));
  }
  if (!get("timeout").empty()) {
    DC_ASSIGN_OR_RETURN(o->timeout, ParseGitTimeout(OptionName("timeout"), get("timeout")));
  }
  if (!get("retries").empty()) {
    DC_ASSIGN_OR_RETURN(o->retry.max_attempts, ParseRetries(get("retries")));
  }
  return Status();
}

}  // namespace

Result<std::chrono::seconds> ParseGitTimeout(std::string_view what, std::string_view text) {
  // kMinGitTimeout and kMaxGitTimeout, as people write them.
  std::string range = " must be a duration from 1s to 24h (e.g. 30s, 10m, 2h)";
  if (text.empty() || text.size() > 32) {
    return InvalidArgumentError(std::string(what) + ": \"" + std::string(text.substr(0, 32)) +
                                "\"" + range);
  }
  auto d = ParseDuration(text);
  if (!d.ok())
    return InvalidArgumentError(std::string(what) + ": " + std::string(d.status().message()));
  if (*d < kMinGitTimeout || *d > kMaxGitTimeout) {
    return InvalidArgumentError(std::string(what) + ": \"" + std::string(text) + "\"" + range);
  }
  return std::chrono::duration_cast<std::chrono::seconds>(*d);
}

Status CheckGitOptionValue(std::string_view name, const std::string& value) {
  return CheckValue(name, value);
}

Result<GitSourceOptions> GitSourceOptionsFromMap(const OptionMap& m) {
  GitSourceOptions o;
  DC_RETURN_IF_ERROR(Common(m, {"ref", "depth"}, &o));
  if (auto it = m.find("ref"); it != m.end()) o.ref = it->second;
  if (auto it = m.find("depth"); it != m.end() && !it->second.empty()) {
    DC_ASSIGN_OR_RETURN(o.depth, ParseDepth(it->second));
  }
  return o;
}

Result<GitSinkOptions> GitSinkOptionsFromMap(const OptionMap& m) {
  GitSinkOptions o;
  DC_RETURN_IF_ERROR(Common(m, {"branch"}, &o));
  if (auto it = m.find("branch"); it != m.end()) o.branch = it->second;
  return o;
}

}  // namespace datacube::git
