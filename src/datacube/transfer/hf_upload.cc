// Upload: a commit session (see hf_transfer.h).
//
// Steps, and why in this order:
//  1. Create the repo when asked (an existing one is fine), then read the branch head: it is the
//     parent of the first commit, so a concurrent writer makes us fail (412) instead of being
//     silently overwritten.
//  2. Walk the local files (sorted; .git/ and .cache/huggingface/ skipped, as huggingface_hub
//     does) and ask the Hub, 256 files per call, which go through LFS: the server decides from
//     .gitattributes, size and content; we never guess.
//  3. Hash: SHA-256 for LFS files (in parallel), git blob id for regular ones. A file whose hash
//     equals the remote oid from step 2 is skipped: the revision already holds it.
//  4. Cut the rest into commits of bounded file count and bytes. For each: LFS batch, upload the
//     bytes (objects in parallel; HF multipart parts in parallel too; bytes stream from the file
//     with pread, so memory does not grow with file size), verify, check no file changed since it
//     was hashed, commit. A commit is atomic on the Hub: a crash between commits leaves earlier
//     ones in place, and the rerun skips their files in step 3.
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>

#include "datacube/base/log.h"
#include "datacube/crypto/sha256.h"
#include "datacube/engine/parallel.h"
#include "datacube/engine/thread_pool.h"
#include "datacube/io/file.h"
#include "datacube/storage/hf/git_oid.h"
#include "datacube/storage/hf/hub_client.h"
#include "datacube/storage/hf/lfs_upload.h"
#include "datacube/transfer/hf_transfer.h"
#include "datacube/transfer/registry.h"

namespace datacube::transfer::hf {

using namespace datacube::storage;      // the store interface
using namespace datacube::storage::hf;  // the Hub client and LFS uploads this session drives
namespace {

namespace fs = std::filesystem;

constexpr size_t kSampleSize = 512;
constexpr size_t kHashChunk = 1 << 20;

struct LocalFile {
  std::string local;  // path on disk
  std::string rel;    // path relative to the uploaded directory (for filters and reports)
  std::string repo;   // path in the repo
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  bool lfs = false;
  std::string remote_oid{};
  std::string sha256{};
  std::string git_oid{};
  bool skip = false;
  Status status{};
};

int64_t MtimeNs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

std::string JoinRepo(const std::string& base, const std::string& rel) {
  if (base.empty()) return rel;
  return base.back() == '/' ? base + rel : base + "/" + rel;
}

// The local files to upload, sorted by repo path.
Result<std::vector<LocalFile>> Walk(const UploadRequest& r, const std::string& path_in_repo) {
  std::vector<LocalFile> out;
  struct stat st;
  if (::stat(r.local_path.c_str(), &st) != 0) {
    return ErrnoToStatus(errno, "reading " + r.local_path);
  }
  if (S_ISREG(st.st_mode)) {
    std::string base = fs::path(r.local_path).filename().string();
    std::string repo = path_in_repo.empty() || path_in_repo.back() == '/'
                           ? JoinRepo(path_in_repo, base)
                           : path_in_repo;
    out.push_back({r.local_path, base, repo, static_cast<uint64_t>(st.st_size), MtimeNs(st)});
  } else if (S_ISDIR(st.st_mode)) {
    std::error_code ec;
    fs::recursive_directory_iterator it(r.local_path, fs::directory_options::none, ec);
    if (ec) return ErrnoToStatus(ec.value(), "listing " + r.local_path);
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) return ErrnoToStatus(ec.value(), "listing " + r.local_path);
      std::string rel = fs::relative(it->path(), r.local_path, ec).generic_string();
      if (it->is_directory(ec)) {
        // Version control and huggingface_hub's own download metadata are never uploaded.
        if (rel == ".git" || rel == ".cache/huggingface" || rel.ends_with("/.git")) {
          it.disable_recursion_pending();
        }
        continue;
      }
      if (!it->is_regular_file(ec)) continue;
      if (!r.filter.Selected(rel)) continue;
      if (::stat(it->path().c_str(), &st) != 0) continue;
      out.push_back({it->path().string(), rel, JoinRepo(path_in_repo, rel),
                     static_cast<uint64_t>(st.st_size), MtimeNs(st)});
    }
  } else {
    return InvalidArgumentError(r.local_path + " is neither a file nor a directory");
  }
  for (const auto& f : out) {
    DC_RETURN_IF_ERROR(ValidateRelativeKey(f.repo).WithContext("path in repo"));
  }
  std::sort(out.begin(), out.end(),
            [](const LocalFile& a, const LocalFile& b) { return a.repo < b.repo; });
  return out;
}

