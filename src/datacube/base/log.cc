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
  LogConfig config;                 // guarded by mu
  std::function<void()> before;     // guarded by mu
  std::function<void()> after;      // guarded by mu
};

LogState& State() {
  static LogState state;
  return state;
}

std::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
    case LogLevel::kQuiet: return "quiet";
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

std::string JsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

void Log(LogLevel level, std::string_view message, const LogFields& fields) {
  auto& st = State();
  std::lock_guard<std::mutex> lock(st.mu);
  if (level < st.config.level) return;
  std::string line;
  if (st.config.format == LogFormat::kJson) {
    line = "{\"time\":\"" + Rfc3339Now() + "\",\"level\":\"" + std::string(LevelName(level)) +
           "\",\"msg\":\"" + JsonEscape(message) + "\"";
    for (const auto& [k, v] : fields) line += ",\"" + JsonEscape(k) + "\":\"" + JsonEscape(v) + "\"";
    line += "}\n";
  } else {
    line = level >= LogLevel::kWarn ? std::string(LevelName(level)) + ": " : std::string();
    line += message;
    for (const auto& [k, v] : fields) line += " " + k + "=" + v;
    line += "\n";
  }
  line = Redact(line);
  if (st.before) st.before();
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
  if (st.after) st.after();
}

}  // namespace datacube
