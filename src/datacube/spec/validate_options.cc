// Per-type checks of a service endpoint's options (the table is option_rules.cc).
#include <map>
#include <regex>
#include <set>

#include "datacube/location/location.h"
#include "datacube/spec/option_rules.h"
#include "datacube/spec/validate.h"

namespace datacube::spec {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Checks the literal value of one option; returns a problem or "". Values with $(NAME)
// references are checked only where the reference cannot change the shape (the git URL's
// userinfo).
std::string CheckValue(EndpointType type, std::string_view name, const std::string& v) {
  bool has_ref = v.find("$(") != std::string::npos;
  if (name == "s3-uri") {
    if (has_ref) return "";
    auto loc = ParseLocation(v);
    if (!loc.ok() || loc->scheme != Scheme::kS3 || loc->authority.empty()) {
      return "\"" + v + "\" is not an S3 URI of the form s3://bucket/path";
    }
  } else if (name == "s3-endpoint") {
    if (!has_ref && !StartsWith(v, "http://") && !StartsWith(v, "https://")) {
      return "\"" + v + "\" is not an http:// or https:// URL";
    }
  } else if (name == "s3-no-check-bucket") {
    if (v != "true" && v != "false") return "must be \"true\" or \"false\", got \"" + v + "\"";
  } else if (name == "url" && type == EndpointType::kGit) {
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
  } else if (name == "repo" && type == EndpointType::kHuggingFace) {
    static const std::regex kRepo("[A-Za-z0-9][-A-Za-z0-9_.]*/[A-Za-z0-9][-A-Za-z0-9_.]*");
    if (!has_ref && !std::regex_match(v, kRepo)) {
      return "\"" + v + "\" is not a repository id such as org/name";
    }
  } else if (name == "repo-type") {
    if (v != "model" && v != "dataset" && v != "space") {
      return "\"" + v + "\" is not one of model, dataset, space";
    }
  } else if (name == "files") {
    size_t start = 0;
    while (start <= v.size()) {
      size_t comma = v.find(',', start);
      std::string f =
          v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      size_t b = f.find_first_not_of(' '), e = f.find_last_not_of(' ');
      f = b == std::string::npos ? "" : f.substr(b, e - b + 1);
      if (f.empty()) return "has an empty file name in \"" + v + "\"";
      if (f[0] == '/' || f == ".." || StartsWith(f, "../") || f.find("/../") != std::string::npos) {
        return "file \"" + f + "\" must be a relative path inside the repository";
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return "";
}

}  // namespace

void ValidateServiceOptions(const Endpoint& e, bool is_sink, Diagnostics& diag) {
  EndpointType type = *e.type;
  std::vector<std::string_view> names = OptionNamesFor(type, is_sink);
  std::string type_name(EndpointTypeName(type));
  std::string side = is_sink ? "sink" : "source";
  std::set<std::string> seen;
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
    std::string problem = CheckValue(type, o.name, *o.value);
    if (!problem.empty()) diag.Add(o.path + ".value", "option \"" + o.name + "\": " + problem);
  }
  for (const OptionRule& rule : OptionRulesFor(type)) {
    if (!rule.required || !(is_sink ? rule.on_sink : rule.on_source)) continue;
    if (!seen.count(std::string(rule.name))) {
      diag.Add(e.path + ".options", "option \"" + std::string(rule.name) +
                                        "\" is required for the " + type_name + " " + side + " (" +
                                        std::string(rule.doc) + ")");
    }
  }
}

}  // namespace datacube::spec
