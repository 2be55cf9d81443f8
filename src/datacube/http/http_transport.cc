#include "datacube/http/http_transport.h"

#include <cctype>

namespace datacube::http {

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < k.size() && same; ++i) {
      same = std::tolower(static_cast<unsigned char>(k[i])) ==
             std::tolower(static_cast<unsigned char>(name[i]));
    }
    if (same) return v;
  }
  return std::nullopt;
}

TransportOptions TransportOptionsFromEnv(
    const std::function<std::optional<std::string>(const std::string&)>& getenv) {
  TransportOptions o;
  auto pick = [&](const char* lower, const char* upper) {
    if (auto v = getenv(lower); v && !v->empty()) return *v;
    if (auto v = getenv(upper); v && !v->empty()) return *v;
    return std::string();
  };
  o.http_proxy = pick("http_proxy", "HTTP_PROXY");
  o.https_proxy = pick("https_proxy", "HTTPS_PROXY");
  o.no_proxy = pick("no_proxy", "NO_PROXY");
  return o;
}

Status HttpStatusToStatus(int status, std::string_view context, std::string_view detail) {
  std::string msg = std::string(context) + ": HTTP " + std::to_string(status);
  if (!detail.empty()) msg += " " + std::string(detail);
  switch (status) {
    case 400:
      return InvalidArgumentError(std::move(msg));
    case 401:
      return UnauthenticatedError(std::move(msg));
    case 403:
      return PermissionDeniedError(std::move(msg));
    case 404:
      return NotFoundError(std::move(msg));
    case 409:
      return AlreadyExistsError(std::move(msg));
    case 412:
      return FailedPreconditionError(std::move(msg));
    case 416:
      return OutOfRangeError(std::move(msg));
    case 408:
    case 429:
      return UnavailableError(std::move(msg));
    default:
      if (status >= 500) return UnavailableError(std::move(msg));
      if (status >= 200 && status < 300) return Status();
      return UnknownError(std::move(msg));
  }
}

std::string UrlParts::HostHeader() const {
  bool default_port =
      port == 0 || (scheme == "https" && port == 443) || (scheme == "http" && port == 80);
  return default_port ? host : host + ":" + std::to_string(port);
}

bool ParseUrl(std::string_view url, UrlParts* out) {
  size_t sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) return false;
  out->scheme = std::string(url.substr(0, sep));
  for (auto& c : out->scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view rest = url.substr(sep + 3);
  size_t path_start = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path_start);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return false;
  out->port = 0;
  if (authority.front() == '[') {  // IPv6 literal
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    out->host = std::string(authority.substr(0, close + 1));
    if (close + 1 < authority.size() && authority[close + 1] == ':') {
      out->port = std::atoi(std::string(authority.substr(close + 2)).c_str());
    }
  } else {
    size_t colon = authority.rfind(':');
    out->host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      out->port = std::atoi(std::string(authority.substr(colon + 1)).c_str());
    }
  }
  std::string_view tail = path_start == std::string_view::npos ? "" : rest.substr(path_start);
  size_t q = tail.find('?');
  out->path = std::string(tail.substr(0, q));
  if (out->path.empty()) out->path = "/";
  out->query = q == std::string_view::npos ? "" : std::string(tail.substr(q + 1));
  return !out->host.empty();
}

}  // namespace datacube::http
