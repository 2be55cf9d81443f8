// Helpers shared by the fuzz targets: turning libFuzzer's bytes into the inputs a parser sees.
#pragma once

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "datacube/http/http_transport.h"

namespace datacube::fuzz {

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

// An HTTP answer written as text, so that seeds stay readable: header lines ("Name: value")
// up to the first empty line, then the body. Input without an empty line is all body. Names
// are lower-cased and values trimmed, as the transport hands them over.
inline http::HttpResponse ParseResponseText(std::string_view text, int status) {
  http::HttpResponse r;
  r.status = status;
  size_t split = text.find("\n\n");
  if (split == std::string_view::npos) {
    r.body = std::string(text);
    return r;
  }
  std::string_view head = text.substr(0, split);
  r.body = std::string(text.substr(split + 2));
  while (!head.empty()) {
    size_t eol = head.find('\n');
    std::string_view line = head.substr(0, eol);
    head = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 1);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
      value.remove_prefix(1);
    }
    while (!value.empty() &&
           (value.back() == ' ' || value.back() == '\t' || value.back() == '\r')) {
      value.remove_suffix(1);
    }
    r.headers.emplace_back(std::move(name), std::string(value));
  }
  return r;
}

// A property every input must keep; a violation is a finding like a crash.
inline void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz property violated: %s\n", what);
  std::abort();
}

}  // namespace datacube::fuzz