Result<std::string> ReadSample(const LocalFile& f) {
  DC_ASSIGN_OR_RETURN(io::File file, io::File::Open(f.local, O_RDONLY));
  std::string sample(std::min<uint64_t>(f.size, kSampleSize), '\0');
  DC_ASSIGN_OR_RETURN(size_t n,
                      file.ReadAt(0, {reinterpret_cast<uint8_t*>(sample.data()), sample.size()}));
  sample.resize(n);
  return sample;
}

// SHA-256 and git blob id in one pass (the report and manifests want SHA-256 for every file).
Status HashFile(LocalFile& f) {
  DC_ASSIGN_OR_RETURN(io::File file, io::File::Open(f.local, O_RDONLY));
  crypto::Sha256 sha;
  GitBlobHasher git(f.size);
  std::vector<uint8_t> buf(kHashChunk);
  uint64_t offset = 0;
  while (offset < f.size) {
    DC_ASSIGN_OR_RETURN(size_t n, file.ReadAt(offset, buf));
    if (n == 0) return DataLossError(f.local + " shrank while it was being read");
    sha.Update({buf.data(), n});
    if (!f.lfs) git.Update({buf.data(), n});
    offset += n;
  }
  f.sha256 = sha.FinishHex();
  if (!f.lfs) f.git_oid = git.FinishHex();
  return Status();
}

// Runs tasks on `pool` and waits; returns the first failure.
Status RunOn(engine::ThreadPool& pool, std::vector<std::function<Status()>>& tasks) {
  return engine::RunAll(pool, tasks.size(), [&](size_t i) { return tasks[i](); });
}

Status Unchanged(const LocalFile& f) {
  struct stat st;
  if (::stat(f.local.c_str(), &st) != 0) return ErrnoToStatus(errno, "reading " + f.local);
  if (static_cast<uint64_t>(st.st_size) != f.size || MtimeNs(st) != f.mtime_ns) {
    return FailedPreconditionError(f.local +
                                   " changed while it was being uploaded; rerun to "
                                   "upload the new version");
  }
  return Status();
}

// The distinct LFS objects of a commit group: files with equal content share one object.
struct LfsObjects {
  std::vector<std::pair<std::string, uint64_t>> wanted;  // (sha256, size), in group order
  std::map<std::string, LocalFile*> by_oid;              // the first file of each
};

LfsObjects DistinctLfsObjects(const std::vector<LocalFile*>& group) {
  LfsObjects out;
  for (LocalFile* f : group) {
    if (f->lfs && !out.by_oid.count(f->sha256)) {
      out.wanted.emplace_back(f->sha256, f->size);
      out.by_oid[f->sha256] = f;
    }
  }
  return out;
}

// The commit operation for one file, once it is known not to have changed since it was hashed:
// an LFS pointer, or the file's bytes inline.
Result<CommitOperation> OperationFor(const LocalFile& f) {
  DC_RETURN_IF_ERROR(Unchanged(f));
  CommitOperation op;
  op.path = f.repo;
  if (f.lfs) {
    op.kind = CommitOperation::Kind::kLfsFile;
    op.sha256 = f.sha256;
    op.size = f.size;
    return op;
  }
  op.kind = CommitOperation::Kind::kFile;
  DC_ASSIGN_OR_RETURN(io::File file, io::File::Open(f.local, O_RDONLY));
  op.content.resize(f.size);
  DC_ASSIGN_OR_RETURN(
      size_t n, file.ReadAt(0, {reinterpret_cast<uint8_t*>(op.content.data()), op.content.size()}));
  // The bytes committed must be the bytes hashed.
  if (n != f.size || GitBlobId(op.content) != f.git_oid) {
    return FailedPreconditionError(f.local + " changed while it was being uploaded");
  }
  return op;
}

