#include "datacube/storage/hf/hf_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "datacube/crypto/sha256.h"
#include "datacube/io/file.h"
#include "datacube/storage/hf/git_oid.h"
#include "datacube/storage/hf/lfs_upload.h"

namespace datacube::storage::hf {
namespace {

// Pre-signed storage URLs live for an hour on the Hub; re-resolve well before that.
constexpr auto kRedirectLifetime = std::chrono::minutes(10);
// Redirect hops followed for one read (a renamed repo answers a relative redirect first).
constexpr int kMaxHops = 5;
// The Hub's preupload looks at this many leading bytes to decide whether a file is binary.
constexpr size_t kSampleSize = 512;

std::string DirOf(std::string_view prefix) {
  size_t slash = prefix.rfind('/');
  return slash == std::string_view::npos ? "" : std::string(prefix.substr(0, slash));
}

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

// An anonymous temporary file (unlinked at once, so nothing is left behind by a crash).
Result<io::File> TempFile() {
  const char* dir = std::getenv("TMPDIR");
  std::string pattern = std::string(dir && *dir ? dir : "/tmp") + "/datacube-hf-XXXXXX";
  int fd = ::mkstemp(pattern.data());
  if (fd < 0) return ErrnoToStatus(errno, "creating a temporary file in " + pattern);
  ::unlink(pattern.c_str());
  return io::File(fd, pattern);
}

// A URL from a server, for a message: no query (pre-signed signatures), control characters
// escaped.
std::string ShownUrl(std::string_view url) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : UrlForMessage(url)) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

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

// A listing in which one path is listed twice, or is both a file and a folder, cannot be laid
// out on a file system without one file replacing another. `files` is sorted by path.
Status CheckDistinctPaths(const std::vector<TreeEntry>& files) {
  std::set<std::string_view> paths;
  for (const auto& f : files) {
    if (!paths.insert(f.path).second) {
      return FailedPreconditionError("refusing the Hub's listing: \"" + f.path +
                                     "\" is listed twice");
    }
  }
  for (const auto& f : files) {
    for (size_t slash = f.path.find('/'); slash != std::string::npos;
         slash = f.path.find('/', slash + 1)) {
      if (paths.count(std::string_view(f.path).substr(0, slash))) {
        return FailedPreconditionError("refusing the Hub's listing: \"" + f.path.substr(0, slash) +
                                       "\" is listed both as a file and as the folder of \"" +
                                       f.path + "\"");
      }
    }
  }
  return Status();
}

}  // namespace

ObjectInfo ObjectInfoFor(const TreeEntry& e) {
  ObjectInfo info;
  info.key = e.path;
  info.size = e.size;
  info.etag = e.etag();
  if (e.lfs) info.sha256 = e.lfs->sha256;
  return info;
}

Result<std::shared_ptr<HfStore>> HfStore::Open(HfStoreOptions options) {
  auto transport =
      options.transport ? options.transport : http::MakeCurlTransport(options.hub.transport);
  auto client = std::make_shared<HubClient>(options.hub, std::move(transport));
  std::shared_ptr<HfStore> store(new HfStore(std::move(options), std::move(client)));
  if (store->options_.pin_at_open) DC_RETURN_IF_ERROR(store->PinnedCommit().status());
  return store;
}

HfStore::HfStore(HfStoreOptions options, std::shared_ptr<HubClient> client)
    : options_(std::move(options)),
      client_(std::move(client)),
      only_(options_.only_files.begin(), options_.only_files.end()) {}

std::string HfStore::commit() const {
  std::lock_guard<std::mutex> lock(mu_);
  return commit_;
}

Result<std::string> HfStore::PinnedCommit() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!commit_.empty()) return commit_;
  }
  DC_ASSIGN_OR_RETURN(RepoInfo info, client_->GetRepoInfo(hub().revision));
  std::lock_guard<std::mutex> lock(mu_);
  if (commit_.empty()) commit_ = info.sha;
  return commit_;
}

