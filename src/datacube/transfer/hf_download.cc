// Download: plain files through the engine, or the huggingface_hub cache layout through the
// engine plus snapshot links (see hf_transfer.h).
#include <algorithm>
#include <map>
#include <set>

#include "datacube/base/log.h"
#include "datacube/storage/hf/cache_layout.h"
#include "datacube/storage/hf/git_oid.h"
#include "datacube/storage/hf/hf_store.h"
#include "datacube/storage/local/local_store.h"
#include "datacube/transfer/endpoints.h"
#include "datacube/transfer/hf_transfer.h"
#include "datacube/transfer/registry.h"

namespace datacube::transfer::hf {

using namespace datacube::storage;      // the store interface and the local store
using namespace datacube::storage::hf;  // the Hub client and store this session drives
namespace {

std::string WithSlash(std::string s) {
  if (!s.empty() && s.back() != '/') s += '/';
  return s;
}

// The repo seen as content-addressed blobs: one object per distinct etag (LFS SHA-256 or git
// blob id), read through the first file that has it. The engine copies blobs/<etag> with this as
// its source, so identical files are fetched once and every blob is verified as it moves.
class BlobView final : public ObjectStore {
 public:
  BlobView(std::shared_ptr<HfStore> store, const std::vector<TreeEntry>& files)
      : store_(std::move(store)) {
    for (const auto& f : files) blobs_.emplace(f.etag(), f);
  }
  Capabilities capabilities() const override {
    Capabilities c;
    c.read_only = true;
    return c;
  }
  std::string UrlFor(std::string_view key) const override {
    auto it = blobs_.find(std::string(key));
    return store_->UrlFor(it == blobs_.end() ? key : std::string_view(it->second.path));
  }
  Result<ObjectInfo> Stat(std::string_view key) override {
    auto it = blobs_.find(std::string(key));
    if (it == blobs_.end()) return NotFoundError("no blob " + std::string(key));
    return Info(it->second);
  }
  Result<ListPage> List(const ListRequest& request) override {
    ListPage page;
    for (auto it = blobs_.lower_bound(request.prefix);
         it != blobs_.end() && it->first.compare(0, request.prefix.size(), request.prefix) == 0;
         ++it) {
      page.objects.push_back(Info(it->second));
    }
    return page;
  }
  Status Read(std::string_view key, ByteRange range, io::ByteSink& sink,
              const ReadOptions& options) override {
    auto it = blobs_.find(std::string(key));
    if (it == blobs_.end()) return NotFoundError("no blob " + std::string(key));
    return store_->Read(it->second.path, range, sink, options);
  }
  Result<ObjectInfo> Put(std::string_view, io::ByteSource&, const WriteOptions&) override {
    return UnimplementedError("read-only view");
  }
  Status Delete(std::string_view) override { return UnimplementedError("read-only view"); }

