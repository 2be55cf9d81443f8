#include "datacube/storage/hf/hub_errors.h"

#include <ctime>
#include <nlohmann/json.hpp>

namespace datacube::storage::hf {
namespace {

// The server's own explanation: X-Error-Message, else the JSON body's error/message, else a
// short plain-text body.
std::string ServerMessage(const http::HttpResponse& r) {
  if (auto m = r.Header("x-error-message"); m && !m->empty()) return *m;
  auto json = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (json.is_object()) {
    for (const char* key : {"error", "message"}) {
      auto it = json.find(key);
      if (it != json.end() && it->is_string()) {
        std::string msg = it->get<std::string>();
        auto desc = json.find("error_description");
        if (desc != json.end() && desc->is_string()) msg += ": " + desc->get<std::string>();
        return msg;
      }
    }
  }
  if (!r.body.empty() && r.body.size() <= 200 && r.body.find('<') == std::string::npos) {
    return r.body;
  }
  return "";
}

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

}  // namespace

std::string UrlForMessage(std::string_view url) {
  return std::string(url.substr(0, url.find('?')));
}

std::optional<std::chrono::milliseconds> RetryAfter(const http::HttpResponse& r) {
  auto v = r.Header("retry-after");
  if (!v || v->empty()) return std::nullopt;
  bool digits = v->find_first_not_of("0123456789") == std::string::npos;
  if (digits && v->size() < 10) return std::chrono::seconds(std::stol(*v));
  std::tm tm{};
  if (strptime(v->c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm) == nullptr) return std::nullopt;
  std::time_t when = timegm(&tm);
  std::time_t now = std::time(nullptr);
  return std::chrono::seconds(when > now ? when - now : 0);
}

namespace {

// What every message of one error is made of.
struct ErrorText {
  const http::HttpResponse& r;
  const ErrorContext& c;
  std::string server;    // the server's own explanation, or ""
  std::string repo;      // "org/name" as shown
  std::string repo_url;  // the repository's page on the Hub
  std::string lead;      // "<action> <repo>/<path> at revision "<rev>": "
  // Server detail and request id go last, for bug reports.
  std::string tail;
};

ErrorText MakeErrorText(const http::HttpResponse& r, const ErrorContext& c) {
  ErrorText t{r, c, ServerMessage(r), c.repo.Display(), "", "", ""};
  t.repo_url = c.endpoint + "/" + t.repo;
  t.lead = c.action.empty() ? t.repo : c.action + " " + t.repo;
  if (!c.path.empty()) t.lead += "/" + c.path;
  if (!c.revision.empty()) t.lead += " at revision " + Quoted(c.revision);
  t.lead += ": ";
  if (!t.server.empty()) t.tail += " (Hub says: " + t.server + ")";
  if (auto id = r.Header("x-request-id"); id) t.tail += " [request id " + *id + "]";
  return t;
}

// X-Error-Code GatedRepo: no token (or a 401) needs one; a token's account needs access.
Status GatedRepoError(const ErrorText& t) {
  if (t.r.status == 401 || !t.c.authenticated) {
    return UnauthenticatedError(
        t.lead + t.repo + " is a gated repository: a token is required. Request access at " +
        t.repo_url + ", then pass the token of the granted account with --token, HF_TOKEN or " +
        "the DataCube token option" + t.tail);
  }
  return PermissionDeniedError(
      t.lead + t.repo + " is a gated repository and the account of the token from " +
      t.c.token_source + " has not been granted access. Visit " + t.repo_url +
      " while logged in to that account, accept the conditions to request access, and retry "
      "once it is granted" +
      t.tail);
}

// RepoNotFound, or a 401 without a code: the Hub answers so for private repositories too.
Status RepoNotFoundError(const ErrorText& t) {
  const ErrorContext& c = t.c;
  std::string hint = c.authenticated
                         ? "check the name, the repo type (--repo-type), and that the account "
                           "of the token from " +
                               c.token_source + " can see it"
                         : "it does not exist, or it is private or gated and no token was given "
                           "(pass --token, set HF_TOKEN, or set the DataCube token option)";
  auto make = t.r.status == 401 && !c.authenticated ? UnauthenticatedError : NotFoundError;
  return make(t.lead + "repository " + t.repo + " not found at " + c.endpoint + ": " + hint +
              t.tail);
}

Status ForbiddenError(const ErrorText& t) {
  if (t.server.find("disabled") != std::string::npos) {
    return PermissionDeniedError(t.lead + t.repo + " has been disabled on the Hub" + t.tail);
  }
  std::string who = t.c.authenticated ? "the token from " + t.c.token_source
                                      : "anonymous access (no token given)";
  return PermissionDeniedError(t.lead + "permission denied for " + who +
                               "; a write action needs a token with write access to " + t.repo +
                               t.tail);
}

Status RateLimitedError(const ErrorText& t) {
  auto wait = RetryAfter(t.r);
  return UnavailableError(
      t.lead + "rate limited by the Hub (HTTP 429)" +
      (wait ? "; retry after " + std::to_string(wait->count() / 1000) + "s" : "") + t.tail);
}

}  // namespace

Status HubErrorToStatus(const http::HttpResponse& r, const ErrorContext& c) {
  if (r.ok()) return Status();
  const std::string code = r.Header("x-error-code").value_or("");
  const ErrorText t = MakeErrorText(r, c);
  const bool bad_token = t.server.find("Invalid credentials") != std::string::npos ||
                         t.server.find("invalid token") != std::string::npos;

  if (code == "GatedRepo") return GatedRepoError(t);
  if (r.status == 401 && c.authenticated && bad_token) {
    return UnauthenticatedError(t.lead + "the Hugging Face token from " + c.token_source +
                                " was rejected (invalid, expired or revoked); create a new one "
                                "at " +
                                c.endpoint + "/settings/tokens" + t.tail);
  }
  if (code == "RepoNotFound" || (r.status == 401 && code.empty())) return RepoNotFoundError(t);
  if (code == "RevisionNotFound") {
    return NotFoundError(
        t.lead + "revision " + Quoted(c.revision) + " does not exist in " + t.repo +
        " (check the branch, tag or commit; pull requests are refs/pr/N)" + t.tail);
  }
  if (code == "EntryNotFound") {
    return NotFoundError(t.lead + "file " + Quoted(c.path) + " does not exist in " + t.repo +
                         (c.revision.empty() ? "" : " at revision " + Quoted(c.revision)) + t.tail);
  }
  if (r.status == 403) return ForbiddenError(t);
  if (r.status == 429) return RateLimitedError(t);
  return http::HttpStatusToStatus(r.status, t.lead + UrlForMessage(c.url), t.tail);
}

}  // namespace datacube::storage::hf
