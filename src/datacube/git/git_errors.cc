#include "datacube/git/git_errors.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "datacube/base/secret.h"

namespace datacube::git {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool Has(const std::string& haystack, std::initializer_list<std::string_view> needles) {
  for (auto n : needles) {
    if (haystack.find(n) != std::string::npos) return true;
  }
  return false;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Progress meters ("Receiving objects:  45% (9/20)") carry no explanation.
bool IsProgress(std::string_view line) {
  for (std::string_view p : {"Counting objects", "Compressing objects", "Receiving objects",
                             "Resolving deltas", "Writing objects", "Enumerating objects", "Total ",
                             "Unpacking objects", "Downloading LFS objects",
                             "Uploading LFS objects", "Updating files", "Filtering content"}) {
    std::string_view body = line;
    if (body.substr(0, 7) == "remote:") body = Trim(body.substr(7));
    if (body.substr(0, p.size()) == p) return true;
  }
  return false;
}

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '\n' || text[i] == '\r') {
      std::string_view line = Trim(text.substr(start, i - start));
      if (!line.empty()) out.push_back(line);
      start = i + 1;
    }
  }
  return out;
}

}  // namespace

std::string ExplainGitStderr(std::string_view stderr_text) {
  std::vector<std::string_view> keep;
  for (auto line : Lines(stderr_text)) {
    if (IsProgress(line)) continue;
    if (line.substr(0, 3) == "To " || line.substr(0, 5) == "hint:") continue;
    if (line == "remote:") continue;
    if (std::find(keep.begin(), keep.end(), line) == keep.end()) keep.push_back(line);
  }
  // The end of the output explains the failure; keep the message readable.
  constexpr size_t kMaxLines = 12;
  if (keep.size() > kMaxLines) keep.erase(keep.begin(), keep.end() - kMaxLines);
  std::string out;
  for (auto line : keep) {
    if (!out.empty()) out += "; ";
    out += line;
  }
  return Redact(out);
}

Status ClassifyGitFailure(const ProcessResult& r, const GitFailureContext& c) {
  const std::string prefix = c.action + ": ";
  if (r.cancelled) return CancelledError(prefix + "cancelled");
  if (r.stalled) {
    return DeadlineExceededError(prefix + "no response or progress from " + c.host + " for " +
                                 c.stall_timeout_text +
                                 " (stall timeout); check that the host is reachable, the "
                                 "proxy settings and the network");
  }
  if (r.timed_out) {
    return DeadlineExceededError(prefix + "did not finish within the timeout");
  }
  const std::string said = ExplainGitStderr(r.stderr_data);
  const std::string low = Lower(r.stderr_data);
  const std::string detail = said.empty() ? "" : " (git: " + said + ")";

  if (Has(low, {"expected oid", "hash mismatch", "sha256 mismatch", "object has been corrupted",
                "corrupt"}) &&
      Has(low, {"lfs", "oid"})) {
    return DataLossError(prefix + "an LFS object did not match its SHA-256 oid" + detail);
  }
  if (Has(low, {"authentication failed", "could not read username", "could not read password",
                "terminal prompts disabled", "invalid username or password", "returned error: 401",
                "http 401", "bad credentials", "authentication required", "git credentials for"})) {
    return UnauthenticatedError(prefix + "authentication failed for " + c.host +
                                ": the server refused the credentials (check the token option "
                                "or the secret it comes from)");
  }
  if (Has(low, {"[rejected]", "[remote rejected]", "failed to push some refs", "non-fast-forward",
                "pre-receive hook declined", "protected branch", "updates were rejected"})) {
    return FailedPreconditionError(prefix + "the server rejected the push: " + said);
  }
  if (Has(low, {"returned error: 403", "http 403", "permission to", "access denied",
                "authorization error"})) {
    return PermissionDeniedError(prefix + "access denied by " + c.host +
                                 " (the token may lack the needed scope)" + detail);
  }
  if (Has(low, {"ssl certificate problem", "server certificate verification failed",
                "certificate verify failed", "x509:", "unable to get local issuer"})) {
    return FailedPreconditionError(prefix + "the TLS certificate of " + c.host +
                                   " is not trusted; give its CA with the ca-file option or "
                                   "GIT_SSL_CAINFO" +
                                   detail);
  }
  if (Has(low, {"repository not found", "returned error: 404", "does not appear to be a git",
                "not found"}) &&
      !Has(low, {"couldn't find remote ref", "could not find remote ref"})) {
    return NotFoundError(prefix + "repository not found on " + c.host + detail);
  }
  if (Has(low, {"couldn't find remote ref", "could not find remote ref", "not our ref",
                "unadvertised object"})) {
    return NotFoundError(prefix + "the ref was not found on the remote" + detail);
  }
  if (Has(low, {"could not resolve host",
                "could not resolve proxy",
                "failed to connect",
                "connection refused",
                "connection reset",
                "connection timed out",
                "timed out",
                "operation too slow",
                "rpc failed",
                "early eof",
                "the remote end hung up",
                "unexpected disconnect",
                "returned error: 5",
                "http 5",
                "ssl_error_syscall",
                "gnutls",
                "tls connection",
                "transfer closed",
                "broken pipe",
                "empty reply",
                "internal server error",
                "bad gateway",
                "service unavailable",
                "gateway timeout",
                "eof",
                "dial tcp"})) {
    return UnavailableError(prefix + "network or server failure talking to " + c.host + detail);
  }
  std::string how = r.term_signal != 0 ? "killed by signal " + std::to_string(r.term_signal)
                                       : "exit code " + std::to_string(r.exit_code);
  return UnknownError(prefix + "git failed (" + how + ")" + detail);
}

}  // namespace datacube::git
