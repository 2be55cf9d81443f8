// DataCube option maps -> GitSourceOptions / GitSinkOptions. Every error names the option.
#include <set>

#include "datacube/base/units.h"
#include "datacube/git/git_transfer.h"

namespace datacube::git {
namespace {

using OptionMap = std::map<std::string, std::string>;

Status Bad(const std::string& name, const std::string& why) {
  return InvalidArgumentError("git option \"" + name + "\": " + why);
}

Result<bool> ParseBool(const std::string& name, const std::string& v) {
  if (v == "true" || v == "1" || v == "yes") return true;
  if (v == "false" || v == "0" || v == "no") return false;
  return Bad(name, "\"" + v + "\" is not true or false");
}

Result<std::chrono::seconds> ParseSeconds(const std::string& name, const std::string& v) {
  auto d = ParseDuration(v);
  if (!d.ok()) return Bad(name, std::string(d.status().message()));
  auto s = std::chrono::duration_cast<std::chrono::seconds>(*d);
  if (d->count() > 0 && s.count() == 0) s = std::chrono::seconds(1);
  return s;
}

Status Common(const OptionMap& m, const std::set<std::string>& extra, GitCommonOptions* o) {
  static const std::set<std::string> kCommon = {"url",     "token",         "username", "lfs",
                                                "ca-file", "stall-timeout", "timeout",  "retries"};
  for (const auto& [name, value] : m) {
    if (!kCommon.count(name) && !extra.count(name)) {
      std::string known;
      for (const auto& k : kCommon) known += (known.empty() ? "" : ", ") + k;
      for (const auto& k : extra) known += ", " + k;
      return Bad(name, "unknown option (known: " + known + ")");
    }
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
    DC_ASSIGN_OR_RETURN(o->stall_timeout, ParseSeconds("stall-timeout", get("stall-timeout")));
    if (o->stall_timeout.count() <= 0) return Bad("stall-timeout", "must be positive");
  }
  if (!get("timeout").empty()) {
    DC_ASSIGN_OR_RETURN(o->timeout, ParseSeconds("timeout", get("timeout")));
  }
  if (!get("retries").empty()) {
    try {
      int n = std::stoi(get("retries"));
      if (n < 1 || n > 100) throw std::out_of_range("retries");
      o->retry.max_attempts = n;
    } catch (...) {
      return Bad("retries", "must be a number of attempts from 1 to 100");
    }
  }
  return Status();
}

}  // namespace

Result<GitSourceOptions> GitSourceOptionsFromMap(const OptionMap& m) {
  GitSourceOptions o;
  DC_RETURN_IF_ERROR(Common(m, {"ref", "depth"}, &o));
  if (auto it = m.find("ref"); it != m.end()) o.ref = it->second;
  if (auto it = m.find("depth"); it != m.end() && !it->second.empty()) {
    try {
      size_t used = 0;
      o.depth = std::stoi(it->second, &used);
      if (used != it->second.size() || o.depth < 0) throw std::out_of_range("depth");
    } catch (...) {
      return Bad("depth", "\"" + it->second + "\" must be 0 (full history) or a positive number");
    }
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
