// HttpTransport over libcurl's easy interface.
//
// Connection reuse: easy handles are kept in a pool and reused, so each keeps its connection
// cache (keep-alive) between requests; a share object also shares DNS and TLS sessions across
// handles. One request uses one handle on one thread (backends are synchronous; the engine
// provides the parallelism).
#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <stop_token>
#include <vector>

#include "datacube/base/cancel.h"
#include "datacube/http/http_transport.h"

namespace datacube::http {
namespace {

// Error bodies are captured for reporting, up to this size.
constexpr size_t kMaxErrorBody = 1 << 20;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// State of one request, reachable from curl's callbacks.
struct Exchange {
  io::ByteSource* body = nullptr;
  io::ByteSink* sink = nullptr;
  HttpResponse* response = nullptr;
  CURL* handle = nullptr;
  Status callback_error;  // first failure inside a callback (it aborts the transfer)
  bool cancelled = false;
  std::stop_token stop;
};

size_t ReadBody(char* out, size_t size, size_t nitems, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  auto n = ex->body->Read({reinterpret_cast<uint8_t*>(out), size * nitems});
  if (!n.ok()) {
    ex->callback_error = n.status();
    return CURL_READFUNC_ABORT;
  }
  return *n;
}

size_t WriteBody(char* data, size_t size, size_t nmemb, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  size_t n = size * nmemb;
  long code = 0;
  curl_easy_getinfo(ex->handle, CURLINFO_RESPONSE_CODE, &code);
  if (ex->sink != nullptr && code >= 200 && code < 300) {
    Status s = ex->sink->Write({reinterpret_cast<const uint8_t*>(data), n});
    if (!s.ok()) {
      ex->callback_error = s;
      return 0;  // aborts the transfer
    }
    return n;
  }
  std::string& body = ex->response->body;
  if (ex->sink == nullptr || body.size() < kMaxErrorBody) {
    body.append(data, std::min(n, ex->sink == nullptr ? n : kMaxErrorBody - body.size()));
  }
  return n;
}

size_t WriteHeader(char* data, size_t size, size_t nitems, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  std::string_view line(data, size * nitems);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  if (line.substr(0, 5) == "HTTP/") {
    // A new response (after 100 Continue or a redirect): start over.
    ex->response->headers.clear();
    return size * nitems;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * nitems;
  std::string name(line.substr(0, colon));
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  ex->response->headers.emplace_back(std::move(name), std::string(value));
  return size * nitems;
}

int Progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* ex = static_cast<Exchange*>(user);
  if (ex->stop.stop_requested()) {
    ex->cancelled = true;
    return 1;
  }
  return 0;
}

std::string StripQuery(std::string_view url) { return std::string(url.substr(0, url.find('?'))); }

// Only these protocols, for the request and for every redirect it follows: a server's
// "Location: file:///etc/passwd" (or gopher://, dict://, ...) must never make the client read a
// local file or talk another protocol.
constexpr const char* kAllowedProtocols = "http,https";

Status CurlErrorToStatus(CURLcode code, const char* detail, const HttpRequest& req,
                         const std::string& redirect_url) {
  const std::string where = req.method + " " + StripQuery(req.url);
  if (code == CURLE_UNSUPPORTED_PROTOCOL && !redirect_url.empty()) {
    return PermissionDeniedError(where + ": refused redirect to " + StripQuery(redirect_url) +
                                 ": only http and https are allowed");
  }
  if (code == CURLE_UNSUPPORTED_PROTOCOL) {
    return InvalidArgumentError(where + ": unsupported protocol: only http and https are allowed");
  }
  if (code == CURLE_TOO_MANY_REDIRECTS) {
    return UnavailableError(where + ": too many redirects (more than 10)");
  }
  std::string what = where + ": " + (detail && *detail ? detail : curl_easy_strerror(code));
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return DeadlineExceededError(what + " (timed out)");
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
      return FailedPreconditionError(what + " (TLS certificate not trusted; set a CA bundle)");
    case CURLE_URL_MALFORMAT:
      return InvalidArgumentError(what);
    default:
      return UnavailableError(what);
  }
}

class CurlTransport final : public HttpTransport {
 public:
  explicit CurlTransport(TransportOptions options) : options_(std::move(options)) {
    GlobalInit();
    share_ = curl_share_init();
    curl_share_setopt(share_, CURLSHOPT_LOCKFUNC, &CurlTransport::Lock);
    curl_share_setopt(share_, CURLSHOPT_UNLOCKFUNC, &CurlTransport::Unlock);
    curl_share_setopt(share_, CURLSHOPT_USERDATA, this);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  }