class Session {
 public:
  Session(const UploadRequest& r, HubClient& client, engine::ProgressSink* progress)
      : r_(r),
        client_(client),
        progress_(progress),
        jobs_(r.jobs ? r.jobs : engine::DefaultJobs()),
        objects_(jobs_, r.stop),
        parts_(jobs_, r.stop) {}

  Result<UploadReport> Run(const std::string& path_in_repo);

 private:
  Status Classify(std::vector<LocalFile>& files);
  Status HashAll(std::vector<LocalFile>& files);
  std::vector<LocalFile*> PlanUploads(std::vector<LocalFile>& files, UploadReport& report);
  void CommitInGroups(const std::vector<LocalFile*>& todo, UploadReport& report);
  Status CommitGroup(std::vector<LocalFile*>& group, UploadReport& report);
  Status UploadLfsObjects(const std::vector<LocalFile*>& group);
  Status UploadLfsFile(const LfsObjectAnswer& answer, const LocalFile& f);
  Result<CommitResult> Commit(const std::vector<CommitOperation>& ops, UploadReport& report);
  void RecordCommitted(const std::vector<LocalFile*>& group, UploadReport& report);

  const UploadRequest& r_;
  HubClient& client_;
  engine::ProgressSink* progress_;
  const size_t jobs_;
  std::string revision_;
  std::string parent_;
  bool pr_opened_ = false;
  engine::ThreadPool objects_;  // one LFS object per task
  engine::ThreadPool parts_;    // multipart parts of those objects
};

Status Session::Classify(std::vector<LocalFile>& files) {
  std::vector<PreuploadFile> asks;
  for (auto& f : files) {
    DC_ASSIGN_OR_RETURN(std::string sample, ReadSample(f));
    asks.push_back({f.repo, f.size, std::move(sample)});
  }
  DC_ASSIGN_OR_RETURN(auto answers, client_.Preupload(revision_, asks, r_.create_pr));
  std::map<std::string, const PreuploadAnswer*> by_path;
  for (const auto& a : answers) by_path[a.path] = &a;
  for (auto& f : files) {
    auto it = by_path.find(f.repo);
    if (it == by_path.end()) {
      return UnavailableError("the Hub's preupload answer does not mention " + f.repo);
    }
    // Empty files always go inline: LFS storage refuses empty objects (huggingface_hub rule).
    f.lfs = it->second->lfs && f.size > 0;
    f.remote_oid = it->second->remote_oid;
    f.skip = it->second->should_ignore;
  }
  return Status();
}

Status Session::HashAll(std::vector<LocalFile>& files) {
  std::vector<std::function<Status()>> tasks;
  for (auto& f : files) {
    if (f.skip) continue;
    tasks.push_back([&f] { return HashFile(f); });
  }
  return RunOn(objects_, tasks);
}

// One commit: the LFS bytes first (the commit is refused if it names an object the Hub does not
// have), then the operations, each file checked unchanged since it was hashed, then the commit.
Status Session::CommitGroup(std::vector<LocalFile*>& group, UploadReport& report) {
  DC_RETURN_IF_ERROR(UploadLfsObjects(group));
  std::vector<CommitOperation> ops;
  uint64_t inline_bytes = 0;
  for (LocalFile* f : group) {
    DC_ASSIGN_OR_RETURN(CommitOperation op, OperationFor(*f));
    if (!f->lfs) inline_bytes += f->size;
    ops.push_back(std::move(op));
  }
  DC_ASSIGN_OR_RETURN(CommitResult done, Commit(ops, report));
  RecordCommitted(group, report);
  LogInfo("committed " + std::to_string(group.size()) + " file(s) to " +
          client_.options().repo.Display() + " (" + std::to_string(inline_bytes) +
          " bytes inline): " + done.commit_url);
  return Status();
}