void HfStore::AdvanceTo(const std::string& commit) {
  std::lock_guard<std::mutex> lock(mu_);
  commit_ = commit;
  listings_.clear();
  stats_.clear();
  redirects_.clear();
}

Capabilities HfStore::capabilities() const {
  Capabilities c;
  c.read_only = false;
  c.multipart = false;
  // Only LFS files come with a SHA-256; small files are identified by git blob ids.
  c.stores_sha256 = false;
  return c;
}

std::string HfStore::UrlFor(std::string_view key) const {
  std::string url = "hf://" + hub().repo.Display();
  if (hub().revision != kDefaultRevision) url += "@" + PercentEncode(hub().revision, true);
  if (!key.empty()) url += "/" + std::string(key);
  return url;
}

Result<std::shared_ptr<const std::vector<TreeEntry>>> HfStore::Files(const std::string& dir) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = listings_.find(dir);
    if (it != listings_.end()) return it->second;
  }
  DC_ASSIGN_OR_RETURN(std::string commit, PinnedCommit());
  auto files = std::make_shared<std::vector<TreeEntry>>();
  DC_RETURN_IF_ERROR(client_->ListTree(commit, dir, /*recursive=*/true, [&](TreeEntry e) {
    if (e.is_directory) return Status();
    if (!only_.empty() && !only_.count(e.path)) return Status();
    files->push_back(std::move(e));
    return Status();
  }));
  std::sort(files->begin(), files->end(),
            [](const TreeEntry& a, const TreeEntry& b) { return a.path < b.path; });
  DC_RETURN_IF_ERROR(CheckDistinctPaths(*files));
  std::lock_guard<std::mutex> lock(mu_);
  listings_[dir] = files;
  return std::shared_ptr<const std::vector<TreeEntry>>(files);
}

std::optional<TreeEntry> HfStore::Known(std::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [dir, files] : listings_) {
    auto it = std::lower_bound(files->begin(), files->end(), key,
                               [](const TreeEntry& e, std::string_view k) { return e.path < k; });
    if (it != files->end() && it->path == key) return *it;
  }
  auto it = stats_.find(key);
  if (it != stats_.end()) return it->second;
  return std::nullopt;
}

Result<ObjectInfo> HfStore::Stat(std::string_view key) {
  std::string k(key);
  auto missing = [&] {
    return NotFoundError("no file " + UrlFor(k) + " (the repository has no such file at this " +
                         "revision)");
  };
  if (k.empty() || k.back() == '/') return missing();
  if (!only_.empty() && !only_.count(k)) return missing();
  if (auto e = Known(k)) return ObjectInfoFor(*e);
  DC_ASSIGN_OR_RETURN(std::string commit, PinnedCommit());
  DC_ASSIGN_OR_RETURN(std::vector<TreeEntry> entries, client_->PathsInfo(commit, {k}));
  for (const auto& e : entries) {
    if (e.path == k && !e.is_directory) {
      // Remembered, so that a later Read can verify what it fetches against this entry.
      std::lock_guard<std::mutex> lock(mu_);
      stats_.emplace(k, e);
      return ObjectInfoFor(e);
    }
  }
  return missing();
}