  ~CurlTransport() override {
    for (const Handle& h : idle_) Destroy(h);
    curl_share_cleanup(share_);
  }

  Result<HttpResponse> Send(const HttpRequest& req, io::ByteSource* body,
                            io::ByteSink* response_body) override {
    Handle handle = Acquire();
    CURL* h = handle.easy;
    HttpResponse response;
    Exchange ex;
    ex.body = body;
    ex.sink = response_body;
    ex.response = &response;
    ex.handle = h;
    ex.stop = CurrentStopToken();
    char errbuf[CURL_ERROR_SIZE] = {0};

    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_SHARE, share_);
    curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
    // Send the path exactly as built: object keys may contain "." or ".." segments, and the
    // signature covers the path as written.
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, options_.user_agent.c_str());
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(req.connect_timeout.count()));
    if (req.timeout.count() > 0) {
      curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
    }
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, options_.stall_bytes_per_second);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.stall_time.count()));
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, kAllowedProtocols);
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, kAllowedProtocols);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, req.follow_redirects ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
    // Never resend credentials to another host after a redirect (curl's default; stated here
    // because the Hugging Face tests rely on it).
    curl_easy_setopt(h, CURLOPT_UNRESTRICTED_AUTH, 0L);
    ApplyProxyAndTls(h, req.url);

    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, WriteHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &ex);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, WriteBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &ex);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, Progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &ex);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);

    curl_slist* headers = nullptr;
    for (const auto& [k, v] : req.headers) {
      std::string line = v.empty() ? k + ";" : k + ": " + v;
      headers = curl_slist_append(headers, line.c_str());
    }
    // No "Expect: 100-continue" round trip: it costs a full RTT on every upload.
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);

    const uint64_t length = req.content_length.value_or(0);
    if (req.method == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (req.method == "PUT") {
      curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(length));
    } else if (req.method == "POST") {
      curl_easy_setopt(h, CURLOPT_POST, 1L);
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(length));
    } else if (req.method != "GET") {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
      if (body != nullptr) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(length));
      }
    }
    io::SpanSource no_body(std::string_view{});
    if (req.method == "PUT" || req.method == "POST" || body != nullptr) {
      ex.body = body != nullptr ? body : &no_body;
      curl_easy_setopt(h, CURLOPT_READFUNCTION, ReadBody);
      curl_easy_setopt(h, CURLOPT_READDATA, &ex);
    }

    CURLcode rc = Perform(handle, ex.stop, &ex.cancelled);
    curl_slist_free_all(headers);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    char* effective = nullptr;
    curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &effective);
    if (effective) response.effective_url = effective;
    char* redirect = nullptr;
    curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &redirect);
    // Where a refused redirect pointed: curl knows it, or the 3xx's Location header says it.
    std::string redirect_url = redirect ? redirect : "";
    if (redirect_url.empty()) redirect_url = response.Header("location").value_or("");
    Release(handle, rc == CURLE_OK && !ex.cancelled);

    if (ex.cancelled) return CancelledError(req.method + " " + StripQuery(req.url) + ": cancelled");
    if (!ex.callback_error.ok()) return ex.callback_error;
    if (rc != CURLE_OK) return CurlErrorToStatus(rc, errbuf, req, redirect_url);
    response.status = static_cast<int>(code);
    return response;
  }

 private:
  // An easy handle with its own multi handle. The multi interface lets a request wait in
  // curl_multi_poll, which a stop request interrupts at once (curl_multi_wakeup), so a request
  // stalled on the network (no bytes, no progress callback) ends within milliseconds of a
  // Ctrl-C. The connection cache lives in the multi handle, so keeping the pair together keeps
  // the keep-alive connections.
  struct Handle {
    CURL* easy = nullptr;
    CURLM* multi = nullptr;
  };

  // Runs the transfer on `handle` until it finishes or `stop` is requested (*cancelled).
  static CURLcode Perform(const Handle& handle, const std::stop_token& stop, bool* cancelled) {
    if (curl_multi_add_handle(handle.multi, handle.easy) != CURLM_OK) return CURLE_OUT_OF_MEMORY;
    std::stop_callback wake(stop, [multi = handle.multi] { curl_multi_wakeup(multi); });
    CURLcode result = CURLE_OK;
    for (bool done = false; !done;) {
      if (stop.stop_requested()) {
        *cancelled = true;
        break;
      }
      int running = 0;
      if (curl_multi_perform(handle.multi, &running) != CURLM_OK) {
        result = CURLE_OUT_OF_MEMORY;
        break;
      }
      int left = 0;
      while (CURLMsg* msg = curl_multi_info_read(handle.multi, &left)) {
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == handle.easy) {
          result = msg->data.result;
          done = true;
        }
      }
      if (done || running == 0) break;
      // The timeout only bounds the wait; curl's own timers (timeouts, low-speed limit) are
      // honoured because curl_multi_poll never waits past curl's next timeout.
      if (curl_multi_poll(handle.multi, nullptr, 0, 1000, nullptr) != CURLM_OK) {
        result = CURLE_OUT_OF_MEMORY;
        break;
      }
    }
    curl_multi_remove_handle(handle.multi, handle.easy);
    if (*cancelled || (result == CURLE_ABORTED_BY_CALLBACK && stop.stop_requested())) {
      *cancelled = true;
    }
    return result;
  }

  void ApplyProxyAndTls(CURL* h, const std::string& url) {
    // Proxies come only from options (built from the caller's environment map, so a DataCube's
    // executor.env applies); setting CURLOPT_PROXY always, even to "", stops curl from reading
    // the process environment on its own.
    bool https = url.rfind("https://", 0) == 0;
    const std::string& proxy = https ? options_.https_proxy : options_.http_proxy;
    curl_easy_setopt(h, CURLOPT_PROXY, proxy.c_str());
    if (!options_.no_proxy.empty()) curl_easy_setopt(h, CURLOPT_NOPROXY, options_.no_proxy.c_str());
    if (!options_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_file.c_str());
    if (options_.insecure) {
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
  }

  Handle Acquire() {
    {
      std::lock_guard<std::mutex> lock(pool_mu_);
      if (!idle_.empty()) {
        Handle h = idle_.back();
        idle_.pop_back();
        return h;
      }
    }
    return Handle{curl_easy_init(), curl_multi_init()};
  }

  static void Destroy(const Handle& h) {
    curl_easy_cleanup(h.easy);
    curl_multi_cleanup(h.multi);
  }

  // Handles whose request failed at the transport level (or was cancelled mid-request) are
  // dropped, with their connections.
  void Release(const Handle& h, bool reusable) {
    if (!reusable) {
      Destroy(h);
      return;
    }
    std::lock_guard<std::mutex> lock(pool_mu_);
    idle_.push_back(h);
  }

  static void Lock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
    auto* self = static_cast<CurlTransport*>(user);
    self->share_mu_[data == CURL_LOCK_DATA_DNS ? 0 : 1].lock();
  }
  static void Unlock(CURL*, curl_lock_data data, void* user) {
    auto* self = static_cast<CurlTransport*>(user);
    self->share_mu_[data == CURL_LOCK_DATA_DNS ? 0 : 1].unlock();
  }

  const TransportOptions options_;
  CURLSH* share_ = nullptr;
  std::mutex share_mu_[2];
  std::mutex pool_mu_;
  std::vector<Handle> idle_;  // guarded by pool_mu_
};

}  // namespace

std::shared_ptr<HttpTransport> MakeCurlTransport(const TransportOptions& options) {
  return std::make_shared<CurlTransport>(options);
}

}  // namespace datacube::http