// Asks the Hub where each distinct object goes (LFS batch), then uploads them in parallel.
Status Session::UploadLfsObjects(const std::vector<LocalFile*>& group) {
  LfsObjects objects = DistinctLfsObjects(group);
  if (objects.wanted.empty()) return Status();
  DC_ASSIGN_OR_RETURN(auto answers,
                      client_.LfsBatchUpload(revision_, objects.wanted, r_.create_pr));
  std::vector<std::function<Status()>> tasks;
  for (const auto& a : answers) {
    auto it = objects.by_oid.find(a.oid);
    if (it == objects.by_oid.end()) {
      return UnavailableError("LFS batch answered for an unknown object");
    }
    LocalFile* f = it->second;
    tasks.push_back([this, a, f] { return UploadLfsFile(a, *f); });
  }
  return RunOn(objects_, tasks);
}

// One object, uploaded (and verified, when the answer asks) as the batch answer says; its bytes
// stream from the file, multipart parts in parallel on parts_.
Status Session::UploadLfsFile(const LfsObjectAnswer& a, const LocalFile& f) {
  DC_ASSIGN_OR_RETURN(io::File file, io::File::Open(f.local, O_RDONLY));
  TaskRunner runner = [this](std::vector<std::function<Status()>>& parts) {
    return RunOn(parts_, parts);
  };
  DC_RETURN_IF_ERROR(UploadLfsObject(client_, a, file, f.local, runner));
  if (progress_ && a.upload) progress_->OnBytes(f.size);
  return Status();
}

// The commit itself, on top of parent_. The first commit of a create-pr upload opens the pull
// request; later ones go to its ref.
Result<CommitResult> Session::Commit(const std::vector<CommitOperation>& ops,
                                     UploadReport& report) {
  std::string message = r_.commit_message.empty() ? "Upload with datacube" : r_.commit_message;
  bool open_pr = r_.create_pr && !pr_opened_;
  DC_ASSIGN_OR_RETURN(CommitResult done, client_.Commit(revision_, message, r_.commit_description,
                                                        parent_, ops, open_pr));
  if (open_pr) {
    pr_opened_ = true;
    report.pull_request_url = done.pull_request_url;
    // Later commits of this upload go to the pull request's own ref.
    size_t slash = done.pull_request_url.rfind('/');
    if (slash == std::string::npos) {
      return UnavailableError("the Hub opened a pull request without a URL");
    }
    revision_ = "refs/pr/" + done.pull_request_url.substr(slash + 1);
  }
  parent_ = done.commit_oid;
  report.commits.push_back(done.commit_oid);
  return done;
}

void Session::RecordCommitted(const std::vector<LocalFile*>& group, UploadReport& report) {
  for (LocalFile* f : group) {
    if (progress_ && !f->lfs) progress_->OnBytes(f->size);
    engine::FileEvent e{f->repo, engine::FileAction::kCopied, f->size, f->sha256,
                        f->lfs ? "uploaded (LFS)" : "uploaded"};
    if (progress_) progress_->OnFile(e);
    report.transfer.files.push_back(
        {f->repo, engine::FileAction::kCopied, f->size, f->sha256, Status()});
    ++report.transfer.files_copied;
    report.transfer.bytes_copied += f->size;
  }
}