Result<ListPage> HfStore::List(const ListRequest& request) {
  DC_ASSIGN_OR_RETURN(auto files, Files(DirOf(request.prefix)));
  // Objects and common prefixes merged in key order, then cut into pages by index.
  std::vector<std::pair<std::string, const TreeEntry*>> items;
  std::string last_prefix;
  auto it = std::lower_bound(files->begin(), files->end(), request.prefix,
                             [](const TreeEntry& e, const std::string& p) { return e.path < p; });
  for (; it != files->end() && it->path.compare(0, request.prefix.size(), request.prefix) == 0;
       ++it) {
    if (!request.recursive) {
      size_t slash = it->path.find('/', request.prefix.size());
      if (slash != std::string::npos) {
        std::string p = it->path.substr(0, slash + 1);
        if (p != last_prefix) items.emplace_back(p, nullptr);
        last_prefix = p;
        continue;
      }
    }
    items.emplace_back(it->path, &*it);
  }
  std::sort(items.begin(), items.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  size_t start = 0;
  if (!request.page_token.empty()) start = std::strtoull(request.page_token.c_str(), nullptr, 10);
  size_t limit = request.max_keys ? request.max_keys : 1000;
  ListPage page;
  size_t end = std::min(items.size(), start + limit);
  for (size_t i = start; i < end; ++i) {
    if (items[i].second) {
      page.objects.push_back(ObjectInfoFor(*items[i].second));
    } else {
      page.common_prefixes.push_back(items[i].first);
    }
  }
  if (end < items.size()) page.next_page_token = std::to_string(end);
  return page;
}

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
  std::string url;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = redirects_.find(key);
    if (it != redirects_.end() &&
        std::chrono::steady_clock::now() - it->second.when < kRedirectLifetime) {
      url = it->second.url;
    }
  }
  bool cached = !url.empty();
  if (url.empty()) url = ResolveUrl(hub(), commit, key);

  // A regular file is checked against its git blob id as it streams. The id covers the whole
  // file, so a part of a small one is read whole and only the part passed on: every byte that
  // lands was verified. (The Hub keeps regular files under 10 MiB; LFS files are verified by
  // the engine against their SHA-256.)
  const bool regular = entry && !entry->lfs;
  const bool whole = range.offset == 0 && (!entry || range.EndWithin(entry->size) == entry->size);
  const bool read_whole = regular && !whole && entry->size <= kMaxWholeReadForPart;
  std::optional<SliceSink> slice;
  if (read_whole) slice.emplace(sink, range.offset, range.EndWithin(entry->size) - range.offset);
  std::optional<GitCheckingSink> checking;
  if (regular && (whole || read_whole)) {
    checking.emplace(slice ? static_cast<io::ByteSink&>(*slice) : sink, entry->size);
  }
  io::ByteSink* out = checking ? static_cast<io::ByteSink*>(&*checking) : &sink;

  http::Headers headers = {{"accept-encoding", "identity"}};
  if (!range.is_all() && !read_whole) {
    std::string spec = "bytes=" + std::to_string(range.offset) + "-";
    if (range.length != ByteRange::kToEnd) spec += std::to_string(range.offset + range.length - 1);
    headers.emplace_back("range", spec);
  }

  ErrorContext ctx = client_->Context("reading", hub().revision, key);
  for (int hop = 0; hop < kMaxHops; ++hop) {
    http::HttpRequest req;
    req.url = url;
    req.headers = headers;
    ctx.url = url;
    auto r = client_->Send(req, "", out, /*retry=*/false);
    if (!r.ok()) return r.status().WithContext("reading " + UrlFor(key));
    if (r->ok()) {
      if (checking) {
        if (checking->seen() != entry->size) {
          return DataLossError("reading " + UrlFor(key) + ": got " +
                               std::to_string(checking->seen()) + " bytes of " +
                               std::to_string(entry->size) + " (truncated)");
        }
        std::string got = checking->Finish();
        if (got != entry->oid) {
          return DataLossError("content of " + UrlFor(key) + " does not match its git blob id " +
                               entry->oid + " (received " + got + "); fetching it again");
        }
      }
      return Status();
    }
    if (r->status >= 300 && r->status < 400) {
      std::string location = r->Header("location").value_or("");
      if (location.empty()) return UnavailableError("redirect without Location for " + UrlFor(key));
      if (location.front() == '/') {
        // A relative redirect: the repository was renamed; stay on the Hub (with the token).
        url = hub().endpoint + location;
        continue;
      }
      if (!IsHttpUrl(location)) {
        return FailedPreconditionError("reading " + UrlFor(key) + ": refused redirect to " +
                                       ShownUrl(location) + " (only http/https)");
      }
      url = location;
      std::lock_guard<std::mutex> lock(mu_);
      redirects_[key] = {url, std::chrono::steady_clock::now()};
      cached = true;
      continue;
    }
    if (r->status == 416) {
      return OutOfRangeError("reading " + UrlFor(key) + ": the range starts past the end");
    }
    if (cached && !client_->IsHubUrl(url) &&
        (r->status == 400 || r->status == 403 || r->status == 404 || r->status == 410)) {
      // The pre-signed storage URL expired: resolve again through the Hub.
      std::lock_guard<std::mutex> lock(mu_);
      redirects_.erase(key);
      *retry_resolve = true;
      return UnavailableError("reading " + UrlFor(key) + ": storage URL expired (HTTP " +
                              std::to_string(r->status) + ")");
    }
    return HubErrorToStatus(*r, ctx);
  }
  return UnavailableError("reading " + UrlFor(key) + ": too many redirects");
}

