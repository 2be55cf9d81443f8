// HfStore's reads: GET /resolve/<commit>/<path> with Range, redirects followed here without the
// token, and regular files checked against their git blob id as they stream.
#include <algorithm>
#include <cctype>

#include "datacube/base/log.h"
#include "datacube/storage/hf/git_oid.h"
#include "datacube/storage/hf/hf_store.h"

namespace datacube::storage::hf {
namespace {

// Pre-signed storage URLs live for an hour on the Hub; re-resolve well before that.
constexpr auto kRedirectLifetime = std::chrono::minutes(10);
// Redirect hops followed for one read (a renamed repo answers a relative redirect first).
constexpr int kMaxHops = 5;

// Passes bytes through and checks, at the end, that they hash to the expected git blob id.
class GitCheckingSink final : public io::ByteSink {
 public:
  GitCheckingSink(io::ByteSink& inner, uint64_t size) : inner_(inner), hasher_(size) {}
  Status Write(std::span<const uint8_t> data) override {
    hasher_.Update(data);
    seen_ += data.size();
    return inner_.Write(data);
  }
  uint64_t seen() const { return seen_; }
  std::string Finish() { return hasher_.FinishHex(); }

 private:
  io::ByteSink& inner_;
  GitBlobHasher hasher_;
  uint64_t seen_ = 0;
};

// A regular file up to this size is read whole when only a part is asked for, so the part can
// be verified (above it, parts are fetched as ranges and not checked against the blob id).
constexpr uint64_t kMaxWholeReadForPart = 64ull << 20;

// Passes on only the bytes of [offset, offset + length) of the stream it is given.
class SliceSink final : public io::ByteSink {
 public:
  SliceSink(io::ByteSink& inner, uint64_t offset, uint64_t length)
      : inner_(inner), begin_(offset), end_(offset + length) {}
  Status Write(std::span<const uint8_t> data) override {
    uint64_t from = std::max(pos_, begin_);
    uint64_t to = std::min(pos_ + data.size(), end_);
    uint64_t start = pos_;
    pos_ += data.size();
    if (from >= to) return Status();
    return inner_.Write(data.subspan(from - start, to - from));
  }

 private:
  io::ByteSink& inner_;
  const uint64_t begin_;
  const uint64_t end_;
  uint64_t pos_ = 0;
};

// A URL from a server, for a message: no query (pre-signed signatures), control characters
// escaped.
std::string ShownUrl(std::string_view url) { return EscapeControlChars(UrlForMessage(url)); }

// Only http and https are followed: a redirect to file://, ftp:// or any other scheme would
// make the transport read from somewhere the Hub has no business pointing at.
bool IsHttpUrl(std::string_view url) {
  auto starts = [&](std::string_view scheme) {
    if (url.size() < scheme.size()) return false;
    for (size_t i = 0; i < scheme.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(url[i])) != scheme[i]) return false;
    }
    return true;
  };
  return starts("https://") || starts("http://");
}

// Where the bytes of one read go: straight to the caller's sink, or through a check against
// the git blob id of a regular file. The id covers the whole file, so a part of a small one is
// read whole and only the part passed on: every byte that lands was verified. (The Hub keeps
// regular files under 10 MiB; LFS files are verified by the engine against their SHA-256.)
class ReadTarget {
 public:
  ReadTarget(io::ByteSink& sink, ByteRange range, const std::optional<TreeEntry>& entry)
      : sink_(sink), entry_(entry) {
    const bool regular = entry && !entry->lfs;
    const bool whole = range.offset == 0 && (!entry || range.EndWithin(entry->size) == entry->size);
    read_whole_ = regular && !whole && entry->size <= kMaxWholeReadForPart;
    if (read_whole_) {
      slice_.emplace(sink, range.offset, range.EndWithin(entry->size) - range.offset);
    }
    if (regular && (whole || read_whole_)) {
      checking_.emplace(slice_ ? static_cast<io::ByteSink&>(*slice_) : sink, entry->size);
    }
  }
  ReadTarget(const ReadTarget&) = delete;
  ReadTarget& operator=(const ReadTarget&) = delete;

  // True when the whole file is fetched for a part of it.
  bool read_whole() const { return read_whole_; }
  io::ByteSink* sink() { return checking_ ? static_cast<io::ByteSink*>(&*checking_) : &sink_; }

  // After a successful answer: kDataLoss when a checked file came short or does not hash to its
  // git blob id. `shown` names the file.
  Status Check(const std::string& shown) {
    if (!checking_) return Status();
    if (checking_->seen() != entry_->size) {
      return DataLossError("reading " + shown + ": got " + std::to_string(checking_->seen()) +
                           " bytes of " + std::to_string(entry_->size) + " (truncated)");
    }
    std::string got = checking_->Finish();
    if (got != entry_->oid) {
      return DataLossError("content of " + shown + " does not match its git blob id " +
                           entry_->oid + " (received " + got + "); fetching it again");
    }
    return Status();
  }

