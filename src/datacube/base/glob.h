// Glob patterns for --include/--exclude, with rclone's meaning:
//   *   any run of characters except '/'
//   **  any run of characters including '/'
//   ?   one character except '/'
//   [abc], [a-z], [!a]  one character from (or not from) a set
//   {a,b}  alternatives
// A pattern that starts with '/' is anchored at the root of the transfer; otherwise it matches
// the final path components ("*.json" matches "a/b/c.json").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "datacube/base/result.h"

namespace datacube {

class GlobPattern {
 public:
  // Fails with kInvalidArgument naming the pattern when brackets or braces are unbalanced.
  static Result<GlobPattern> Compile(std::string_view pattern);

  bool Matches(std::string_view path) const;
  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;
  std::vector<std::string> alternatives_;  // brace-expanded, each anchored
};

// Ordered include/exclude rules. A path is selected when it matches no exclude and either there
// are no includes or it matches one. (rclone's first-match rule lists are richer; this covers the
// common `--include '*.safetensors' --exclude 'tmp/**'` use and is documented as such.)
class PathFilter {
 public:
  Status AddInclude(std::string_view pattern);
  Status AddExclude(std::string_view pattern);
  bool Selected(std::string_view path) const;
  bool empty() const { return includes_.empty() && excludes_.empty(); }

 private:
  std::vector<GlobPattern> includes_;
  std::vector<GlobPattern> excludes_;
};

}  // namespace datacube
