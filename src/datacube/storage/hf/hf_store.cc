#include "datacube/storage/hf/hf_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "datacube/crypto/sha256.h"
#include "datacube/io/file.h"
#include "datacube/storage/hf/git_oid.h"
#include "datacube/storage/hf/lfs_upload.h"

namespace datacube::storage::hf {
namespace {

// The Hub's preupload looks at this many leading bytes to decide whether a file is binary.
constexpr size_t kSampleSize = 512;

std::string DirOf(std::string_view prefix) {
  size_t slash = prefix.rfind('/');
  return slash == std::string_view::npos ? "" : std::string(prefix.substr(0, slash));
}

// An anonymous temporary file (unlinked at once, so nothing is left behind by a crash).
Result<io::File> TempFile() {
  const char* dir = std::getenv("TMPDIR");
  std::string pattern = std::string(dir && *dir ? dir : "/tmp") + "/datacube-hf-XXXXXX";
  int fd = ::mkstemp(pattern.data());
  if (fd < 0) return ErrnoToStatus(errno, "creating a temporary file in " + pattern);
  ::unlink(pattern.c_str());
  return io::File(fd, pattern);
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
