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

bool Has(const std::string& haystack, const std::vector<std::string_view>& needles) {
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

// A run that git did not end itself: cancelled, stalled or out of time. OK otherwise.
Status ClassifyUnfinishedRun(const ProcessResult& r, const GitFailureContext& c) {
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
  return Status();
}

// One kind of failure, told apart by the words of git's (lower-cased) stderr.
struct FailureRule {
  // The rule applies when the text holds one of `any`, also one of `and_any` (when that is not
  // empty), and none of `unless`.
  std::vector<std::string_view> any;
  std::vector<std::string_view> and_any;
  std::vector<std::string_view> unless;
  StatusCode result;
  // What happened and what to do. {host} stands for the remote's host[:port], {said} for git's
  // own explanation (ExplainGitStderr) and {detail} for " (git: <that explanation>)", empty when
  // git said nothing.
  std::string_view message;
};

// The rules in the order they are tried; the first that applies decides. The order matters where
// the texts overlap: the narrow cases come first, and the network rule, whose words ("eof",
// "timed out") turn up in many messages, comes last.
const std::vector<FailureRule>& FailureRules() {
  static const std::vector<FailureRule> rules = {
      {{"expected oid", "hash mismatch", "sha256 mismatch", "object has been corrupted", "corrupt"},
       {"lfs", "oid"},
       {},
       StatusCode::kDataLoss,
       "an LFS object did not match its SHA-256 oid{detail}"},
      {{"authentication failed", "could not read username", "could not read password",
        "terminal prompts disabled", "invalid username or password", "returned error: 401",
        "http 401", "bad credentials", "authentication required", "git credentials for"},
       {},
       {},
       StatusCode::kUnauthenticated,
       "authentication failed for {host}: the server refused the credentials (check the token "
       "option or the secret it comes from)"},
      {{"[rejected]", "[remote rejected]", "failed to push some refs", "non-fast-forward",
        "pre-receive hook declined", "protected branch", "updates were rejected"},
       {},
       {},
       StatusCode::kFailedPrecondition,
       "the server rejected the push: {said}"},
      {{"returned error: 403", "http 403", "permission to", "access denied", "authorization error"},
       {},
       {},
       StatusCode::kPermissionDenied,
       "access denied by {host} (the token may lack the needed scope){detail}"},
      {{"ssl certificate problem", "server certificate verification failed",
        "certificate verify failed", "x509:", "unable to get local issuer"},
       {},
       {},
       StatusCode::kFailedPrecondition,
       "the TLS certificate of {host} is not trusted; give its CA with the ca-file option or "
       "GIT_SSL_CAINFO{detail}"},
      {{"repository not found", "returned error: 404", "does not appear to be a git", "not found"},
       {},
       {"couldn't find remote ref", "could not find remote ref"},
       StatusCode::kNotFound,
       "repository not found on {host}{detail}"},
      {{"couldn't find remote ref", "could not find remote ref", "not our ref",
        "unadvertised object"},
       {},
       {},
       StatusCode::kNotFound,
       "the ref was not found on the remote{detail}"},
      {{"could not resolve host",
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
        "dial tcp"},
       {},
       {},
       StatusCode::kUnavailable,
       "network or server failure talking to {host}{detail}"},
  };
  return rules;
}

bool Applies(const FailureRule& rule, const std::string& low) {
  if (!Has(low, rule.any)) return false;
  if (!rule.and_any.empty() && !Has(low, rule.and_any)) return false;
  return rule.unless.empty() || !Has(low, rule.unless);
}

// `message` with {host}, {said} and {detail} filled in, in one pass from left to right: what a
// placeholder stands for (git's or the server's text) is never expanded itself.
std::string ExpandFailureMessage(std::string_view message, const std::string& host,
                                 const std::string& said, const std::string& detail) {
  std::string out;
  size_t pos = 0;
  while (pos < message.size()) {
    const size_t open = message.find('{', pos);
    if (open == std::string_view::npos) break;
    const size_t close = message.find('}', open);
    if (close == std::string_view::npos) break;
    out.append(message.substr(pos, open - pos));
    const std::string_view name = message.substr(open + 1, close - open - 1);
    if (name == "host") {
      out += host;
    } else if (name == "said") {
      out += said;
    } else if (name == "detail") {
      out += detail;
    } else {
      out.append(message.substr(open, close - open + 1));
    }
    pos = close + 1;
  }
  out.append(message.substr(pos));
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
  if (Status s = ClassifyUnfinishedRun(r, c); !s.ok()) return s;
  const std::string said = ExplainGitStderr(r.stderr_data);
  const std::string low = Lower(r.stderr_data);
  const std::string detail = said.empty() ? "" : " (git: " + said + ")";
  for (const FailureRule& rule : FailureRules()) {
    if (!Applies(rule, low)) continue;
    return Status(rule.result, prefix + ExpandFailureMessage(rule.message, c.host, said, detail));
  }
  std::string how = r.term_signal != 0 ? "killed by signal " + std::to_string(r.term_signal)
                                       : "exit code " + std::to_string(r.exit_code);
  return UnknownError(prefix + "git failed (" + how + ")" + detail);
}

}  // namespace datacube::git
