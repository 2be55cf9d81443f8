#include "datacube/storage/http/http_store.h"

#include <cctype>
#include <cstdlib>

#include "datacube/base/cancel.h"
#include "datacube/base/log.h"
#include "datacube/base/secret.h"
#include "datacube/crypto/sha256.h"
#include "datacube/retry/retry.h"

namespace datacube::storage {
namespace {

// Pulls "<Code>X</Code>" out of an S3/GCS/Azure XML error document, for the message.
std::string XmlErrorCode(const std::string& body) {
  size_t open = body.find("<Code>");
  size_t close = body.find("</Code>");
  if (open == std::string::npos || close == std::string::npos || close < open) return "";
  return body.substr(open + 6, close - open - 6);
}

// A byte count sent by the server: decimal digits only, at most 2^60 (no sign, no garbage read
// as 0, no overflow). nullopt otherwise.
std::optional<uint64_t> ParseByteCount(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > (uint64_t{1} << 60)) return std::nullopt;
  return v;
}

// "bytes 0-0/12345" -> 12345.
std::optional<uint64_t> TotalFromContentRange(const std::string& value) {
  size_t slash = value.rfind('/');
  if (slash == std::string::npos) return std::nullopt;
  return ParseByteCount(std::string_view(value).substr(slash + 1));
}

// Control characters escaped, for a server-chosen string in a message.
std::string Printable(std::string_view s) { return EscapeControlChars(s); }

bool HasControlOrSpace(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return true;
  }
  return false;
}

// The scheme of an absolute URL reference ("" for a relative one), lower-cased.
std::string SchemeOf(std::string_view ref) {
  size_t i = 0;
  while (i < ref.size() && (std::isalnum(static_cast<unsigned char>(ref[i])) || ref[i] == '+' ||
                            ref[i] == '-' || ref[i] == '.')) {
    ++i;
  }
  if (i == 0 || i >= ref.size() || ref[i] != ':' ||
      !std::isalpha(static_cast<unsigned char>(ref[0]))) {
    return "";
  }
  std::string scheme(ref.substr(0, i));
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return scheme;
}

constexpr int kMaxRedirects = 10;

std::string Unquote(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

// Accepts only the first byte of a body: a server that ignores Range would otherwise stream the
// whole file into a Stat.
class FirstByteSink final : public io::ByteSink {
 public:
  Status Write(std::span<const uint8_t> data) override {
    seen_ += data.size();
    if (seen_ > 1) return CancelledError("body longer than the one byte asked for");
    return Status();
  }

 private:
  uint64_t seen_ = 0;
};

// Transient trouble (5xx, 429, resets) is retried here: a single-object store has no engine
// retry around its Stat.
RetryPolicy StatRetry() {
  RetryPolicy p;
  p.max_attempts = 4;
  return p;
}

}  // namespace

Result<std::string> HttpStore::RedirectTarget(const std::string& from,
                                              const std::string& location) const {
  std::string ref = location.substr(0, location.find('#'));
  auto refuse = [&](const std::string& why) {
    return FailedPreconditionError("reading " + display_url_ + ": refused redirect to " +
                                   Printable(ref.substr(0, ref.find('?'))) + " (" + why + ")");
  };
  if (HasControlOrSpace(ref)) return refuse("the URL holds spaces or control characters");
  std::string scheme = SchemeOf(ref);
  std::string target;
  if (!scheme.empty()) {
    if (scheme != "http" && scheme != "https") return refuse("only http/https");
    target = ref;
  } else {
    size_t authority = from.find("://") + 3;
    size_t path_start = from.find('/', authority);
    std::string origin = from.substr(0, path_start);
    if (ref.rfind("//", 0) == 0) {
      target = from.substr(0, authority - 2) + ref;  // scheme-relative
    } else if (!ref.empty() && ref.front() == '/') {
      target = origin + ref;
    } else {
      std::string base = from.substr(0, from.find('?'));
      target = base.substr(0, std::max(base.rfind('/') + 1, authority)) + ref;
    }
  }
  size_t q = target.find('?');
  // A redirect's query string is as much a credential as the original one.
  if (q != std::string::npos) RegisterSecretForRedaction(target.substr(q + 1));
  return target;
}