 private:
  static ObjectInfo Info(const TreeEntry& e) {
    ObjectInfo info = ObjectInfoFor(e);
    info.key = e.etag();
    return info;
  }
  std::shared_ptr<HfStore> store_;
  std::map<std::string, TreeEntry> blobs_;  // constant after construction
};

// Blobs are named by etag, so the names must be what they claim: a 64-hex LFS SHA-256 or a
// 40-hex git blob id (the listing checked that), and one name must not stand for two different
// contents (two entries with one etag but different sizes or kinds).
Status CheckBlobNames(const std::vector<TreeEntry>& files) {
  std::map<std::string, const TreeEntry*> by_etag;
  for (const auto& f : files) {
    if (!(f.lfs ? IsLfsOid(f.etag()) : IsGitOid(f.etag()))) {
      return FailedPreconditionError("refusing " + f.path + ": its oid is not a " +
                                     (f.lfs ? "SHA-256" : "git blob id"));
    }
    auto [it, added] = by_etag.emplace(f.etag(), &f);
    if (!added && it->second->size != f.size) {
      return FailedPreconditionError("refusing the Hub's listing: " + it->second->path + " and " +
                                     f.path + " claim the same content (" + f.etag() +
                                     ") with different sizes");
    }
  }
  return Status();
}

// Every file the request selects, from the pinned commit; requested files that do not exist are
// an error naming them (before any byte moves).
Result<std::vector<TreeEntry>> SelectFiles(HfStore& store, const DownloadRequest& request,
                                           const std::string& prefix) {
  DC_ASSIGN_OR_RETURN(auto all, store.Files(""));
  const std::set<std::string> asked(request.files.begin(), request.files.end());
  std::set<std::string> missing = asked;
  std::vector<TreeEntry> out;
  for (const auto& e : *all) {
    if (!asked.empty()) {
      if (!asked.count(e.path)) continue;
      missing.erase(e.path);
    }
    if (e.path.compare(0, prefix.size(), prefix) != 0) continue;
    if (!request.transfer.filter.Selected(e.path.substr(prefix.size()))) continue;
    out.push_back(e);
  }
  if (!missing.empty()) {
    std::string names;
    for (const auto& w : missing) names += (names.empty() ? "" : ", ") + w;
    return NotFoundError("not in " + store.UrlFor("") + " at commit " + store.commit() + ": " +
                         names + " (check the `files` option)");
  }
  return out;
}

Result<DownloadReport> DownloadToCacheDir(const DownloadRequest& request,
                                          engine::ProgressSink* progress) {
  Location repo_loc = request.location;
  std::string prefix = repo_loc.path.empty() ? "" : WithSlash(repo_loc.path);
  repo_loc.path.clear();
  StoreConfig config = request.config;
  config.options.erase("files");  // applied below, with a clear error for missing ones
  DC_ASSIGN_OR_RETURN(StoreRef ref, OpenLocation(repo_loc, config, OpenMode::kRead));
  auto store = std::static_pointer_cast<HfStore>(ref.store);
  // A location naming one file downloads that file; otherwise it names a folder.
  DownloadRequest narrowed = request;
  if (!prefix.empty() && store->Stat(request.location.path).ok()) {
    narrowed.files = {request.location.path};
    prefix.clear();
  }
  DC_ASSIGN_OR_RETURN(std::vector<TreeEntry> files, SelectFiles(*store, narrowed, prefix));
  DC_RETURN_IF_ERROR(CheckBlobNames(files));

  DownloadReport report;
  report.commit = store->commit();
  const HubOptions& hub = store->hub();
  std::string repo_dir = RepoCacheDir(request.cache_dir, hub.repo);
  report.snapshot_dir = repo_dir + "/snapshots/" + report.commit;

  // The cache may sit on a volume others wrote to: blobs/ (like snapshots/ and refs/) must be a
  // real directory inside the repository folder, not a symlink to somewhere else.
  DC_RETURN_IF_ERROR(OpenDirBeneath(repo_dir, "blobs", /*create=*/true).status());
  LocalStoreOptions lo;
  lo.root = repo_dir + "/blobs";
  lo.create_root = true;
  DC_ASSIGN_OR_RETURN(auto blobs, LocalStore::Open(lo));
  engine::TransferEndpoints ends;
  ends.src.store = std::make_shared<BlobView>(store, files);
  ends.src.location = request.location;
  ends.dst.store = blobs;
  ends.dst.location = Location{};  // a local directory
  ends.dst.location.scheme = Scheme::kFile;
  ends.dst.location.path = lo.root;
  engine::TransferOptions topts = request.transfer;
  topts.filter = PathFilter();  // already applied to repo paths
  topts.delete_extra = false;
  DC_ASSIGN_OR_RETURN(engine::TransferReport blob_report,
                      engine::RunTransfer(ends, topts, progress));

  // Link every file whose blob is in place; report per repo path.
  std::map<std::string, const engine::FileResult*> by_blob;
  for (const auto& r : blob_report.files) by_blob[r.path] = &r;
  report.transfer = blob_report;
  report.transfer.files.clear();
  Status first_link_error;
  for (const auto& f : files) {
    auto it = by_blob.find(f.etag());
    engine::FileResult r;
    r.path = f.path;
    r.size = f.size;
    if (it == by_blob.end()) {
      // The engine did not copy (nor skip) this file's blob: the snapshot is incomplete.
      if (topts.dry_run) continue;
      r.action = engine::FileAction::kFailed;
      r.status = FailedPreconditionError("the blob " + f.etag() + " of " + f.path +
                                         " did not land in " + lo.root);
      if (first_link_error.ok()) first_link_error = r.status;
      report.transfer.files.push_back(std::move(r));
      continue;
    }
    r.action = it->second->action;
    r.sha256 = it->second->sha256;
    r.status = it->second->status;
    if (r.status.ok() && !topts.dry_run) {
      Status linked = LinkSnapshotFile(repo_dir, report.commit, f.path, f.etag());
      if (!linked.ok()) {
        r.status = linked;
        r.action = engine::FileAction::kFailed;
        if (first_link_error.ok()) first_link_error = linked;
      }
    }
    report.transfer.files.push_back(std::move(r));
  }
  if (report.transfer.status.ok()) report.transfer.status = first_link_error;
  if (report.transfer.status.ok() && blob_report.keys_refused > 0) {
    report.transfer.status =
        FailedPreconditionError(std::to_string(blob_report.keys_refused) +
                                " blobs were refused; the snapshot is incomplete");
  }
  // The ref last, and only for a complete snapshot: a reader that follows refs/<revision> never
  // finds a file missing or half-written.
  if (report.transfer.status.ok() && !topts.dry_run) {
    DC_RETURN_IF_ERROR(WriteRef(repo_dir, hub.revision, report.commit));
  }
  return report;
}

}  // namespace

Result<DownloadReport> Download(const DownloadRequest& request, engine::ProgressSink* progress) {
  if (request.location.scheme != Scheme::kHuggingFace) {
    return InvalidArgumentError("not a Hugging Face location: " + request.location.ToString());
  }
  if (request.local_dir.empty() == request.cache_dir.empty()) {
    return InvalidArgumentError("give exactly one of --local-dir and --cache-dir");
  }
  if (!request.cache_dir.empty()) return DownloadToCacheDir(request, progress);

  StoreConfig config = request.config;
  if (!request.files.empty()) {
    std::string joined;
    for (const auto& f : request.files) joined += (joined.empty() ? "" : ",") + f;
    config.options["files"] = joined;
  } else {
    config.options.erase("files");
  }
  DC_ASSIGN_OR_RETURN(Location dst, ParseLocation(request.local_dir));
  StoreConfig local_config;
  local_config.getenv = request.config.getenv;
  local_config.pvc_root = request.config.pvc_root;
  // The destination is a directory even when one file is asked for.
  std::string dst_text = request.local_dir;
  if (dst_text.back() != '/') dst_text += '/';
  DC_ASSIGN_OR_RETURN(dst, ParseLocation(dst_text));
  DC_ASSIGN_OR_RETURN(engine::TransferEndpoints ends,
                      ResolveEndpoints(request.location, dst, config, local_config));
  auto store = std::dynamic_pointer_cast<HfStore>(ends.src.store);
  DownloadReport report;
  if (store && !request.files.empty() && !ends.single) {
    DC_RETURN_IF_ERROR(SelectFiles(*store, request, ends.src_prefix).status());
  }
  DC_ASSIGN_OR_RETURN(report.transfer, engine::RunTransfer(ends, request.transfer, progress));
  if (store) report.commit = store->commit();
  return report;
}

}  // namespace datacube::transfer::hf