Result<ObjectInfo> HfStore::Put(std::string_view key, io::ByteSource& data,
                                const WriteOptions& options) {
  std::string k(key);
  DC_RETURN_IF_ERROR(ValidateRelativeKey(k));
  std::lock_guard<std::mutex> write_lock(write_mu_);
  // 1. Spool to an anonymous temporary file, hashing: the Hub needs the SHA-256 and a sample
  //    before it accepts any byte, and the source can be read only once.
  DC_ASSIGN_OR_RETURN(io::File spool, TempFile());
  crypto::Sha256 sha;
  uint64_t size = 0;
  std::vector<uint8_t> buf(1 << 20);
  while (true) {
    DC_ASSIGN_OR_RETURN(size_t n, data.Read(buf));
    if (n == 0) break;
    sha.Update({buf.data(), n});
    DC_RETURN_IF_ERROR(spool.Write({buf.data(), n}));
    size += n;
  }
  std::string sha256 = sha.FinishHex();
  std::string sample(std::min<uint64_t>(size, kSampleSize), '\0');
  DC_RETURN_IF_ERROR(
      spool.ReadAt(0, {reinterpret_cast<uint8_t*>(sample.data()), sample.size()}).status());

  // 2. Ask how; 3. upload LFS bytes or inline the content; 4. commit.
  const std::string& revision = hub().revision;
  DC_ASSIGN_OR_RETURN(auto modes, client_->Preupload(revision, {{k, size, sample}}, false));
  bool lfs = !modes.empty() && modes[0].lfs && size > 0;
  CommitOperation op;
  op.path = k;
  if (lfs) {
    DC_ASSIGN_OR_RETURN(auto answers, client_->LfsBatchUpload(revision, {{sha256, size}}, false));
    for (const auto& a : answers) {
      DC_RETURN_IF_ERROR(UploadLfsObject(*client_, a, spool, UrlFor(k), RunSequentially));
    }
    op.kind = CommitOperation::Kind::kLfsFile;
    op.sha256 = sha256;
    op.size = size;
  } else {
    op.kind = CommitOperation::Kind::kFile;
    op.content.resize(size);
    DC_RETURN_IF_ERROR(
        spool.ReadAt(0, {reinterpret_cast<uint8_t*>(op.content.data()), size}).status());
  }
  std::string message =
      options_.commit_message.empty() ? "Upload " + k + " with datacube" : options_.commit_message;
  DC_ASSIGN_OR_RETURN(CommitResult done, client_->Commit(revision, message, "", "", {op}, false));
  AdvanceTo(done.commit_oid);
  ObjectInfo info;
  info.key = k;
  info.size = size;
  info.sha256 = sha256;
  info.etag = lfs ? sha256 : GitBlobId(op.content);
  (void)options;
  return info;
}

Status HfStore::Delete(std::string_view key) {
  auto st = Stat(key);
  if (st.status().code() == StatusCode::kNotFound) return Status();  // already absent
  DC_RETURN_IF_ERROR(st.status());
  std::lock_guard<std::mutex> write_lock(write_mu_);
  CommitOperation op;
  op.kind = CommitOperation::Kind::kDeletedFile;
  op.path = std::string(key);
  std::string message = "Delete " + op.path + " with datacube";
  DC_ASSIGN_OR_RETURN(CommitResult done,
                      client_->Commit(hub().revision, message, "", "", {op}, false));
  AdvanceTo(done.commit_oid);
  return Status();
}

}  // namespace datacube::storage::hf
