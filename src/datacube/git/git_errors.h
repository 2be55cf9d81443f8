// The one place where a failed git or git-lfs run becomes a Status.
//
// git reports everything through exit code 128 and English text on stderr (we force LC_ALL=C),
// so classification reads the text. The code decides what the caller does next:
//   kUnauthenticated    wrong or missing token: never retried, "authentication failed for HOST"
//   kPermissionDenied   the token is valid but may not read/write this repository (HTTP 403)
//   kNotFound           repository or ref does not exist (HTTP 404)
//   kFailedPrecondition the server refused a push (non-fast-forward, protected branch, hook) or
//                       does not trust us / we do not trust it (TLS certificate)
//   kDataLoss           an LFS object did not match its SHA-256 oid: retried, then reported
//   kUnavailable        network trouble, 5xx, reset connections: retried with backoff
//   kDeadlineExceeded   no progress within the stall timeout, or the overall timeout
//   kCancelled          the transfer was cancelled
//   kUnknown            anything else, with git's own last lines
#pragma once

#include <string>
#include <string_view>

#include "datacube/base/status.h"
#include "datacube/git/subprocess.h"

namespace datacube::git {

struct GitFailureContext {
  // What we were doing, e.g. "fetching https://host/o/r.git"; starts the message.
  std::string action;
  // host[:port] of the remote, for "authentication failed for HOST".
  std::string host;
  // The stall and overall timeouts in force, for the timeout message.
  std::string stall_timeout_text;
};

// Classifies a finished run that did not succeed. The message is redacted and quotes the
// server's own words where they explain the failure (remote: lines, rejected refs).
Status ClassifyGitFailure(const ProcessResult& result, const GitFailureContext& context);

// The lines of `stderr_text` worth showing a user: "remote:" lines, "error:"/"fatal:" lines and
// rejected refs, without progress meters, joined with "; ". Redacted.
std::string ExplainGitStderr(std::string_view stderr_text);

}  // namespace datacube::git