Result<http::HttpResponse> HttpStore::SendFollowing(http::HttpRequest req,
                                                    io::ByteSink* sink) const {
  // Redirects are followed here, not by the transport, so that every hop is checked: only
  // http and https, never file:// or another scheme a hostile server names.
  req.follow_redirects = false;
  for (int hop = 0;; ++hop) {
    DC_ASSIGN_OR_RETURN(http::HttpResponse r, transport_->Send(req, nullptr, sink));
    if (r.status < 300 || r.status >= 400 || r.status == 304) return r;
    auto location = r.Header("location");
    if (!location || location->empty()) return r;
    if (hop >= kMaxRedirects) {
      return FailedPreconditionError("reading " + display_url_ + ": more than " +
                                     std::to_string(kMaxRedirects) + " redirects");
    }
    DC_ASSIGN_OR_RETURN(req.url, RedirectTarget(req.url, *location));
  }
}

HttpStore::HttpStore(std::string url, std::shared_ptr<http::HttpTransport> transport)
    : url_(std::move(url)),
      display_url_(url_.substr(0, url_.find('?'))),
      key_([&] {
        std::string path = display_url_.substr(display_url_.find("://") + 3);
        size_t slash = path.find('/');
        path = slash == std::string::npos ? "" : path.substr(slash + 1);
        while (!path.empty() && path.back() == '/') path.pop_back();
        std::string last = path.substr(path.rfind('/') + 1);
        auto decoded = PercentDecode(last);
        return decoded.ok() && !decoded->empty() && decoded->find('/') == std::string::npos
                   ? *decoded
                   : std::string("file");
      }()),
      transport_(std::move(transport)) {
  size_t q = url_.find('?');
  if (q != std::string::npos) RegisterSecretForRedaction(url_.substr(q + 1));
}

Capabilities HttpStore::capabilities() const {
  Capabilities c;
  c.read_only = true;
  return c;
}

std::string HttpStore::UrlFor(std::string_view) const { return display_url_; }

Status HttpStore::CheckKey(std::string_view key) const {
  if (key == key_) return Status();
  return NotFoundError(display_url_ + " holds one file (\"" + key_ + "\"), not \"" +
                       std::string(key) + "\"");
}

Status HttpStore::ErrorFor(const http::HttpResponse& r, std::string_view action) const {
  std::string detail = XmlErrorCode(r.body);
  if (detail == "SignatureDoesNotMatch") {
    detail += " (the URL's signature is invalid: tampered with, or signed for another method)";
  } else if (r.status == 403 && detail == "AccessDenied") {
    detail += " (the URL expired, or grants no access to this object)";
  }
  return http::HttpStatusToStatus(r.status, std::string(action) + " " + display_url_, detail);
}

Result<ObjectInfo> HttpStore::Stat(std::string_view key) {
  DC_RETURN_IF_ERROR(CheckKey(key));
  ObjectInfo info;
  Status s = RetryStatus(StatRetry(), CurrentStopToken(), [&](int) -> Status {
    http::HttpRequest req;
    req.url = url_;
    req.headers = {{"Range", "bytes=0-0"}};
    FirstByteSink sink;
    auto r = SendFollowing(req, &sink);
    if (!r.ok() && r.status().code() == StatusCode::kCancelled &&
        !CurrentStopToken().stop_requested()) {
      // The server ignored Range and started the whole body: ask for the headers alone.
      req.method = "HEAD";
      req.headers.clear();
      r = SendFollowing(req, nullptr);
    }
    if (!r.ok()) return r.status();
    if (r->status == 416) {  // an empty file: there is no first byte
      info.size = 0;
    } else if (r->status == 206) {
      auto total = TotalFromContentRange(r->Header("content-range").value_or(""));
      if (!total) {
        return FailedPreconditionError(display_url_ + ": no valid total size in Content-Range \"" +
                                       Printable(r->Header("content-range").value_or("")) + "\"");
      }
      info.size = *total;
    } else if (r->status == 200) {
      auto len = r->Header("content-length");
      if (!len) return FailedPreconditionError(display_url_ + " sends no Content-Length");
      auto size = ParseByteCount(*len);
      if (!size) {
        return FailedPreconditionError(display_url_ + ": malformed Content-Length \"" +
                                       Printable(*len) + "\"");
      }
      info.size = *size;
    } else {
      return ErrorFor(*r, "reading");
    }
    info.key = key_;
    info.etag = Unquote(r->Header("etag").value_or(""));
    auto sha = r->Header("x-amz-meta-sha256");
    if (sha && crypto::IsSha256Hex(*sha)) info.sha256 = *sha;
    return Status();
  });
  if (!s.ok()) return s;
  return info;
}

