#include "datacube/base/glob.h"

namespace datacube {
namespace {

constexpr size_t kMaxGlobBytes = 4096;
constexpr size_t kMaxGlobAlternatives = 1024;

// Expands the first {a,b} group recursively. Nested braces are handled by recursion on the
// expanded strings.
Status ExpandBraces(const std::string& p, std::vector<std::string>& out, std::string_view whole) {
  size_t open = p.find('{');
  if (open == std::string::npos) {
    if (p.find('}') != std::string::npos) {
      return InvalidArgumentError("glob \"" + std::string(whole) + "\": unmatched '}'");
    }
    out.push_back(p);
    return Status();
  }
  int depth = 0;
  size_t close = std::string::npos;
  std::vector<size_t> commas;
  for (size_t i = open; i < p.size(); ++i) {
    if (p[i] == '{') ++depth;
    if (p[i] == '}' && --depth == 0) {
      close = i;
      break;
    }
    if (p[i] == ',' && depth == 1) commas.push_back(i);
  }
  if (close == std::string::npos) {
    return InvalidArgumentError("glob \"" + std::string(whole) + "\": unmatched '{'");
  }
  // "{a,b}{a,b}..." doubles with every group.
  if (out.size() + commas.size() + 1 > kMaxGlobAlternatives) {
    return InvalidArgumentError("glob \"" + std::string(whole) + "\": more than " +
                                std::to_string(kMaxGlobAlternatives) + " {a,b} alternatives");
  }
  size_t start = open + 1;
  commas.push_back(close);
  for (size_t c : commas) {
    std::string alt = p.substr(0, open) + p.substr(start, c - start) + p.substr(close + 1);
    DC_RETURN_IF_ERROR(ExpandBraces(alt, out, whole));
    start = c + 1;
  }
  return Status();
}

// Matches a bracket expression at p[pi] ('[') against c; sets `next` past the ']'.
bool MatchClass(std::string_view p, size_t pi, char c, size_t& next) {
  size_t i = pi + 1;
  bool negate = i < p.size() && (p[i] == '!' || p[i] == '^');
  if (negate) ++i;
  bool matched = false;
  bool first = true;
  while (i < p.size() && (p[i] != ']' || first)) {
    first = false;
    if (i + 2 < p.size() && p[i + 1] == '-' && p[i + 2] != ']') {
      if (c >= p[i] && c <= p[i + 2]) matched = true;
      i += 3;
    } else {
      if (c == p[i]) matched = true;
      ++i;
    }
  }
  next = i + 1;
  return matched != negate;
}

// Backtracking matcher with separate handling of '*' (no '/') and '**'. Patterns come from
// specs and flags, so backtracking is memoised: each (star, position in the path) pair is tried
// at most once, which keeps "*a*a*a*a*b" against a long name polynomial instead of exponential.
struct Matcher {
  std::string_view p;
  std::string_view s;
  std::vector<bool> failed;  // [pi * (s.size() + 1) + si] for pi at a star: known not to match

  bool KnownFailed(size_t pi, size_t si) {
    if (failed.empty()) failed.assign((p.size() + 1) * (s.size() + 1), false);
    return failed[pi * (s.size() + 1) + si];
  }
  void MarkFailed(size_t pi, size_t si) { failed[pi * (s.size() + 1) + si] = true; }
  bool MatchAt(size_t pi, size_t si);
};

bool Matcher::MatchAt(size_t pi, size_t si) {
  while (pi < p.size()) {
    char pc = p[pi];
    if (pc == '*') {
      if (KnownFailed(pi, si)) return false;
      bool doubled = pi + 1 < p.size() && p[pi + 1] == '*';
      size_t rest = pi + (doubled ? 2 : 1);
      // "**/" also matches zero directories.
      if (doubled && rest < p.size() && p[rest] == '/' && MatchAt(rest + 1, si)) return true;
      for (size_t k = si; k <= s.size(); ++k) {
        if (MatchAt(rest, k)) return true;
        if (k < s.size() && s[k] == '/' && !doubled) break;
      }
      MarkFailed(pi, si);
      return false;
    }
    if (si >= s.size()) return false;
    if (pc == '?') {
      if (s[si] == '/') return false;
      ++pi;
      ++si;
    } else if (pc == '[') {
      size_t next;
      if (s[si] == '/' || !MatchClass(p, pi, s[si], next)) return false;
      pi = next;
      ++si;
    } else if (pc == '\\' && pi + 1 < p.size()) {
      if (p[pi + 1] != s[si]) return false;
      pi += 2;
      ++si;
    } else {
      if (pc != s[si]) return false;
      ++pi;
      ++si;
    }
  }
  return si == s.size();
}

}  // namespace

Result<GlobPattern> GlobPattern::Compile(std::string_view pattern) {
  if (pattern.empty()) return InvalidArgumentError("glob pattern is empty");
  if (pattern.size() > kMaxGlobBytes) {
    return InvalidArgumentError("glob pattern is longer than " + std::to_string(kMaxGlobBytes) +
                                " bytes");
  }
  int depth = 0;
  for (char c : pattern) {
    if (c == '[') ++depth;
    if (c == ']' && depth > 0) --depth;
  }
  if (depth != 0) {
    return InvalidArgumentError("glob \"" + std::string(pattern) + "\": unmatched '['");
  }
  GlobPattern g;
  g.pattern_ = std::string(pattern);
  std::vector<std::string> expanded;
  DC_RETURN_IF_ERROR(ExpandBraces(g.pattern_, expanded, pattern));
  for (auto& alt : expanded) {
    // Unanchored patterns match at any directory boundary: prefix with "**/".
    if (!alt.empty() && alt[0] == '/') {
      g.alternatives_.push_back(alt.substr(1));
    } else {
      g.alternatives_.push_back("**/" + alt);
    }
  }
  return g;
}

bool GlobPattern::Matches(std::string_view path) const {
  for (const auto& alt : alternatives_) {
    Matcher m{alt, path, {}};
    if (m.MatchAt(0, 0)) return true;
  }
  return false;
}

Status PathFilter::AddInclude(std::string_view pattern) {
  DC_ASSIGN_OR_RETURN(auto g, GlobPattern::Compile(pattern));
  includes_.push_back(std::move(g));
  return Status();
}

Status PathFilter::AddExclude(std::string_view pattern) {
  DC_ASSIGN_OR_RETURN(auto g, GlobPattern::Compile(pattern));
  excludes_.push_back(std::move(g));
  return Status();
}

bool PathFilter::Selected(std::string_view path) const {
  for (const auto& g : excludes_) {
    if (g.Matches(path)) return false;
  }
  if (includes_.empty()) return true;
  for (const auto& g : includes_) {
    if (g.Matches(path)) return true;
  }
  return false;
}

}  // namespace datacube
