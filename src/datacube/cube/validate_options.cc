// Per-type checks of a service endpoint's options (the table is option_rules.cc).
//
// Values are checked with the parsers the backends themselves use at run time (S3 endpoint and
// bucket rules, addressing, the git module's option map, Hugging Face repository ids), so that
// validate-cube accepts exactly what run accepts: literal values here, and the same checks again
// on the resolved values (Secrets, $(NAME)) before a run touches anything.
#include <map>
#include <set>

#include "datacube/base/units.h"
#include "datacube/cube/option_rules.h"
#include "datacube/cube/resolve.h"
#include "datacube/cube/validate.h"
#include "datacube/location/location.h"
#include "datacube/transfer/option_checks.h"

namespace datacube::cube {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// A backend's message without its own "<option>: " prefix (the caller names the option).
std::string WithoutPrefix(std::string_view message, std::string_view prefix) {
  if (StartsWith(message, prefix)) message.remove_prefix(prefix.size());
  return std::string(message);
}

std::string Problem(const Status& s, std::string_view prefix = "") {
  return s.ok() ? "" : WithoutPrefix(s.message(), prefix);
}

std::string CheckGitOption(bool is_sink, const std::string& name, const std::string& v) {
  if (name == "timeout" || name == "stall-timeout") {
    auto d = ParseDuration(v);
    if (!d.ok()) return std::string(d.status().message());
    // The git module's range: below a second "1ms" used to round to "no limit".
    if (*d < transfer::MinGitTimeLimit() || *d > transfer::MaxGitTimeLimit()) {
      return "\"" + v + "\" must be between 1s and 24h";
    }
  }
  if (name != "lfs" && name != "depth" && name != "retries" && name != "timeout" &&
      name != "stall-timeout") {
    return "";
  }
  // The git module's own parser, on this option alone.
  std::map<std::string, std::string> one = {{"url", "https://host/owner/repo.git"}, {name, v}};
  return Problem(transfer::CheckGitOptions(is_sink, one), "git option \"" + name + "\": ");
}

bool IsS3OrFlagOption(const std::string& name) {
  return name == "s3-uri" || name == "s3-endpoint" || name == "s3-addressing" ||
         name == "s3-no-check-bucket" || name == "require-checksum" || name == "s3-upload-checksum";
}

// The S3 options, and the two true/false flags; returns a problem or "".
std::string CheckS3Value(const std::string& name, const std::string& v, bool has_ref) {
  if (name == "s3-uri") {
    if (has_ref) return "";
    auto loc = ParseLocation(v);
    if (!loc.ok() || loc->scheme != Scheme::kS3 || loc->authority.empty()) {
      return "\"" + v + "\" is not an S3 URI of the form s3://bucket/path";
    }
  } else if (name == "s3-endpoint") {
    if (has_ref) return "";
    if (!StartsWith(v, "http://") && !StartsWith(v, "https://")) {
      return "\"" + v + "\" is not an http:// or https:// URL";
    }
    // A bucket name every rule accepts, so that only the endpoint can be at fault.
    return Problem(transfer::CheckS3Endpoint("bucket", v, "", ""));
  } else if (name == "s3-addressing") {
    if (!has_ref) return Problem(transfer::CheckS3Addressing(v, name), name + ": ");
  } else if (name == "s3-no-check-bucket" || name == "require-checksum") {
    // Stricter than the backend (which also takes yes/no/1/0): docs/datacube-spec.md documents
    // only "true" and "false" for these two.
    if (v != "true" && v != "false") return "must be \"true\" or \"false\", got \"" + v + "\"";
  } else if (name == "s3-upload-checksum") {
    std::string lower;
    for (char c : v) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!has_ref && !lower.empty() && lower != "auto" && lower != "sha256") {
      return "\"" + v + "\" is not one of auto, sha256";
    }
  }
  return "";
}

// A git repository URL. Its shape is checked even with $(NAME) references, which may only
// stand for the user information (the token); the git module's own rules once none is left.
std::string CheckGitUrl(const std::string& v, bool has_ref) {
  if (!StartsWith(v, "https://") && !StartsWith(v, "http://")) {
    return "\"" + v + "\" is not an https:// repository URL (ssh URLs are not supported)";
  }
  std::string_view rest = std::string_view(v).substr(v.find("://") + 3);
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority = authority.substr(at + 1);
  }
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (authority.empty() || path.empty()) {
    return "\"" + v + "\" must name a host and a repository, e.g. https://host/owner/repo.git";
  }
  // The git module's own URL rules (no query or fragment, ...), once no $(NAME) is left.
  if (!has_ref) return Problem(transfer::CheckGitRemoteUrl(v), "git url: ");
  return "";
}

