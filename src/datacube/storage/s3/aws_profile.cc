#include "datacube/storage/s3/aws_profile.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace datacube::storage::s3 {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Reads a whole file; nullopt when it does not exist.
Result<std::optional<std::string>> ReadOptionalFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<std::string>();
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgumentError("cannot read AWS configuration file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return std::optional<std::string>(ss.str());
}

}  // namespace

Result<AwsIniFile> ParseAwsIni(std::string_view text, bool config_file) {
  AwsIniFile out;
  std::map<std::string, std::string>* section = nullptr;  // null: skipping this section
  std::string parent;  // key whose indented sub-section we are in
  int line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view raw = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    std::string_view line = Trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    const bool indented = raw[0] == ' ' || raw[0] == '\t';
    if (line[0] == '[') {
      if (line.back() != ']') {
        return InvalidArgumentError("line " + std::to_string(line_no) + ": unterminated section");
      }
      std::string name(Trim(line.substr(1, line.size() - 2)));
      parent.clear();
      section = nullptr;
      if (!config_file) {
        section = &out[name];
      } else if (name == "default") {
        section = &out["default"];
      } else if (name.rfind("profile ", 0) == 0) {
        section = &out[std::string(Trim(std::string_view(name).substr(8)))];
      }
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return InvalidArgumentError("line " + std::to_string(line_no) +
                                  ": expected \"key = value\" or a [section]");
    }
    std::string key = Lower(Trim(line.substr(0, eq)));
    std::string value(Trim(line.substr(eq + 1)));
    if (section == nullptr) continue;
    if (indented && !parent.empty()) {
      (*section)[parent + "." + key] = value;
      continue;
    }
    parent = value.empty() ? key : std::string();
    if (!value.empty()) (*section)[key] = value;
  }
  return out;
}

std::string AwsProfile::Get(const std::string& key) const {
  auto it = values.find(key);
  return it == values.end() ? std::string() : it->second;
}

Result<AwsProfile> LoadAwsProfile(const std::string& name, const EnvLookup& env) {
  AwsProfile profile;
  const bool explicit_name = !name.empty() || env("AWS_PROFILE").value_or("") != "";
  profile.name = !name.empty() ? name : env("AWS_PROFILE").value_or("");
  if (profile.name.empty()) profile.name = "default";
  const std::string home = env("HOME").value_or("");
  std::string creds_path = env("AWS_SHARED_CREDENTIALS_FILE").value_or("");
  if (creds_path.empty() && !home.empty()) creds_path = home + "/.aws/credentials";
  std::string config_path = env("AWS_CONFIG_FILE").value_or("");
  if (config_path.empty() && !home.empty()) config_path = home + "/.aws/config";

  // The config file first, then the credentials file overrides it.
  for (auto [path, is_config] : {std::pair{config_path, true}, std::pair{creds_path, false}}) {
    if (path.empty()) continue;
    if (!profile.sources.empty()) profile.sources += ", ";
    profile.sources += path;
    DC_ASSIGN_OR_RETURN(std::optional<std::string> text, ReadOptionalFile(path));
    if (!text) continue;
    auto parsed = ParseAwsIni(*text, is_config);
    if (!parsed.ok()) return parsed.status().WithContext(path);
    auto it = parsed->find(profile.name);
    if (it == parsed->end()) continue;
    profile.found = true;
    for (auto& [k, v] : it->second) profile.values[k] = v;
  }
  if (explicit_name && !profile.found) {
    return NotFoundError(
        "AWS profile \"" + profile.name + "\" was not found in " +
        (profile.sources.empty() ? std::string("any file (HOME is not set)") : profile.sources));
  }
  return profile;
}

}  // namespace datacube::storage::s3
