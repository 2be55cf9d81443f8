#include "datacube/cube/expand.h"

#include <cstdint>

namespace datacube::cube {
namespace {

// Walks `input`, calling `on_text` for literal runs and `on_ref` for each "$(NAME)" reference.
template <typename OnText, typename OnRef>
void Scan(std::string_view input, OnText on_text, OnRef on_ref) {
  size_t i = 0;
  while (i < input.size()) {
    size_t dollar = input.find('$', i);
    if (dollar == std::string_view::npos || dollar + 1 >= input.size()) {
      on_text(input.substr(i));
      return;
    }
    on_text(input.substr(i, dollar - i));
    char next = input[dollar + 1];
    if (next == '$') {  // "$$" -> "$"
      on_text("$");
      i = dollar + 2;
    } else if (next == '(') {
      size_t close = input.find(')', dollar + 2);
      if (close == std::string_view::npos) {  // unterminated: literal to the end
        on_text(input.substr(dollar));
        return;
      }
      on_ref(input.substr(dollar + 2, close - dollar - 2),
             input.substr(dollar, close - dollar + 1));
      i = close + 1;
    } else {
      on_text(input.substr(dollar, 2));
      i = dollar + 2;
    }
  }
}

}  // namespace

std::string ExpandReferences(std::string_view input, const VariableLookup& lookup) {
  std::string out;
  Scan(
      input, [&](std::string_view text) { out += text; },
      [&](std::string_view name, std::string_view whole) {
        std::optional<std::string> value = name.empty() ? std::nullopt : lookup(name);
        out += value ? std::string_view(*value) : whole;
      });
  return out;
}

std::optional<std::string> ExpandReferencesBounded(std::string_view input,
                                                   const VariableLookup& lookup, size_t max_bytes) {
  std::string out;
  bool too_big = false;
  auto append = [&](std::string_view text) {
    if (too_big || text.size() > max_bytes - out.size()) {
      too_big = true;
      return;
    }
    out += text;
  };
  Scan(input, append, [&](std::string_view name, std::string_view whole) {
    if (too_big) return;
    std::optional<std::string> value = name.empty() ? std::nullopt : lookup(name);
    append(value ? std::string_view(*value) : whole);
  });
  if (too_big) return std::nullopt;
  return out;
}

size_t ExpandedSize(std::string_view input, const SizeLookup& size_of) {
  size_t total = 0;
  auto add = [&](size_t n) { total = n > SIZE_MAX - total ? SIZE_MAX : total + n; };
  Scan(
      input, [&](std::string_view text) { add(text.size()); },
      [&](std::string_view name, std::string_view whole) {
        std::optional<size_t> n = name.empty() ? std::nullopt : size_of(name);
        add(n ? *n : whole.size());
      });
  return total;
}

std::vector<std::string> ReferencedNames(std::string_view input) {
  std::vector<std::string> out;
  Scan(
      input, [](std::string_view) {},
      [&](std::string_view name, std::string_view) {
        if (!name.empty()) out.emplace_back(name);
      });
  return out;
}

}  // namespace datacube::cube
