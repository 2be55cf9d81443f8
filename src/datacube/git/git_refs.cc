#include "datacube/git/git_refs.h"

#include <cctype>

namespace datacube::git {
namespace {

constexpr std::string_view kHeads = "refs/heads/";
constexpr std::string_view kTags = "refs/tags/";
constexpr std::string_view kDefaultRef = "master";

std::string Examples(const RemoteRefs& refs, std::string_view prefix, size_t max) {
  std::string out;
  size_t n = 0;
  for (const auto& [name, oid] : refs.refs) {
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    if (n == max) {
      out += ", ...";
      break;
    }
    if (n++ > 0) out += ", ";
    out += name.substr(prefix.size());
  }
  return out.empty() ? "none" : out;
}

}  // namespace

bool LooksLikeCommitId(std::string_view s) {
  if (s.size() < 7 || s.size() > 40) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

Result<RemoteRefs> ParseLsRemote(std::string_view output) {
  RemoteRefs refs;
  size_t start = 0;
  while (start < output.size()) {
    size_t end = output.find('\n', start);
    if (end == std::string_view::npos) end = output.size();
    std::string_view line = output.substr(start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    size_t tab = line.find('\t');
    if (tab == std::string_view::npos) {
      return InternalError("unexpected line from git ls-remote: \"" + std::string(line) + "\"");
    }
    std::string_view left = line.substr(0, tab), name = line.substr(tab + 1);
    if (left.substr(0, 5) == "ref: ") {
      if (name == "HEAD") refs.head = std::string(left.substr(5));
      continue;
    }
    if (name.size() > 3 && name.substr(name.size() - 3) == "^{}") {
      refs.peeled[std::string(name.substr(0, name.size() - 3))] = std::string(left);
    } else {
      refs.refs[std::string(name)] = std::string(left);
    }
  }
  return refs;
}

Result<ResolvedRef> ResolveRef(const RemoteRefs& refs, std::string_view requested,
                               std::string_view url) {
  ResolvedRef r;
  bool defaulted = requested.empty();
  std::string want = defaulted ? std::string(kDefaultRef) : std::string(requested);
  auto find = [&](const std::string& full) -> const std::string* {
    auto it = refs.refs.find(full);
    return it == refs.refs.end() ? nullptr : &it->second;
  };
  auto branch = [&](const std::string& name, const std::string& oid) {
    r.kind = RefKind::kBranch;
    r.name = name;
    r.refname = std::string(kHeads) + name;
    r.oid = oid;
  };
  if (want == "HEAD") {
    if (refs.head.compare(0, kHeads.size(), kHeads) != 0 || !find(refs.head)) {
      return NotFoundError(std::string(url) + " does not advertise a default branch (HEAD)");
    }
    branch(refs.head.substr(kHeads.size()), *find(refs.head));
    return r;
  }
  if (want.compare(0, 5, "refs/") == 0) {
    const std::string* oid = find(want);
    if (!oid) return NotFoundError("ref \"" + want + "\" not found on " + std::string(url));
    if (want.compare(0, kHeads.size(), kHeads) == 0) {
      branch(want.substr(kHeads.size()), *oid);
    } else {
      r.kind = want.compare(0, kTags.size(), kTags) == 0 ? RefKind::kTag : RefKind::kOther;
      r.name = r.kind == RefKind::kTag ? want.substr(kTags.size()) : want;
      r.refname = want;
      r.oid = *oid;
    }
    return r;
  }
  if (const std::string* oid = find(std::string(kHeads) + want)) {
    branch(want, *oid);
    return r;
  }
  if (const std::string* oid = find(std::string(kTags) + want)) {
    r.kind = RefKind::kTag;
    r.name = want;
    r.refname = std::string(kTags) + want;
    r.oid = *oid;
    return r;
  }
  if (LooksLikeCommitId(want)) {
    r.kind = RefKind::kCommit;
    r.name = want;
    r.oid = want;
    return r;
  }
  if (want == kDefaultRef) {
    if (refs.refs.empty()) {
      return NotFoundError(std::string(url) + " has no branches (an empty repository)");
    }
    if (refs.head.compare(0, kHeads.size(), kHeads) == 0 && find(refs.head)) {
      branch(refs.head.substr(kHeads.size()), *find(refs.head));
      r.fell_back = true;
      r.message = "branch \"master\" does not exist on " + std::string(url) +
                  (defaulted ? " (ref defaults to master)" : "") +
                  "; checked out the remote's default branch \"" + r.name + "\" instead";
      return r;
    }
  }
  return NotFoundError("ref \"" + want + "\" is neither a branch, a tag nor a commit id on " +
                       std::string(url) + " (branches: " + Examples(refs, kHeads, 8) +
                       "; tags: " + Examples(refs, kTags, 8) + ")");
}

}  // namespace datacube::git
