#include "datacube/audit/audit_log.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "datacube/base/secret.h"
#include "datacube/crypto/sha256.h"

namespace datacube::audit {
namespace {

std::string NowRfc3339Millis() {
  auto now = std::chrono::system_clock::now();
  auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(millis));
  return buf;
}

// Releases the flock when the append is done, whatever path it takes.
class FileLock {
 public:
  explicit FileLock(int fd) : fd_(fd) {}
  ~FileLock() {
    if (locked_) flock(fd_, LOCK_UN);
  }
  Status Lock() {
    while (flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) return ErrnoToStatus(errno, "locking the audit log");
    }
    locked_ = true;
    return Status::Ok();
  }

 private:
  int fd_;
  bool locked_ = false;
};

Status PreadAll(int fd, char* buf, size_t len, off_t offset) {
  while (len > 0) {
    ssize_t n = pread(fd, buf, len, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoToStatus(errno, "reading the audit log");
    if (n == 0) return DataLossError("reading the audit log: file shrank while locked");
    buf += n;
    len -= static_cast<size_t>(n);
    offset += n;
  }
  return Status::Ok();
}

Status WriteAll(int fd, std::string_view data) {
  // One write() for the whole text; the loop only resumes a short write (a full disk, a signal).
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoToStatus(errno, "writing the audit log");
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

// The end of the file: the last complete line (without newline) and the torn tail after it.
struct Tail {
  std::string last_line;
  uint64_t complete_size = 0;  // bytes up to and including the last newline
  uint64_t torn_bytes = 0;
};

Result<Tail> ReadTail(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return ErrnoToStatus(errno, "stat of the audit log");
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  Tail tail;
  uint64_t window = 64 * 1024;
  while (true) {
    uint64_t start = size > window ? size - window : 0;
    std::string buf(size - start, '\0');
    DC_RETURN_IF_ERROR(PreadAll(fd, buf.data(), buf.size(), static_cast<off_t>(start)));
    size_t last_nl = buf.rfind('\n');
    if (last_nl == std::string::npos && start > 0) {
      window *= 4;
      continue;
    }
    if (last_nl == std::string::npos) {
      tail.torn_bytes = size;
      return tail;
    }
    size_t prev_nl = last_nl == 0 ? std::string::npos : buf.rfind('\n', last_nl - 1);
    if (prev_nl == std::string::npos && start > 0) {
      window *= 4;
      continue;
    }
    size_t line_start = prev_nl == std::string::npos ? 0 : prev_nl + 1;
    tail.last_line = buf.substr(line_start, last_nl - line_start);
    tail.complete_size = start + last_nl + 1;
    tail.torn_bytes = size - tail.complete_size;
    return tail;
  }
}

// seq of the line, 0 when it has none (a line not written by this code).
uint64_t SeqOf(const std::string& line) {
  if (line.empty()) return 0;
  auto json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("seq") || !json["seq"].is_number_unsigned()) return 0;
  return json["seq"].get<uint64_t>();
}

std::string StripUserinfo(std::string_view location) {
  size_t scheme_end = location.find("://");
  if (scheme_end == std::string_view::npos) return std::string(location);
  size_t authority = scheme_end + 3;
  size_t authority_end = location.find_first_of("/?#", authority);
  if (authority_end == std::string_view::npos) authority_end = location.size();
  size_t at = location.substr(authority, authority_end - authority).rfind('@');
  if (at == std::string_view::npos) return std::string(location);
  return std::string(location.substr(0, authority)) +
         std::string(location.substr(authority + at + 1));
}

}  // namespace

std::string RedactLocation(std::string_view location) {
  std::string text = StripUserinfo(location);
  size_t query = text.find('?');
  if (query != std::string::npos && query + 1 < text.size()) text = text.substr(0, query) + "?***";
  return Redact(text);
}

std::string FormatLine(const Record& record, uint64_t seq, std::string_view prev) {
  nlohmann::ordered_json json;
  json["seq"] = seq;
  json["time"] = record.time;
  json["actor"] = record.actor;
  json["action"] = record.action;
  json["source"] = record.source;
  json["destination"] = record.destination;
  json["class"] = record.data_class;
  json["bytes"] = record.bytes;
  json["files"] = record.files;
  json["manifest_digest"] = record.manifest_digest;
  json["result"] = record.result;
  json["detail"] = record.detail;
  json["prev"] = std::string(prev);
  // Invalid UTF-8 becomes U+FFFD instead of throwing: a record is never dropped for its text.
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<std::unique_ptr<Log>> Log::Open(const std::string& path, bool mirror_to_stdout) {
  int fd = open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoToStatus(errno, "opening audit log " + path);
  return std::unique_ptr<Log>(new Log(path, fd, mirror_to_stdout));
}

Log::Log(std::string path, int fd, bool mirror)
    : path_(std::move(path)), fd_(fd), mirror_(mirror) {}

Log::~Log() { close(fd_); }

Status Log::Append(Record record) {
  record.actor = Redact(record.actor);
  record.action = Redact(record.action);
  record.source = RedactLocation(record.source);
  record.destination = RedactLocation(record.destination);
  record.data_class = Redact(record.data_class);
  record.manifest_digest = Redact(record.manifest_digest);
  record.result = Redact(record.result);
  record.detail = Redact(record.detail);
  if (record.time.empty()) record.time = NowRfc3339Millis();
  std::lock_guard<std::mutex> guard(mu_);
  return AppendLocked(record).WithContext("appending to audit log " + path_);
}

Status Log::AppendLocked(Record& record) {
  FileLock lock(fd_);
  DC_RETURN_IF_ERROR(lock.Lock());
  DC_ASSIGN_OR_RETURN(Tail tail, ReadTail(fd_));
  std::string text;
  std::string prev_line = tail.last_line;
  uint64_t seq = SeqOf(prev_line);
  if (tail.torn_bytes > 0) {
    // The torn bytes were never a record (their Append failed); cut them so the chain goes on
    // from the last complete line, and say so in the log itself.
    if (ftruncate(fd_, static_cast<off_t>(tail.complete_size)) != 0) {
      return ErrnoToStatus(errno, "cutting the torn tail");
    }
    Record repair;
    repair.time = record.time;
    repair.actor = record.actor;
    repair.action = "audit-repair";
    repair.result = "ok";
    repair.detail = "removed a torn tail of " + std::to_string(tail.torn_bytes) + " bytes";
    std::string line =
        FormatLine(repair, ++seq,
                   prev_line.empty() ? std::string(kGenesisPrev) : crypto::Sha256Hex(prev_line));
    text = line + "\n";
    prev_line = line;
  }
  std::string line = FormatLine(
      record, ++seq, prev_line.empty() ? std::string(kGenesisPrev) : crypto::Sha256Hex(prev_line));
  text += line + "\n";
  DC_RETURN_IF_ERROR(WriteAll(fd_, text));
  if (fdatasync(fd_) != 0) return ErrnoToStatus(errno, "syncing the audit log");
  if (mirror_) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  }
  return Status::Ok();
}

}  // namespace datacube::audit
