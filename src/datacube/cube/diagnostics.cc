#include "datacube/cube/diagnostics.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "datacube/base/log.h"

namespace datacube::cube {

namespace {

// Paths and messages quote what the spec said (an unknown key, a bad value); control characters
// in them are shown as \xNN so that an error can never forge a log line or drive a terminal.
std::string EscapeControls(std::string_view s) { return EscapeControlChars(s); }

}  // namespace

std::string FieldError::ToString() const {
  return EscapeControls(path.empty() ? message : path + ": " + message);
}

void Diagnostics::Add(std::string path, std::string message, int line, int column) {
  errors_.push_back({std::move(path), std::move(message), line, column});
}

bool Diagnostics::HasErrorAt(std::string_view path) const {
  return std::any_of(errors_.begin(), errors_.end(),
                     [&](const FieldError& e) { return e.path == path; });
}

Status Diagnostics::ToStatus(std::string_view source_name) const {
  if (errors_.empty()) return Status();
  std::string text = std::to_string(errors_.size()) + " error" + (errors_.size() == 1 ? "" : "s") +
                     " in " + std::string(source_name) + ":";
  for (const auto& e : errors_) {
    text += "\n  ";
    if (e.line > 0) {
      text += std::string(source_name) + ":" + std::to_string(e.line) + ":" +
              std::to_string(e.column) + ": ";
    }
    text += e.ToString();
  }
  return InvalidArgumentError(std::move(text));
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = above;
    }
  }
  return row[b.size()];
}

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string ClosestMatch(std::string_view word, std::span<const std::string_view> candidates) {
  std::string best;
  // Edit distance is quadratic; no field name is this long, so no typo of one is either.
  if (word.size() > 128) return best;
  size_t best_distance = std::max<size_t>(1, word.size() / 3) + 1;
  for (std::string_view c : candidates) {
    // "subpath" for "subPath" or "S3-URI" for "s3-uri" is a case slip: always suggest it.
    size_t d = Lower(c) == Lower(word) ? 0 : EditDistance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = std::string(c);
    }
  }
  return best;
}

std::string DidYouMean(std::string_view word, std::span<const std::string_view> candidates) {
  std::string match = ClosestMatch(word, candidates);
  return match.empty() ? "" : " (did you mean \"" + match + "\"?)";
}

std::string JoinNames(std::span<const std::string_view> names) {
  std::string out;
  for (std::string_view n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

}  // namespace datacube::cube
