// Status: the outcome of an operation that can fail at run time.
//
// A Status is either OK or carries a code and a message. The OK state is a null pointer, so
// returning success costs nothing (the same trick as leveldb's `state_`). Codes follow the
// canonical set used by absl/TensorStore; `IsRetryable` is the one place that decides which of
// them a caller may retry.
//
// Thread-safety: a Status is a value; distinct objects may be used from different threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace datacube {

enum class StatusCode : int {
  kOk = 0,
  kCancelled,
  kUnknown,
  kInvalidArgument,
  kDeadlineExceeded,
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,
  kResourceExhausted,
  kFailedPrecondition,
  kAborted,
  kOutOfRange,
  kUnimplemented,
  kInternal,
  kUnavailable,
  kDataLoss,
  kUnauthenticated,
};

// Stable name of a code, e.g. "NOT_FOUND".
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() noexcept = default;
  Status(StatusCode code, std::string message);

  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status Ok() { return Status(); }

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::kOk; }
  // The message; empty for OK.
  std::string_view message() const;

  // "NOT_FOUND: reading s3://b/k: no such key". "OK" for success.
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context` ("reading s3://b/k: ...").
  // OK stays OK.
  Status WithContext(std::string_view context) const;

  // Marks this status as already reported to the user, so outer layers do not print it twice.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code() == b.code() && a.message() == b.message();
  }

 private:
  friend Status MalformedResponseError(std::string message);
  friend bool IsMalformedResponse(const Status& status);
  friend Status EgressDeniedError(std::string message);
  friend bool IsEgressDenied(const Status& status);

  struct State {
    StatusCode code;
    std::string message;
    bool malformed_response = false;  // see MalformedResponseError
    bool egress_denied = false;       // see EgressDeniedError
  };
  std::unique_ptr<State> state_;  // null means OK
};

// Factory helpers; each takes the full message.
Status CancelledError(std::string message);
Status UnknownError(std::string message);
Status InvalidArgumentError(std::string message);
Status DeadlineExceededError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status PermissionDeniedError(std::string message);
Status ResourceExhaustedError(std::string message);
Status FailedPreconditionError(std::string message);
Status AbortedError(std::string message);
Status OutOfRangeError(std::string message);
Status UnimplementedError(std::string message);
Status InternalError(std::string message);
Status UnavailableError(std::string message);
Status DataLossError(std::string message);
Status UnauthenticatedError(std::string message);

// A remote answer that breaks its protocol: a document that does not parse, a size that is not a
// number, a key outside the requested prefix, a listing that repeats its continuation token or
// never ends. The code is kInternal (not retried: a server that answers nonsense keeps doing so),
// and the status is marked, so that reports name it a malformed answer (never a checksum
// mismatch). The mark survives WithContext.
Status MalformedResponseError(std::string message);
bool IsMalformedResponse(const Status& status);

// A transfer the egress policy refused (policy/policy.h): kPermissionDenied, marked so that a
// DataCube's reason is EgressDenied. The mark survives WithContext.
Status EgressDeniedError(std::string message);
bool IsEgressDenied(const Status& status);

// Builds a status from an errno value: ENOENT -> kNotFound, EACCES/EPERM -> kPermissionDenied,
// ENOSPC/EDQUOT -> kResourceExhausted, EINTR/EAGAIN -> kUnavailable, others -> kInternal... The
// message is "<context>: <strerror>".
Status ErrnoToStatus(int err, std::string_view context);

// True for failures that may succeed when tried again: transient network or server trouble
// (kUnavailable), timeouts (kDeadlineExceeded), throttling (kResourceExhausted is *not* included
// because a full disk is not transient; throttling is reported as kUnavailable by the HTTP layer),
// and integrity failures of a transfer (kDataLoss: a corrupted or truncated body is fetched again).
bool IsRetryable(const Status& status);

}  // namespace datacube

// Returns early from the enclosing function when `expr` yields a non-OK Status.
#define DC_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::datacube::Status dc_status_ = (expr);  \
    if (!dc_status_.ok()) return dc_status_; \
  } while (false)

#define DC_CONCAT_INNER_(a, b) a##b
#define DC_CONCAT_(a, b) DC_CONCAT_INNER_(a, b)

// `DC_ASSIGN_OR_RETURN(auto x, ComputeResult());` assigns the value or returns the error.
#define DC_ASSIGN_OR_RETURN(lhs, expr) \
  DC_ASSIGN_OR_RETURN_IMPL_(DC_CONCAT_(dc_result_, __LINE__), lhs, expr)
#define DC_ASSIGN_OR_RETURN_IMPL_(result, lhs, expr)   \
  auto result = (expr);                                \
  if (!result.ok()) return std::move(result).status(); \
  lhs = std::move(result).value()
