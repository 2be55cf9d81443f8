// Making written files visible: sealing one (hash cache, mtime), committing it at once, or
// queueing it for the group commit of deferred Puts.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include "datacube/io/beneath.h"
#include "datacube/io/file.h"
#include "datacube/storage/local/local_file_info.h"
#include "datacube/storage/local/local_multipart.h"
#include "datacube/storage/local/local_store.h"

namespace datacube::storage {

Result<int64_t> SealLocalWrite(io::AtomicFileWriter& writer, const std::string& sha256,
                               uint64_t size, std::optional<int64_t> mtime_ns) {
  // The xattr is written before the file becomes visible so the hash is never missing on a
  // visible file. Its mtime must be the final one: the source's, or now.
  const int64_t final_mtime = mtime_ns ? *mtime_ns : local_detail::RealtimeNs();
  const int fd = writer.fd();
  CacheSha256(fd, sha256, size, final_mtime);
  struct timespec times[2];
  times[0].tv_sec = 0;
  times[0].tv_nsec = UTIME_OMIT;
  times[1].tv_sec = final_mtime / 1'000'000'000;
  times[1].tv_nsec = final_mtime % 1'000'000'000;
  if (::futimens(fd, times) != 0) {
    return ErrnoToStatus(errno, "setting modification time of " + writer.temp_path());
  }
  return final_mtime;
}

Status FinishLocalWrite(io::AtomicFileWriter& writer, const std::string& sha256, uint64_t size,
                        std::optional<int64_t> mtime_ns) {
  DC_ASSIGN_OR_RETURN(int64_t mtime, SealLocalWrite(writer, sha256, size, mtime_ns));
  return writer.Commit(mtime);
}

LocalStore::~LocalStore() { Flush().IgnoreError(); }

Status LocalStore::EnqueuePublish(PendingPublish pending) {
  bool full;
  {
    std::lock_guard<std::mutex> lock(publish_mu_);
    pending_bytes_ += pending.size;
    pending_.push_back(std::move(pending));
    full = pending_.size() >= options_.group_commit_files ||
           pending_bytes_ >= options_.group_commit_bytes;
  }
  return full ? Flush() : Status();
}

// Group commit: the durability protocol of io/atomic_file_writer.cc for a batch of files.
//  1. Every file was fully written to its hidden temporary name (no fsync yet).
//  2. One syncfs() makes all their data durable (cp followed by sync does the same); where
//     syncfs fails, each file is fsynced instead.
//  3. Each temporary file is renamed over its final path: readers see old or new, never torn.
//  4. A second syncfs() makes the renames durable (or each directory is fsynced once).
// A crash before step 3 leaves only hidden temporary files; the rerun copies those files again.
Status LocalStore::Flush() {
  std::lock_guard<std::mutex> serial(flush_mu_);
  std::vector<PendingPublish> batch;
  {
    std::lock_guard<std::mutex> lock(publish_mu_);
    batch.swap(pending_);
    pending_bytes_ = 0;
  }
  if (batch.empty()) return Status();
  Status first;
  auto fail = [&](Status s) {
    if (first.ok()) first = std::move(s);
  };
  auto shown = [&](const PendingPublish& p) { return p.dir->path() + "/" + p.final_name; };
  auto root = io::OpenBeneath(root_fd_, "", O_RDONLY | O_DIRECTORY);
  const bool syncfs_works = root.ok() && ::syncfs(root->fd()) == 0;
  if (!syncfs_works) {
    for (const auto& p : batch) {
      int fd = ::openat(p.dir->fd(), p.temp_name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      io::File f(fd, p.dir->path() + "/" + p.temp_name);
      Status s = f.is_open() ? f.Sync() : ErrnoToStatus(errno, "syncing " + f.path());
      if (!s.ok()) fail(s);
    }
    if (!first.ok()) {  // nothing is published unless its data is known to be on disk
      for (const auto& p : batch) ::unlinkat(p.dir->fd(), p.temp_name.c_str(), 0);
      return first;
    }
  }
  std::vector<const io::File*> dirs;
  for (const auto& p : batch) {
    if (::renameat(p.dir->fd(), p.temp_name.c_str(), p.dir->fd(), p.final_name.c_str()) != 0) {
      fail(ErrnoToStatus(errno, "publishing " + shown(p)));
      ::unlinkat(p.dir->fd(), p.temp_name.c_str(), 0);
      continue;
    }
    dirs.push_back(p.dir.get());
  }
  if (syncfs_works && ::syncfs(root->fd()) == 0) return first;  // the renames, all at once
  std::sort(dirs.begin(), dirs.end());
  dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
  for (const io::File* d : dirs) {
    Status s = d->Sync();
    if (!s.ok()) fail(s);
  }
  return first;
}

}  // namespace datacube::storage
