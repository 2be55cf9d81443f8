// Validation errors of a DataCube: every problem found, each with the field path it is about.
//
// Decoding and validation never stop at the first problem; they add to a Diagnostics and the
// caller reports them all at once, so one run of validate-cube shows everything to fix. A field
// path is written the way kubectl explains fields: "spec.source.options[2].valueFrom".
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "datacube/base/status.h"

namespace datacube::cube {

struct FieldError {
  std::string path;     // "spec.sink.type"; empty for problems of the whole document
  std::string message;  // what was wrong and what was expected
  int line = 0;         // position in the source file, 0 when unknown
  int column = 0;

  // "spec.sink.type: \"ftp\" is not one of pvc, git, huggingface, s3".
  std::string ToString() const;
};

class Diagnostics {
 public:
  void Add(std::string path, std::string message, int line = 0, int column = 0);
  bool ok() const { return errors_.empty(); }
  const std::vector<FieldError>& errors() const { return errors_; }

  // True when an error was recorded for exactly `path`.
  bool HasErrorAt(std::string_view path) const;

  // One kInvalidArgument status listing every error, one per line, each prefixed with
  // "<source>:<line>:<column>: " when the position is known. OK when there are no errors.
  Status ToStatus(std::string_view source_name) const;

 private:
  std::vector<FieldError> errors_;
};

// Levenshtein distance, for suggestions.
size_t EditDistance(std::string_view a, std::string_view b);

// The candidate closest to `word` when it is close enough to be a likely typo (distance at most
// a third of the word's length, at least 1; case differences count as close), else "".
std::string ClosestMatch(std::string_view word, std::span<const std::string_view> candidates);

// " (did you mean \"subPath\"?)" or "".
std::string DidYouMean(std::string_view word, std::span<const std::string_view> candidates);

// "pvc, git, huggingface, s3".
std::string JoinNames(std::span<const std::string_view> names);

}  // namespace datacube::cube