// A comma-separated list of relative file paths inside the repository.
std::string CheckFileList(const std::string& v) {
  size_t start = 0;
  while (start <= v.size()) {
    size_t comma = v.find(',', start);
    std::string f = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t b = f.find_first_not_of(' '), e = f.find_last_not_of(' ');
    f = b == std::string::npos ? "" : f.substr(b, e - b + 1);
    if (f.empty()) return "has an empty file name in \"" + v + "\"";
    if (f[0] == '/' || f == ".." || StartsWith(f, "../") || f.find("/../") != std::string::npos) {
      return "file \"" + f + "\" must be a relative path inside the repository";
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return "";
}

// The Hugging Face options (repo, repo-type, files); returns a problem or "".
std::string CheckHfValue(EndpointType type, const std::string& name, const std::string& v,
                         bool has_ref) {
  if (name == "repo" && type == EndpointType::kHuggingFace) {
    if (!has_ref) return Problem(transfer::CheckHfRepoId(v), "repo: ");
  } else if (name == "repo-type") {
    if (has_ref) return "";
    // Stricter than the backend, which also takes the plurals.
    if (v != "model" && v != "dataset" && v != "space") {
      return "\"" + v + "\" is not one of model, dataset, space";
    }
  } else if (name == "files") {
    return CheckFileList(v);
  }
  return "";
}

// Checks the value of one option; returns a problem or "". At validation, values with $(NAME)
// references are checked only where the reference cannot change the shape (the git URL's
// userinfo); resolved values have none left to skip.
std::string CheckValue(EndpointType type, bool is_sink, const std::string& name,
                       const std::string& v, bool resolved) {
  bool has_ref = !resolved && v.find("$(") != std::string::npos;
  // Checked the same way whatever the endpoint type, so before the per-type families.
  if (IsS3OrFlagOption(name)) return CheckS3Value(name, v, has_ref);
  if (type == EndpointType::kGit) {
    if (name == "url") return CheckGitUrl(v, has_ref);
    return has_ref ? "" : CheckGitOption(is_sink, name, v);
  }
  return CheckHfValue(type, name, v, has_ref);
}

// Rules between options: the bucket of s3-uri must suit the endpoint (AWS, CoreWeave and
// custom servers accept different names).
void CheckCombination(EndpointType type, const std::map<std::string, std::string>& values,
                      const std::map<std::string, std::string>& paths, Diagnostics& diag) {
  if (type != EndpointType::kS3 || !values.count("s3-uri")) return;
  auto loc = ParseLocation(values.at("s3-uri"));
  if (!loc.ok() || loc->scheme != Scheme::kS3 || loc->authority.empty()) return;
  auto value = [&](const char* name) {
    auto it = values.find(name);
    return it == values.end() ? std::string() : it->second;
  };
  Status s = transfer::CheckS3Endpoint(loc->authority, value("s3-endpoint"), value("s3-region"),
                                       value("s3-addressing"));
  if (!s.ok()) diag.Add(paths.at("s3-uri"), "option \"s3-uri\": " + std::string(s.message()));
}

// Checks every value of `values` (option name -> value, with the field path of each).
void CheckValues(const Endpoint& e, bool is_sink, const std::map<std::string, std::string>& values,
                 const std::map<std::string, std::string>& paths, bool resolved,
                 Diagnostics& diag) {
  for (const auto& [name, value] : values) {
    std::string problem = CheckValue(*e.type, is_sink, name, value, resolved);
    if (!problem.empty()) diag.Add(paths.at(name), "option \"" + name + "\": " + problem);
  }
  std::map<std::string, std::string> literal;
  for (const auto& [name, value] : values) {
    if (resolved || value.find("$(") == std::string::npos) literal[name] = value;
  }
  CheckCombination(*e.type, literal, paths, diag);
}

}  // namespace

void ValidateServiceOptions(const Endpoint& e, bool is_sink, Diagnostics& diag) {
  EndpointType type = *e.type;
  std::vector<std::string_view> names = OptionNamesFor(type, is_sink);
  std::string type_name(EndpointTypeName(type));
  std::string side = is_sink ? "sink" : "source";
  std::set<std::string> seen;
  std::map<std::string, std::string> values;  // literal values, checked together below
  std::map<std::string, std::string> paths;
  for (const NamedValue& o : e.options) {
    if (o.name.empty()) continue;  // reported by the decoder
    const OptionRule* rule = FindOptionRule(type, is_sink, o.name);
    if (rule == nullptr) {
      bool other_side = FindOptionRule(type, !is_sink, o.name) != nullptr;
      diag.Add(o.path + ".name",
               other_side
                   ? "option \"" + o.name + "\" is not used when " + type_name + " is the " + side
                   : "unknown option \"" + o.name + "\" for the " + type_name + " " + side +
                         DidYouMean(o.name, names) + "; accepted: " + JoinNames(names));
      continue;
    }
    if (!seen.insert(o.name).second) {
      diag.Add(o.path + ".name", "option \"" + o.name + "\" is set more than once");
      continue;
    }
    if (rule->literal_only && o.value_from) {
      diag.Add(o.path, "option \"" + o.name + "\" must be a literal value, not valueFrom");
      continue;
    }
    if (!o.value) continue;
    if (o.value->empty() && rule->required) {
      diag.Add(o.path + ".value", "option \"" + o.name + "\" must not be empty");
      continue;
    }
    values[o.name] = *o.value;
    paths[o.name] = o.path + ".value";
  }
  CheckValues(e, is_sink, values, paths, /*resolved=*/false, diag);
  for (const OptionRule& rule : OptionRulesFor(type)) {
    if (!rule.required || !(is_sink ? rule.on_sink : rule.on_source)) continue;
    if (!seen.count(std::string(rule.name))) {
      diag.Add(e.path + ".options", "option \"" + std::string(rule.name) +
                                        "\" is required for the " + type_name + " " + side + " (" +
                                        std::string(rule.doc) + ")");
    }
  }
}

Status CheckResolvedOptions(const DataCube& cube, const ResolvedCube& resolved) {
  const Endpoint* e = cube.service();
  if (e == nullptr || !e->type) return Status();
  std::map<std::string, std::string> values;
  std::map<std::string, std::string> paths;
  for (const NamedValue& o : e->options) {
    auto it = resolved.options.find(o.name);
    if (it == resolved.options.end()) continue;
    values[o.name] = it->second;
    paths[o.name] = o.path + (o.value ? ".value" : ".valueFrom");
  }
  Diagnostics diag;
  CheckValues(*e, e == &cube.sink, values, paths, /*resolved=*/true, diag);
  if (diag.ok()) return Status();
  std::string text;
  for (const FieldError& err : diag.errors()) text += (text.empty() ? "" : "\n") + err.ToString();
  return InvalidArgumentError(text);
}

}  // namespace datacube::cube
