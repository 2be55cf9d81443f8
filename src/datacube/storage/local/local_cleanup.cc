// Removing the hidden temporary files that killed runs leave behind.
//
// A run killed with -9 cannot remove its temporary files, and those of small files carry a
// random tag (two writers of one path must never share a temporary file), so the rerun would
// never reuse them. A temporary file nobody has touched since before this store was opened
// (ctime: it cannot be set by utimes, unlike mtime) belongs to no live write of this store.
// Another live process whose temporary file has been idle all that time loses it: its rename
// then fails, it never publishes a torn file. The margin (kStaleMarginNs) covers coarse file
// system timestamps.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "datacube/io/atomic_file_writer.h"
#include "datacube/io/beneath.h"
#include "datacube/io/file.h"
#include "datacube/storage/local/local_file_info.h"
#include "datacube/storage/local/local_store.h"

namespace datacube::storage {
namespace {

// True when the entry `name` of `dir` exists (a link counts; it is not followed).
bool EntryExists(const io::File& dir, const std::string& name) {
  return ::faccessat(dir.fd(), name.c_str(), F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

// Opens `dir` for reading its entries; null when it cannot be read.
DIR* OpenDirStream(const io::File& dir) {
  int fd = ::openat(dir.fd(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR* d = fd < 0 ? nullptr : ::fdopendir(fd);
  if (d == nullptr && fd >= 0) ::close(fd);
  return d;
}

}  // namespace

// The first write into a directory sweeps it. Multipart temporaries with a journal are resume
// state and stay; so does a journal whose partial is still there (alone, it is a leftover too).
void LocalStore::SweepStaleTemps(const io::File& dir, const std::string& dir_key) const {
  std::lock_guard<std::mutex> lock(sweep_mu_);
  if (!swept_dirs_.insert(dir_key).second) return;
  DIR* d = OpenDirStream(dir);
  if (d == nullptr) return;
  std::vector<std::string> stale;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (!io::IsTempName(name)) continue;
    const bool journal = name.ends_with(".journal");
    if (journal && EntryExists(dir, name.substr(0, name.size() - 8))) continue;
    struct stat st;
    if (::fstatat(dir.fd(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
      continue;
    }
    if (local_detail::CtimeNs(st) + kStaleMarginNs >= opened_at_ns_) continue;
    if (!journal && EntryExists(dir, name + ".journal")) continue;
    stale.push_back(std::move(name));
  }
  ::closedir(d);
  for (const auto& name : stale) ::unlinkat(dir.fd(), name.c_str(), 0);
}

namespace {

// Removes the stale temporary files (journals included) directly in `dir` and queues its
// subdirectories, opened without following links, on `todo`. Returns how many were removed.
uint64_t RemoveStaleIn(const io::File& dir, int64_t opened_at_ns, std::vector<io::File>& todo) {
  DIR* d = OpenDirStream(dir);
  if (d == nullptr) return 0;
  std::vector<std::string> stale;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st;
    if (::fstatat(dir.fd(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      int sub = ::openat(dir.fd(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub >= 0) todo.emplace_back(sub, dir.path() + "/" + name);
      continue;
    }
    if (!S_ISREG(st.st_mode) || !io::IsTempName(name)) continue;
    if (local_detail::CtimeNs(st) + LocalStore::kStaleMarginNs >= opened_at_ns) continue;
    stale.push_back(std::move(name));
  }
  ::closedir(d);
  uint64_t removed = 0;
  for (const auto& name : stale) {
    if (::unlinkat(dir.fd(), name.c_str(), 0) == 0) ++removed;
  }
  return removed;
}

}  // namespace

Result<uint64_t> LocalStore::RemoveStaleTemporaries(std::string_view prefix) {
  // The directory holding the prefix; everything below it is walked from held descriptors.
  std::string_view dir_key = prefix;
  if (!dir_key.empty() && dir_key.back() == '/') dir_key.remove_suffix(1);
  if (!dir_key.empty()) {
    DC_RETURN_IF_ERROR(ValidateRelativeKey(dir_key).WithContext("cleaning " + UrlFor(prefix)));
  }
  auto top = io::OpenBeneath(root_fd_, dir_key, O_RDONLY | O_DIRECTORY, 0, UrlFor(dir_key));
  if (!top.ok()) {
    return top.status().code() == StatusCode::kNotFound ? Result<uint64_t>(uint64_t{0})
                                                        : Result<uint64_t>(top.status());
  }
  uint64_t removed = 0;
  std::vector<io::File> todo;
  todo.push_back(std::move(*top));
  while (!todo.empty()) {
    io::File dir = std::move(todo.back());
    todo.pop_back();
    removed += RemoveStaleIn(dir, opened_at_ns_, todo);
  }
  return removed;
}

}  // namespace datacube::storage
