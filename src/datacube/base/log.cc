#include "datacube/base/log.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "datacube/base/secret.h"

namespace datacube {
namespace {

struct LogState {
  std::mutex mu;
  LogConfig config;              // guarded by mu
  std::function<void()> before;  // guarded by mu
  std::function<void()> after;   // guarded by mu
};

LogState& State() {
  static LogState state;
  return state;
}

std::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
    case LogLevel::kQuiet:
      return "quiet";
  }
  return "info";
}

std::string Rfc3339Now() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms.count()));
  return buf;
}

}  // namespace

void SetLogConfig(LogConfig config) {
  std::lock_guard<std::mutex> lock(State().mu);
  State().config = config;
}

LogConfig GetLogConfig() {
  std::lock_guard<std::mutex> lock(State().mu);
  return State().config;
}

void SetLogLineHooks(std::function<void()> before, std::function<void()> after) {
  std::lock_guard<std::mutex> lock(State().mu);
  State().before = std::move(before);
  State().after = std::move(after);
}

namespace {

// Length of the valid UTF-8 sequence starting at s[i] (1-4), or 0 when the byte there does not
// start one (a stray continuation byte, an overlong form, a surrogate, a truncated sequence or
// a code point above U+10FFFF). The code point goes to *cp.
size_t Utf8SequenceAt(std::string_view s, size_t i, uint32_t* cp) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  size_t len;
  uint32_t value;
  uint32_t min;
  if (c < 0x80) {
    *cp = c;
    return 1;
  } else if ((c & 0xe0) == 0xc0) {
    len = 2, value = c & 0x1f, min = 0x80;
  } else if ((c & 0xf0) == 0xe0) {
    len = 3, value = c & 0x0f, min = 0x800;
  } else if ((c & 0xf8) == 0xf0) {
    len = 4, value = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((b(k) & 0xc0) != 0x80) return 0;
    value = (value << 6) | (b(k) & 0x3f);
  }
  if (value < min || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) return 0;
  *cp = value;
  return len;
}

// Code points a terminal may act on although they are not ASCII controls: the C1 controls
// (U+0080-U+009F, e.g. the one-byte CSI) and the bidirectional embeddings, overrides and
// isolates that reorder what is displayed.
bool IsInvisibleControl(uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
         (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e || cp == 0x200f;
}

void AppendHexByte(std::string& out, std::string_view prefix, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += prefix;
  out += kHex[c >> 4];
  out += kHex[c & 0xf];
}

}  // namespace

std::string JsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        ++i;
        continue;
      case '\\':
        out += "\\\\";
        ++i;
        continue;
      case '\n':
        out += "\\n";
        ++i;
        continue;
      case '\r':
        out += "\\r";
        ++i;
        continue;
      case '\t':
        out += "\\t";
        ++i;
        continue;
      default:
        break;
    }
    if (c < 0x20 || c == 0x7f) {
      AppendHexByte(out, "\\u00", c);
      ++i;
      continue;
    }
    uint32_t cp = 0;
    size_t len = Utf8SequenceAt(s, i, &cp);
    if (len == 0) {
      out += "\\ufffd";  // JSON strings are Unicode: an invalid byte has no exact form
      ++i;
      continue;
    }
    out.append(s.substr(i, len));
    i += len;
  }
  return out;
}

std::string EscapeForDisplay(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '\n':
        out += "\\n";
        ++i;
        continue;
      case '\r':
        out += "\\r";
        ++i;
        continue;
      case '\t':
        out += "\\t";
        ++i;
        continue;
      default:
        break;
    }
    if (c < 0x20 || c == 0x7f) {
      AppendHexByte(out, "\\x", c);
      ++i;
      continue;
    }
    uint32_t cp = 0;
    size_t len = Utf8SequenceAt(s, i, &cp);
    if (len == 0) {
      AppendHexByte(out, "\\x", c);
      ++i;
      continue;
    }
    if (IsInvisibleControl(cp)) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "\\u{%04x}", static_cast<unsigned>(cp));
      out += buf;
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  return out;
}

void Log(LogLevel level, std::string_view message, const LogFields& fields) {
  auto& st = State();
  std::lock_guard<std::mutex> lock(st.mu);
  if (level < st.config.level) return;
  // Secrets are redacted before escaping (the escaped form of a secret would no longer match),
  // and every piece is escaped, so one record is always one line: a name or a server message
  // holding a newline or a terminal escape cannot forge log lines or drive the terminal.
  std::string line;
  if (st.config.format == LogFormat::kJson) {
    line = "{\"time\":\"" + Rfc3339Now() + "\",\"level\":\"" + std::string(LevelName(level)) +
           "\",\"msg\":\"" + JsonEscape(Redact(message)) + "\"";
    for (const auto& [k, v] : fields) {
      line += ",\"" + JsonEscape(Redact(k)) + "\":\"" + JsonEscape(Redact(v)) + "\"";
    }
    line += "}\n";
  } else {
    line = level >= LogLevel::kWarn ? std::string(LevelName(level)) + ": " : std::string();
    line += EscapeForDisplay(Redact(message));
    for (const auto& [k, v] : fields) {
      line += " " + EscapeForDisplay(Redact(k)) + "=" + EscapeForDisplay(Redact(v));
    }
    line += "\n";
  }
  if (st.before) st.before();
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
  if (st.after) st.after();
}

namespace {

void AppendHexEscape(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\x";
  out += kHex[c >> 4];
  out += kHex[c & 0xf];
}

}  // namespace

std::string EscapeControlChars(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) {
      AppendHexEscape(out, c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string QuoteEscaped(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          AppendHexEscape(out, c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

}  // namespace datacube