// The files still to upload; the others (ignored by the Hub, or already in the revision with the
// same oid) are reported as skipped here.
std::vector<LocalFile*> Session::PlanUploads(std::vector<LocalFile>& files, UploadReport& report) {
  uint64_t planned_bytes = 0;
  std::vector<LocalFile*> todo;
  for (auto& f : files) {
    std::string local_oid = f.lfs ? f.sha256 : f.git_oid;
    if (f.skip || (!f.remote_oid.empty() && f.remote_oid == local_oid)) {
      report.transfer.files.push_back(
          {f.repo, engine::FileAction::kSkipped, f.size, f.sha256, Status()});
      ++report.transfer.files_skipped;
      if (progress_) {
        progress_->OnFile({f.repo, engine::FileAction::kSkipped, f.size, f.sha256,
                           f.skip ? "ignored by the Hub" : "already in the repo"});
      }
      continue;
    }
    todo.push_back(&f);
    planned_bytes += f.size;
  }
  if (progress_) progress_->OnPlanned(files.size(), planned_bytes);
  return todo;
}

// Commits `todo` in groups bounded by file count, bytes and inline bytes; the first failed
// commit marks its files failed and ends the upload (earlier commits stay on the Hub).
void Session::CommitInGroups(const std::vector<LocalFile*>& todo, UploadReport& report) {
  std::vector<LocalFile*> group;
  uint64_t group_bytes = 0, group_inline = 0;
  for (size_t i = 0; i < todo.size(); ++i) {
    LocalFile* f = todo[i];
    group.push_back(f);
    group_bytes += f->size;
    if (!f->lfs) group_inline += f->size;
    bool last = i + 1 == todo.size();
    bool full = group.size() >= r_.max_commit_files || group_bytes >= r_.max_commit_bytes ||
                group_inline >= r_.max_commit_inline_bytes;
    if (last || full) {
      Status s = CommitGroup(group, report);
      if (!s.ok()) {
        for (LocalFile* g : group) {
          report.transfer.files.push_back({g->repo, engine::FileAction::kFailed, g->size, "", s});
          ++report.transfer.files_failed;
        }
        report.transfer.status = s;
        return;
      }
      group.clear();
      group_bytes = group_inline = 0;
    }
  }
}

Result<UploadReport> Session::Run(const std::string& path_in_repo) {
  auto started = std::chrono::steady_clock::now();
  UploadReport report;
  revision_ = client_.options().revision;
  if (r_.create_repo) DC_RETURN_IF_ERROR(client_.CreateRepo(r_.private_repo, /*exist_ok=*/true));
  DC_ASSIGN_OR_RETURN(RepoInfo head, client_.GetRepoInfo(revision_));
  // A pull request is based on the head; on a branch the head guards against lost updates.
  parent_ = head.sha;
  DC_ASSIGN_OR_RETURN(std::vector<LocalFile> files, Walk(r_, path_in_repo));
  DC_RETURN_IF_ERROR(Classify(files));
  DC_RETURN_IF_ERROR(HashAll(files));
  CommitInGroups(PlanUploads(files, report), report);
  std::sort(
      report.transfer.files.begin(), report.transfer.files.end(),
      [](const engine::FileResult& a, const engine::FileResult& b) { return a.path < b.path; });
  report.transfer.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  return report;
}

}  // namespace

Result<UploadReport> Upload(const UploadRequest& request, engine::ProgressSink* progress) {
  if (request.location.scheme != Scheme::kHuggingFace) {
    return InvalidArgumentError("not a Hugging Face location: " + request.location.ToString());
  }
  DC_ASSIGN_OR_RETURN(HubOptions hub, HubOptionsFromConfig(request.location, request.config));
  hub.retry = request.retry;
  if (hub.token.empty()) {
    return UnauthenticatedError("uploading to " + hub.repo.Display() +
                                " needs a token with write access: pass --token, set HF_TOKEN, "
                                "or set the DataCube token option");
  }
  HubClient client(hub, http::MakeCurlTransport(hub.transport));
  std::string path_in_repo =
      request.path_in_repo.empty() ? request.location.path : request.path_in_repo;
  while (!path_in_repo.empty() && path_in_repo.front() == '/') path_in_repo.erase(0, 1);
  Session session(request, client, progress);
  return session.Run(path_in_repo);
}

}  // namespace datacube::transfer::hf