 private:
  io::ByteSink& sink_;
  const std::optional<TreeEntry>& entry_;
  bool read_whole_ = false;
  std::optional<SliceSink> slice_;
  std::optional<GitCheckingSink> checking_;
};

// The request headers of a read: no compression (sizes and hashes are of the raw bytes), and
// the range unless the whole file is fetched.
http::Headers ReadHeaders(ByteRange range, bool read_whole) {
  http::Headers headers = {{"accept-encoding", "identity"}};
  if (!range.is_all() && !read_whole) {
    std::string spec = "bytes=" + std::to_string(range.offset) + "-";
    if (range.length != ByteRange::kToEnd) spec += std::to_string(range.offset + range.length - 1);
    headers.emplace_back("range", spec);
  }
  return headers;
}

}  // namespace

Status HfStore::Read(std::string_view key, ByteRange range, io::ByteSink& sink,
                     const ReadOptions&) {
  std::string k(key);
  std::optional<TreeEntry> entry = Known(k);
  if (!entry) {
    // Every read is checked against the listing: learn the entry first.
    DC_RETURN_IF_ERROR(Stat(k).status());
    entry = Known(k);
  }
  if (entry) {
    if (range.offset > entry->size || (range.offset == entry->size && entry->size > 0)) {
      return OutOfRangeError("reading " + UrlFor(k) + ": offset " + std::to_string(range.offset) +
                             " is past the end (" + std::to_string(entry->size) + " bytes)");
    }
    if (range.EndWithin(entry->size) == range.offset) return Status();  // nothing to read
  }
  if (range.length == 0) return Status();
  for (int attempt = 0;; ++attempt) {
    bool retry_resolve = false;
    Status s = ReadOnce(k, range, sink, entry, &retry_resolve);
    if (!retry_resolve || attempt >= 1) return s;
  }
}
Status HfStore::ReadOnce(const std::string& key, ByteRange range, io::ByteSink& sink,
                         const std::optional<TreeEntry>& entry, bool* retry_resolve) {
  DC_ASSIGN_OR_RETURN(std::string commit, PinnedCommit());
  std::string url = CachedRedirect(key);
  bool cached = !url.empty();
  if (url.empty()) url = ResolveUrl(hub(), commit, key);
  ReadTarget target(sink, range, entry);
  const http::Headers headers = ReadHeaders(range, target.read_whole());
  ErrorContext ctx = client_->Context("reading", hub().revision, key);
  for (int hop = 0; hop < kMaxHops; ++hop) {
    http::HttpRequest req;
    req.url = url;
    req.headers = headers;
    ctx.url = url;
    auto r = client_->Send(req, "", target.sink(), /*retry=*/false);
    if (!r.ok()) return r.status().WithContext("reading " + UrlFor(key));
    if (r->ok()) return target.Check(UrlFor(key));
    if (r->status >= 300 && r->status < 400) {
      DC_RETURN_IF_ERROR(FollowRedirect(key, *r, &url, &cached));
      continue;
    }
    return ReadFailure(key, *r, url, cached, ctx, retry_resolve);
  }
  return UnavailableError("reading " + UrlFor(key) + ": too many redirects");
}

std::string HfStore::CachedRedirect(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = redirects_.find(key);
  if (it != redirects_.end() &&
      std::chrono::steady_clock::now() - it->second.when < kRedirectLifetime) {
    return it->second.url;
  }
  return "";
}

Status HfStore::FollowRedirect(const std::string& key, const http::HttpResponse& response,
                               std::string* url, bool* cached) {
  std::string location = response.Header("location").value_or("");
  if (location.empty()) return UnavailableError("redirect without Location for " + UrlFor(key));
  if (location.front() == '/') {
    // A relative redirect: the repository was renamed; stay on the Hub (with the token).
    *url = hub().endpoint + location;
    return Status();
  }
  if (!IsHttpUrl(location)) {
    return FailedPreconditionError("reading " + UrlFor(key) + ": refused redirect to " +
                                   ShownUrl(location) + " (only http/https)");
  }
  *url = location;
  std::lock_guard<std::mutex> lock(mu_);
  redirects_[key] = {*url, std::chrono::steady_clock::now()};
  *cached = true;
  return Status();
}

Status HfStore::ReadFailure(const std::string& key, const http::HttpResponse& response,
                            const std::string& url, bool cached, const ErrorContext& ctx,
                            bool* retry_resolve) {
  const int status = response.status;
  if (status == 416) {
    return OutOfRangeError("reading " + UrlFor(key) + ": the range starts past the end");
  }
  if (cached && !client_->IsHubUrl(url) &&
      (status == 400 || status == 403 || status == 404 || status == 410)) {
    // The pre-signed storage URL expired: resolve again through the Hub.
    std::lock_guard<std::mutex> lock(mu_);
    redirects_.erase(key);
    *retry_resolve = true;
    return UnavailableError("reading " + UrlFor(key) + ": storage URL expired (HTTP " +
                            std::to_string(status) + ")");
  }
  return HubErrorToStatus(response, ctx);
}

}  // namespace datacube::storage::hf
