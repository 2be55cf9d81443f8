#include "datacube/base/units.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>

namespace datacube {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Reads a non-negative decimal number (digits with an optional fraction) from the front of `s`.
bool TakeNumber(std::string_view& s, double& out) {
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == 0) return false;
  std::string num(s.substr(0, i));
  if (num.find('.') != num.rfind('.')) return false;
  char* end = nullptr;
  out = std::strtod(num.c_str(), &end);
  if (end != num.c_str() + num.size()) return false;
  s.remove_prefix(i);
  return true;
}

}  // namespace

Result<uint64_t> ParseSize(std::string_view text) {
  std::string_view s = text;
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  double number = 0;
  auto bad = [&] {
    return InvalidArgumentError("invalid size \"" + std::string(text) +
                                "\": expected a number with an optional unit like 64M, 1Gi, "
                                "512KiB or 10MB");
  };
  if (!TakeNumber(s, number)) return bad();
  std::string unit = Lower(s);
  double mult = 1;
  if (unit.empty() || unit == "b") {
    mult = 1;
  } else {
    static constexpr std::string_view kPrefixes = "kmgtp";
    size_t idx = kPrefixes.find(unit[0]);
    if (idx == std::string_view::npos) return bad();
    std::string rest = unit.substr(1);
    double base;
    if (rest.empty() || rest == "i" || rest == "ib") {
      base = 1024;
    } else if (rest == "b") {
      base = 1000;
    } else {
      return bad();
    }
    mult = std::pow(base, static_cast<double>(idx + 1));
  }
  double bytes = number * mult;
  if (!(bytes <= static_cast<double>(std::numeric_limits<uint64_t>::max() / 2))) {
    return InvalidArgumentError("size \"" + std::string(text) + "\" is too large");
  }
  return static_cast<uint64_t>(std::llround(bytes));
}

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  std::string_view s = text;
  auto bad = [&] {
    return InvalidArgumentError("invalid duration \"" + std::string(text) +
                                "\": expected seconds (600) or a value like 250ms, 10m, 1h30m");
  };
  if (s.empty()) return bad();
  // Checked before converting: llround of a value beyond int64 is undefined.
  auto finish = [&](double ms) -> Result<std::chrono::milliseconds> {
    if (!(ms <= static_cast<double>(kMaxDuration.count()))) {
      return InvalidArgumentError("duration \"" + std::string(text) +
                                  "\" is too long (at most 366 days)");
    }
    return std::chrono::milliseconds(std::llround(ms));
  };
  double total_ms = 0;
  double number = 0;
  if (!TakeNumber(s, number)) return bad();
  if (s.empty()) return finish(number * 1000);
  while (true) {
    size_t i = 0;
    while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
    std::string unit = Lower(s.substr(0, i));
    s.remove_prefix(i);
    double mult;
    if (unit == "ms")
      mult = 1;
    else if (unit == "s")
      mult = 1000;
    else if (unit == "m")
      mult = 60'000;
    else if (unit == "h")
      mult = 3'600'000;
    else if (unit == "d")
      mult = 86'400'000;
    else
      return bad();
    total_ms += number * mult;
    if (s.empty()) break;
    if (!TakeNumber(s, number)) return bad();
    if (s.empty()) return bad();  // "1h30" is ambiguous
  }
  return finish(total_ms);
}

std::string FormatBytes(uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[u]);
  }
  return buf;
}

std::string FormatDuration(std::chrono::milliseconds d) {
  long long ms = d.count();
  char buf[48];
  if (ms < 1000) {
    std::snprintf(buf, sizeof buf, "%lldms", ms);
  } else if (ms < 60'000) {
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000);
  } else {
    long long s = ms / 1000;
    if (s >= 3600) {
      std::snprintf(buf, sizeof buf, "%lldh%02lldm%02llds", s / 3600, (s / 60) % 60, s % 60);
    } else {
      std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
    }
  }
  return buf;
}

}  // namespace datacube