Result<ListPage> HttpStore::List(const ListRequest& request) {
  ListPage page;
  if (key_.compare(0, request.prefix.size(), request.prefix) != 0) return page;
  if (!request.page_token.empty()) return page;
  DC_ASSIGN_OR_RETURN(ObjectInfo info, Stat(key_));
  page.objects.push_back(std::move(info));
  return page;
}

Status HttpStore::Read(std::string_view key, ByteRange range, io::ByteSink& sink,
                       const ReadOptions& options) {
  DC_RETURN_IF_ERROR(CheckKey(key));
  http::HttpRequest req;
  req.url = url_;
  if (!range.is_all()) {
    std::string spec = "bytes=" + std::to_string(range.offset) + "-";
    if (range.length != ByteRange::kToEnd) {
      if (range.length == 0) return Status();
      spec += std::to_string(range.offset + range.length - 1);
    }
    req.headers.emplace_back("Range", spec);
  }
  DC_ASSIGN_OR_RETURN(http::HttpResponse r, SendFollowing(req, &sink));
  if (r.status == 416) {
    return OutOfRangeError("reading " + display_url_ + ": offset " + std::to_string(range.offset) +
                           " is past the end");
  }
  if (!r.ok()) return ErrorFor(r, "reading");
  if (!range.is_all() && range.offset > 0 && r.status != 206) {
    return FailedPreconditionError(display_url_ + " ignores Range requests; cannot read a part");
  }
  std::string etag = Unquote(r.Header("etag").value_or(""));
  if (!options.if_match.empty() && !etag.empty() && etag != options.if_match) {
    return FailedPreconditionError(display_url_ + " changed while it was being read (ETag " + etag +
                                   ", expected " + options.if_match + ")");
  }
  return Status();
}

Result<ObjectInfo> HttpStore::Put(std::string_view, io::ByteSource&, const WriteOptions&) {
  return InvalidArgumentError(display_url_ + ": http(s) locations are read only");
}

Status HttpStore::Delete(std::string_view) {
  return InvalidArgumentError(display_url_ + ": http(s) locations are read only");
}

Result<StoreRef> OpenHttpLocation(const Location& location, const StoreConfig& config,
                                  OpenMode mode) {
  if (mode != OpenMode::kRead) {
    return InvalidArgumentError(location.ToString().substr(0, location.ToString().find('?')) +
                                ": http(s) locations are read only; write to s3://, hf://, a "
                                "path or pvc:// instead");
  }
  // The query string of a pre-signed URL is a credential, and every part of the URL goes into
  // the request line: a CR or LF there would add headers of the server's choosing.
  for (const auto& [part, text] :
       {std::pair<const char*, const std::string&>{"host", location.authority},
        {"path", location.path},
        {"query string", location.query}}) {
    if (HasControlOrSpace(text)) {
      return InvalidArgumentError(std::string(location.tls ? "https" : "http") + " URL: the " +
                                  part +
                                  " contains a space or control character (encode it as "
                                  "%XX)");
    }
  }
  http::TransportOptions topts =
      http::TransportOptionsFromEnv([&](const std::string& name) { return config.Env(name); });
  topts.ca_file = config.Option("ca-bundle");
  std::string url =
      std::string(location.tls ? "https://" : "http://") + location.authority + "/" + location.path;
  if (!location.query.empty()) url += "?" + location.query;
  auto store = std::make_shared<HttpStore>(url, http::MakeCurlTransport(topts));
  StoreRef ref;
  ref.location = location;
  ref.key = store->object_key();
  ref.store = std::move(store);
  return ref;
}

}  // namespace datacube::storage
