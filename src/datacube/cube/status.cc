#include "datacube/cube/status.h"

#include <ctime>

#include "datacube/base/log.h"
#include "datacube/base/secret.h"
#include "datacube/cube/cube.h"
#include "datacube/io/atomic_file_writer.h"
#include "datacube/io/small_file.h"

namespace datacube::cube {
namespace {

int ConditionOrder(std::string_view type) {
  if (type == "Initialized") return 0;
  if (type == "Complete") return 1;
  if (type == "Failed") return 2;
  return 3;
}

// A YAML double-quoted scalar. Control characters are escaped so a message can never break the
// document's structure.
std::string Quote(std::string_view raw) { return QuoteEscaped(Redact(raw)); }

void Field(std::string& out, int indent, std::string_view key, const std::string& value) {
  out.append(static_cast<size_t>(indent), ' ');
  out += key;
  out += ": ";
  out += value;
  out += '\n';
}

}  // namespace

std::string_view PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kPending:
      return "Pending";
    case Phase::kRunning:
      return "Running";
    case Phase::kSucceeded:
      return "Succeeded";
    case Phase::kFailed:
      return "Failed";
  }
  return "Unknown";
}

std::string_view ReasonFor(const Status& status) {
  if (IsMalformedResponse(status)) return kReasonMalformedResponse;
  if (IsEgressDenied(status)) return kReasonEgressDenied;
  switch (status.code()) {
    case StatusCode::kOk:
      return kReasonCompleted;
    case StatusCode::kUnauthenticated:
      return kReasonAuthFailed;
    case StatusCode::kPermissionDenied:
      return status.message().find("egress") != std::string_view::npos ? kReasonEgressDenied
                                                                       : kReasonPermissionDenied;
    case StatusCode::kNotFound:
      return kReasonNotFound;
    case StatusCode::kDataLoss:
      return kReasonChecksumMismatch;
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
      return kReasonUnavailable;
    case StatusCode::kResourceExhausted:
      return kReasonInsufficientStorage;
    case StatusCode::kUnimplemented:
      return kReasonUnsupported;
    case StatusCode::kInvalidArgument:
      return kReasonInvalidSpec;
    case StatusCode::kCancelled:
      return kReasonInterrupted;
    default:
      return kReasonTransferFailed;
  }
}

void CubeStatus::SetCondition(std::string_view type, bool value, std::string_view reason,
                              std::string message, const std::string& now) {
  Condition* c = nullptr;
  for (auto& existing : conditions) c = existing.type == type ? &existing : c;
  if (c == nullptr) {
    auto pos = conditions.begin();
    while (pos != conditions.end() && ConditionOrder(pos->type) <= ConditionOrder(type)) ++pos;
    c = &*conditions.insert(pos, Condition{std::string(type), !value, "", "", now, now});
  }
  if (c->status != value) c->last_transition_time = now;
  c->status = value;
  c->reason = std::string(reason);
  c->message = std::move(message);
  c->last_probe_time = now;
}

const Condition* CubeStatus::FindCondition(std::string_view type) const {
  for (const auto& c : conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

std::string FormatRfc3339(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string StatusToYaml(const CubeStatus& s) {
  std::string out;
  Field(out, 0, "apiVersion", std::string(kApiVersion));
  Field(out, 0, "kind", std::string(kKind));
  out += "metadata:\n";
  Field(out, 2, "name", Quote(s.name));
  if (!s.namespace_.empty()) Field(out, 2, "namespace", Quote(s.namespace_));
  out += "status:\n";
  Field(out, 2, "phase", std::string(PhaseName(s.phase)));
  if (!s.conditions.empty()) {
    out += "  conditions:\n";
    for (const auto& c : s.conditions) {
      Field(out, 2, "- type", c.type);
      Field(out, 4, "status", c.status ? "\"True\"" : "\"False\"");
      if (!c.reason.empty()) Field(out, 4, "reason", c.reason);
      if (!c.message.empty()) Field(out, 4, "message", Quote(c.message));
      Field(out, 4, "lastProbeTime", Quote(c.last_probe_time));
      Field(out, 4, "lastTransitionTime", Quote(c.last_transition_time));
    }
  }
  Field(out, 2, "attempts", std::to_string(s.attempts));
  if (!s.start_time.empty()) Field(out, 2, "startTime", Quote(s.start_time));
  if (!s.completion_time.empty()) Field(out, 2, "completionTime", Quote(s.completion_time));
  if (s.progress) {
    const ProgressStatus& p = *s.progress;
    out += "  progress:\n";
    Field(out, 4, "bytesDone", std::to_string(p.bytes_done));
    Field(out, 4, "bytesTotal", std::to_string(p.bytes_total));
    Field(out, 4, "filesDone", std::to_string(p.files_done));
    Field(out, 4, "filesTotal", std::to_string(p.files_total));
    Field(out, 4, "bytesPerSecond", std::to_string(p.bytes_per_second));
  }
  if (s.result) {
    const ResultStatus& r = *s.result;
    out += "  result:\n";
    Field(out, 4, "manifestDigest", Quote(r.manifest_digest));
    Field(out, 4, "files", std::to_string(r.files));
    Field(out, 4, "bytes", std::to_string(r.bytes));
    Field(out, 4, "filesCopied", std::to_string(r.files_copied));
    Field(out, 4, "filesSkipped", std::to_string(r.files_skipped));
    Field(out, 4, "filesDeleted", std::to_string(r.files_deleted));
    Field(out, 4, "filesFailed", std::to_string(r.files_failed));
    Field(out, 4, "bytesCopied", std::to_string(r.bytes_copied));
  }
  return out;
}

Status WriteStatusFile(const std::string& path, const CubeStatus& status) {
  std::string text = StatusToYaml(status);
  // The rename below would replace whatever the path names; only a status file may go.
  DC_RETURN_IF_ERROR(io::CheckReplaceableFile(path, "status file"));
  auto writer = io::AtomicFileWriter::Create(path);
  if (!writer.ok()) return writer.status().WithContext("writing status file " + path);
  DC_RETURN_IF_ERROR(writer->Append({reinterpret_cast<const uint8_t*>(text.data()), text.size()})
                         .WithContext("writing status file " + path));
  return writer->Commit().WithContext("writing status file " + path);
}

}  // namespace datacube::cube
