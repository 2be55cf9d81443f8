// What the remote advertises (`git ls-remote --symref`) and which of it a requested ref means.
//
// Resolution is a pure function so every rule is unit-tested:
//   1. empty or "master" that the remote lacks -> the remote's default branch (HEAD), with a
//      message saying so (a DataCube's default ref is "master"; many repositories use "main");
//   2. "refs/..." -> exactly that ref;
//   3. a branch name, then a tag name;
//   4. 7 to 40 hex digits -> a commit;
//   5. otherwise kNotFound naming some branches and tags that do exist.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "datacube/base/result.h"

namespace datacube::git {

struct RemoteRefs {
  // Full ref name -> object id, e.g. "refs/heads/main" -> "3f2a...". Peeled tag entries ("^{}")
  // are folded into `peeled`.
  std::map<std::string, std::string> refs;
  // Annotated tag name -> the commit it points to.
  std::map<std::string, std::string> peeled;
  // What HEAD points to, e.g. "refs/heads/main"; empty when not advertised.
  std::string head;
};

// Parses the output of `git ls-remote --symref URL`.
Result<RemoteRefs> ParseLsRemote(std::string_view output);

enum class RefKind { kBranch, kTag, kCommit, kOther };

struct ResolvedRef {
  RefKind kind = RefKind::kBranch;
  // Branch or tag short name; for kCommit the hex given; for kOther the full ref name.
  std::string name;
  // Full ref name on the remote ("refs/heads/main"); empty for kCommit.
  std::string refname;
  // Object id the remote advertises for the ref (for an annotated tag: the tag object); for
  // kCommit the hex as given (maybe abbreviated).
  std::string oid;
  // Set when `master` was asked for (or defaulted to) and the default branch is used instead.
  bool fell_back = false;
  // Human-readable note for the status, e.g. the fallback.
  std::string message;
};

// Decides what `requested` means on a remote advertising `refs`. `url` is only for messages.
Result<ResolvedRef> ResolveRef(const RemoteRefs& refs, std::string_view requested,
                               std::string_view url);

// True for 7..40 hexadecimal characters.
bool LooksLikeCommitId(std::string_view s);

}  // namespace datacube::git
