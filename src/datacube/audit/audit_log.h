// A tamper-evident, append-only audit log: one JSON object per line, each carrying `prev`, the
// SHA-256 (lower-case hex) of the previous line's exact bytes (without its newline); the first
// line's prev is kGenesisPrev. Editing, removing, inserting or reordering a line breaks the chain
// at the first line after the change, which VerifyFile names. docs/governance.md ("Audit log")
// documents the record format, the lock and the torn-tail rule.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "datacube/base/result.h"
#include "datacube/base/status.h"

namespace datacube::audit {

// prev of the first record: 64 zeros.
inline constexpr std::string_view kGenesisPrev =
    "0000000000000000000000000000000000000000000000000000000000000000";

struct Record {
  std::string time;                 // RFC 3339 UTC with milliseconds; Append fills it when empty
  std::string actor;                // user or service account (ActorFrom)
  std::string action;               // transfer, delete, policy-decision, refusal, storage-change
  std::string source, destination;  // redacted location text, never credentials
  std::string data_class;           // written as "class"
  uint64_t bytes = 0, files = 0;
  std::string manifest_digest;  // "sha256:..." or empty
  std::string result;           // ok, failed, allowed, denied, dry-run
  std::string detail;           // reason / rule / message
};

// Thread-safe, and safe across processes: Append holds an exclusive flock on the file while it
// reads the last line, writes the new one with a single write() and fsyncs.
class Log {
 public:
  // Creates the file (mode 0600) when missing. Each appended line is also written to stdout
  // when `mirror_to_stdout` (for cluster log collection).
  static Result<std::unique_ptr<Log>> Open(const std::string& path, bool mirror_to_stdout);
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // Redacts every text field, fills `time` when empty, computes seq and prev from the last
  // complete line, and appends the record. A torn tail (bytes after the last newline, left by a
  // writer that died mid-write) is cut off first and an "audit-repair" record says how many
  // bytes were removed.
  Status Append(Record record);

  const std::string& path() const { return path_; }

 private:
  Log(std::string path, int fd, bool mirror);
  Status AppendLocked(Record& record);

  std::mutex mu_;
  std::string path_;
  int fd_;
  bool mirror_;
};

// Location text fit for the log: userinfo removed, a query replaced by "?***", and every known
// secret redacted.
std::string RedactLocation(std::string_view location);

// The record's line (without newline) given the chain position.
std::string FormatLine(const Record& record, uint64_t seq, std::string_view prev);

// The actor: `flag_value` when set, else DATACUBE_ACTOR, else the Kubernetes service account
// ("system:serviceaccount:NAMESPACE:NAME" from DATACUBE_SERVICE_ACCOUNT, with the namespace from
// POD_NAMESPACE or the pod's mounted service-account namespace file), else USER, else LOGNAME,
// else "uid:N".
std::string ActorFrom(const std::map<std::string, std::string>& env, std::string_view flag_value);
// The same with the namespace file given (for tests).
std::string ActorFrom(const std::map<std::string, std::string>& env, std::string_view flag_value,
                      const std::string& namespace_file);
// The process environment as a map (for ActorFrom).
std::map<std::string, std::string> ProcessEnvironment();

struct VerifyReport {
  bool valid = false;
  uint64_t records = 0;    // complete, valid records before the first bad line
  uint64_t bad_line = 0;   // 1-based; 0 when valid
  std::string reason;      // why bad_line is bad
  bool torn_tail = false;  // the file ends in bytes that are not a complete line
  std::string head;        // SHA-256 hex of the last valid line (kGenesisPrev when empty)
};

// Checks the chain of the log at `path`. I/O errors are a Status; a broken chain is a report.
Result<VerifyReport> VerifyFile(const std::string& path);
// The same over the log's bytes.
VerifyReport VerifyText(std::string_view text);

}  // namespace datacube::audit
