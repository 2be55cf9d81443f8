// The status of a DataCube run, shaped like the resource's status subresource:
//
//   status:
//     phase: Pending | Running | Succeeded | Failed
//     conditions:            # Initialized, Complete, Failed, in that order
//     - type: Initialized
//       status: "True"
//       reason: Initialized
//       message: The DataCube is initialized
//       lastProbeTime: "2024-04-25T06:28:45Z"
//       lastTransitionTime: "2024-04-25T06:28:45Z"
//     progress: {bytesDone, bytesTotal, filesDone, filesTotal, bytesPerSecond}
//     attempts: 1
//     startTime / completionTime
//     result: {manifestDigest, filesCopied, filesSkipped, filesDeleted, filesFailed, bytesCopied,
//     ...}
//
// `status.pod` is filled by the controller in a cluster and omitted here. Failure reasons form a
// stable taxonomy (docs/datacube-spec.md); ReasonFor maps an error to one.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "datacube/base/status.h"

namespace datacube::cube {

enum class Phase { kPending, kRunning, kSucceeded, kFailed };
std::string_view PhaseName(Phase phase);

// Condition reasons. Success and progress:
inline constexpr std::string_view kReasonPending = "Pending";
inline constexpr std::string_view kReasonInitialized = "Initialized";
inline constexpr std::string_view kReasonCompleted = "Completed";
inline constexpr std::string_view kReasonRetrying = "Retrying";
// Failures:
inline constexpr std::string_view kReasonInvalidSpec = "InvalidSpec";
inline constexpr std::string_view kReasonSecretNotFound = "SecretNotFound";
inline constexpr std::string_view kReasonAuthFailed = "AuthFailed";
inline constexpr std::string_view kReasonPermissionDenied = "PermissionDenied";
inline constexpr std::string_view kReasonNotFound = "NotFound";
inline constexpr std::string_view kReasonChecksumMismatch = "ChecksumMismatch";
inline constexpr std::string_view kReasonMalformedResponse = "MalformedResponse";
inline constexpr std::string_view kReasonDeadlineExceeded = "DeadlineExceeded";
inline constexpr std::string_view kReasonEgressDenied = "EgressDenied";
inline constexpr std::string_view kReasonUnavailable = "Unavailable";
inline constexpr std::string_view kReasonInsufficientStorage = "InsufficientStorage";
inline constexpr std::string_view kReasonUnsupported = "Unsupported";
inline constexpr std::string_view kReasonInterrupted = "Interrupted";
inline constexpr std::string_view kReasonBackoffLimitExceeded = "BackoffLimitExceeded";
inline constexpr std::string_view kReasonTransferFailed = "TransferFailed";

// The failure reason for an error of one attempt: kUnauthenticated -> AuthFailed,
// kPermissionDenied -> PermissionDenied (EgressDenied when the message says a policy refused
// egress), kNotFound -> NotFound, kDataLoss -> ChecksumMismatch, a MalformedResponseError (a
// listing or answer that broke its protocol) -> MalformedResponse,
// kUnavailable/kDeadlineExceeded -> Unavailable, kResourceExhausted -> InsufficientStorage,
// kUnimplemented -> Unsupported, kInvalidArgument -> InvalidSpec, kCancelled -> Interrupted,
// anything else -> TransferFailed. (An attempt cut by activeDeadlineSeconds is DeadlineExceeded;
// the runner knows, not the code.)
std::string_view ReasonFor(const Status& status);

struct Condition {
  std::string type;  // Initialized, Complete, Failed
  bool status = false;
  std::string reason;
  std::string message;
  std::string last_probe_time;       // RFC 3339
  std::string last_transition_time;  // RFC 3339
};

struct ProgressStatus {
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;
  uint64_t files_done = 0;
  uint64_t files_total = 0;
  uint64_t bytes_per_second = 0;
};

struct ResultStatus {
  // "sha256:<64 hex>" of the sorted manifest (path, size, sha256) of every file now at the sink.
  std::string manifest_digest;
  uint64_t files = 0;  // entries in the manifest
  uint64_t bytes = 0;  // their total size
  uint64_t files_copied = 0;
  uint64_t files_skipped = 0;
  uint64_t files_deleted = 0;
  uint64_t files_failed = 0;
  uint64_t bytes_copied = 0;
};

struct CubeStatus {
  std::string name;
  std::string namespace_;
  Phase phase = Phase::kPending;
  std::vector<Condition> conditions;
  std::optional<ProgressStatus> progress;
  int attempts = 0;
  std::string start_time;
  std::string completion_time;
  std::optional<ResultStatus> result;

  // Sets condition `type` (adding it in Initialized/Complete/Failed order). lastProbeTime is
  // always `now`; lastTransitionTime changes only when the True/False status does.
  void SetCondition(std::string_view type, bool value, std::string_view reason, std::string message,
                    const std::string& now);
  const Condition* FindCondition(std::string_view type) const;
};

// "2024-04-25T06:28:45Z" (UTC, whole seconds, as Kubernetes writes metav1.Time).
std::string FormatRfc3339(std::chrono::system_clock::time_point t);

// The status as a YAML document: apiVersion, kind, metadata {name, namespace}, status. Every
// string passes through Redact(), so no registered secret can reach the output.
std::string StatusToYaml(const CubeStatus& status);

// Writes StatusToYaml atomically (temporary file, fsync, rename), so a reader never sees a
// half-written status. Errors name the path.
Status WriteStatusFile(const std::string& path, const CubeStatus& status);

}  // namespace datacube::cube
