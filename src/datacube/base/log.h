// Process-wide logging to stderr, as text or JSON lines. Every line passes through Redact(), so a
// secret registered with RegisterSecretForRedaction() cannot reach the log even when it slipped
// into a message.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace datacube {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kQuiet = 4 };
enum class LogFormat { kText, kJson };

struct LogConfig {
  LogLevel level = LogLevel::kInfo;
  LogFormat format = LogFormat::kText;
};

void SetLogConfig(LogConfig config);
LogConfig GetLogConfig();

// A hook called (under the log lock) before and after each line is written, so a live progress
// bar on the same terminal can erase and redraw itself around log output.
void SetLogLineHooks(std::function<void()> before, std::function<void()> after);

using LogFields = std::vector<std::pair<std::string, std::string>>;

void Log(LogLevel level, std::string_view message, const LogFields& fields = {});
inline void LogDebug(std::string_view m, const LogFields& f = {}) { Log(LogLevel::kDebug, m, f); }
inline void LogInfo(std::string_view m, const LogFields& f = {}) { Log(LogLevel::kInfo, m, f); }
inline void LogWarn(std::string_view m, const LogFields& f = {}) { Log(LogLevel::kWarn, m, f); }
inline void LogError(std::string_view m, const LogFields& f = {}) { Log(LogLevel::kError, m, f); }

// Escapes a string for inclusion in a JSON string literal (without the quotes). Control
// characters and DEL become \u00XX; a byte that is not part of valid UTF-8 becomes U+FFFD, so
// the line stays valid JSON whatever a remote name holds.
std::string JsonEscape(std::string_view s);

// Makes a string that came from outside (an object key, a file name, a server's message) safe to
// print on one line of a terminal or a text log: newline, tab and carriage return become "\n",
// "\t", "\r", every other control character, DEL and every byte that is not part of valid UTF-8
// becomes "\xHH" (two hex digits), and the Unicode C1 controls and bidirectional overrides become
// "\u{HHHH}". Valid printable UTF-8 passes unchanged. A backslash is left as it is, so escaping
// twice (a message that embeds an escaped key, then the log line) changes nothing more.
std::string EscapeForDisplay(std::string_view s);

// Lighter than EscapeForDisplay, for text that lands inside our own messages and documents: every
// control character and DEL becomes "\xhh" (lower-case hex); all other bytes pass unchanged.
std::string EscapeControlChars(std::string_view s);

// `s` in double quotes, as in YAML and our messages: '"' and '\' are backslash-escaped, newline,
// tab and carriage return become "\n", "\t", "\r", any other control character and DEL "\xhh".
// A quoted server-chosen string can never end the quotes or break a line.
std::string QuoteEscaped(std::string_view s);

}  // namespace datacube
