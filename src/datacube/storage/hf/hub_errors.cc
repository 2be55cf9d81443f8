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

Status HubErrorToStatus(const http::HttpResponse& r, const ErrorContext& c) {
  if (r.ok()) return Status();
  const std::string code = r.Header("x-error-code").value_or("");
  const std::string server = ServerMessage(r);
  const std::string repo = c.repo.Display();
  const std::string repo_url = c.endpoint + "/" + repo;
  std::string msg = c.action.empty() ? repo : c.action + " " + repo;
  if (!c.path.empty()) msg += "/" + c.path;
  if (!c.revision.empty()) msg += " at revision " + Quoted(c.revision);
  msg += ": ";
  // Server detail and request id go last, for bug reports.
  auto tail = [&]() {
    std::string t;
    if (!server.empty()) t += " (Hub says: " + server + ")";
    if (auto id = r.Header("x-request-id"); id) t += " [request id " + *id + "]";
    return t;
  };
  const bool bad_token = server.find("Invalid credentials") != std::string::npos ||
                         server.find("invalid token") != std::string::npos;

  if (code == "GatedRepo") {
    if (r.status == 401 || !c.authenticated) {
      return UnauthenticatedError(
          msg + repo + " is a gated repository: a token is required. Request access at " +
          repo_url + ", then pass the token of the granted account with --token, HF_TOKEN or " +
          "the DataCube token option" + tail());
    }
    return PermissionDeniedError(
        msg + repo + " is a gated repository and the account of the token from " +
        c.token_source + " has not been granted access. Visit " + repo_url +
        " while logged in to that account, accept the conditions to request access, and retry "
        "once it is granted" + tail());
  }
  if (r.status == 401 && c.authenticated && bad_token) {
    return UnauthenticatedError(msg + "the Hugging Face token from " + c.token_source +
                                " was rejected (invalid, expired or revoked); create a new one "
                                "at " + c.endpoint + "/settings/tokens" + tail());
  }
  if (code == "RepoNotFound" || (r.status == 401 && code.empty())) {
    std::string hint = c.authenticated
                           ? "check the name, the repo type (--repo-type), and that the account "
                             "of the token from " + c.token_source + " can see it"
                           : "it does not exist, or it is private or gated and no token was given "
                             "(pass --token, set HF_TOKEN, or set the DataCube token option)";
    auto make = r.status == 401 && !c.authenticated ? UnauthenticatedError : NotFoundError;
    return make(msg + "repository " + repo + " not found at " + c.endpoint + ": " + hint + tail());
  }
  if (code == "RevisionNotFound") {
    return NotFoundError(msg + "revision " + Quoted(c.revision) + " does not exist in " + repo +
                         " (check the branch, tag or commit; pull requests are refs/pr/N)" +
                         tail());
  }
  if (code == "EntryNotFound") {
    return NotFoundError(msg + "file " + Quoted(c.path) + " does not exist in " + repo +
                         (c.revision.empty() ? "" : " at revision " + Quoted(c.revision)) +
                         tail());
  }
  if (r.status == 403) {
    if (server.find("disabled") != std::string::npos) {
      return PermissionDeniedError(msg + repo + " has been disabled on the Hub" + tail());
    }
    std::string who = c.authenticated ? "the token from " + c.token_source
                                      : "anonymous access (no token given)";
    return PermissionDeniedError(msg + "permission denied for " + who +
                                 "; a write action needs a token with write access to " + repo +
                                 tail());
  }
  if (r.status == 429) {
    auto wait = RetryAfter(r);
    return UnavailableError(msg + "rate limited by the Hub (HTTP 429)" +
                            (wait ? "; retry after " + std::to_string(wait->count() / 1000) + "s"
                                  : "") +
                            tail());
  }
  return http::HttpStatusToStatus(r.status, msg + UrlForMessage(c.url), tail());
}

}  // namespace datacube::storage::hf
