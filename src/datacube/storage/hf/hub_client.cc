#include "datacube/storage/hf/hub_client.h"

#include <algorithm>
#include <random>

#include "datacube/base/cancel.h"
#include "datacube/base/log.h"
#include "datacube/storage/object_store.h"

namespace datacube::storage::hf {
namespace {

bool SameOrigin(const http::UrlParts& a, const http::UrlParts& b) {
  auto port = [](const http::UrlParts& u) {
    return u.port != 0 ? u.port : (u.scheme == "https" ? 443 : 80);
  };
  return a.scheme == b.scheme && a.host == b.host && port(a) == port(b);
}

}  // namespace

std::string EncodeRevision(std::string_view revision) {
  return PercentEncode(revision, /*keep_slash=*/false);
}

std::string ResolveUrl(const HubOptions& o, std::string_view revision, std::string_view path) {
  return o.endpoint + "/" + std::string(RepoTypeUrlPrefix(o.repo.type)) + o.repo.id + "/resolve/" +
         EncodeRevision(revision) + "/" + PercentEncode(path, /*keep_slash=*/true);
}

std::string TreeUrl(const HubOptions& o, std::string_view revision, std::string_view path,
                    bool recursive) {
  std::string url = o.endpoint + "/api/" + std::string(RepoTypePlural(o.repo.type)) + "/" +
                    o.repo.id + "/tree/" + EncodeRevision(revision);
  if (!path.empty()) url += "/" + PercentEncode(path, /*keep_slash=*/true);
  url += recursive ? "?recursive=true&expand=false" : "?recursive=false&expand=false";
  return url;
}

std::string NextPageUrl(const http::HttpResponse& response) {
  for (const auto& [name, value] : response.headers) {
    if (name != "link") continue;
    // A Link header may hold several comma-separated links: <url>; rel="next", <url>; rel="prev"
    size_t pos = 0;
    while ((pos = value.find('<', pos)) != std::string::npos) {
      size_t close = value.find('>', pos);
      if (close == std::string::npos) break;
      size_t next_link = value.find('<', close);
      std::string_view params(
          value.data() + close + 1,
          (next_link == std::string::npos ? value.size() : next_link) - close - 1);
      if (params.find("rel=\"next\"") != std::string_view::npos ||
          params.find("rel=next") != std::string_view::npos) {
        return value.substr(pos + 1, close - pos - 1);
      }
      pos = close;
    }
  }
  return "";
}

HubClient::HubClient(HubOptions options, std::shared_ptr<http::HttpTransport> transport)
    : options_(std::move(options)), transport_(std::move(transport)) {
  http::ParseUrl(options_.endpoint, &hub_origin_);
}

bool HubClient::IsHubUrl(std::string_view url) const {
  http::UrlParts parts;
  return http::ParseUrl(url, &parts) && SameOrigin(parts, hub_origin_);
}

ErrorContext HubClient::Context(std::string action, std::string revision, std::string path) const {
  ErrorContext c;
  c.action = std::move(action);
  c.endpoint = options_.endpoint;
  c.repo = options_.repo;
  c.revision = std::move(revision);
  c.path = std::move(path);
  c.authenticated = authenticated();
  c.token_source = options_.token_source;
  return c;
}

std::string HubClient::ApiRepoUrl() const {
  return options_.endpoint + "/api/" + std::string(RepoTypePlural(options_.repo.type)) + "/" +
         options_.repo.id;
}

Result<http::HttpResponse> HubClient::Send(http::HttpRequest request, std::string_view body,
                                           io::ByteSink* sink, bool retry) {
  // Whatever headers the caller built, credentials go only to the Hub itself.
  std::erase_if(request.headers, [](const auto& h) {
    std::string lower = h.first;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return lower == "authorization";
  });
  if (authenticated() && IsHubUrl(request.url)) {
    request.headers.emplace_back("authorization", "Bearer " + options_.token.reveal());
  }
  if (!body.empty() || request.method == "POST" || request.method == "PUT") {
    request.content_length = body.size();
  }
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> dist(0.0, 1.0);
  const int attempts = retry ? std::max(1, options_.retry.max_attempts) : 1;
  const std::stop_token stop = CurrentStopToken();
  for (int attempt = 1;; ++attempt) {
    io::SpanSource source(body);
    auto response = transport_->Send(request, request.content_length ? &source : nullptr,
                                     retry ? nullptr : sink);
    std::optional<std::chrono::milliseconds> wait;
    if (!response.ok()) {
      if (!retry || attempt >= attempts || !IsRetryable(response.status())) return response;
    } else if (response->status == 429) {
      wait = RetryAfter(*response);
      if (wait && *wait > options_.max_retry_after) return response;  // mapped by the caller
      if (!retry || attempt >= attempts) {
        if (wait && !SleepFor(*wait, stop)) return CancelledError("cancelled while rate limited");
        return response;
      }
    } else if (response->status >= 500 && retry && attempt < attempts) {
      // retried below
    } else {
      return response;
    }
    std::chrono::milliseconds delay =
        wait ? *wait : BackoffForAttempt(options_.retry, attempt, dist(rng));
    LogDebug("retrying " + request.method + " " + UrlForMessage(request.url) + " in " +
             std::to_string(delay.count()) + " ms");
    if (!SleepFor(delay, stop)) return CancelledError("cancelled during retry backoff");
  }
}

Result<http::HttpResponse> HubClient::Call(http::HttpRequest request, std::string_view body,
                                           const ErrorContext& context) {
  ErrorContext c = context;
  c.url = request.url;
  DC_ASSIGN_OR_RETURN(http::HttpResponse r, Send(std::move(request), body, nullptr, true));
  DC_RETURN_IF_ERROR(HubErrorToStatus(r, c));
  return r;
}

}  // namespace datacube::storage::hf
