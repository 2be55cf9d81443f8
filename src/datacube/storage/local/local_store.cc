#include "datacube/storage/local/local_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>

#include "datacube/crypto/sha256.h"
#include "datacube/io/atomic_file_writer.h"
#include "datacube/io/file.h"
#include "datacube/storage/local/local_multipart.h"

namespace datacube::storage {
namespace {

constexpr char kShaXattr[] = "user.datacube.sha256";
// Scratch for reads into sinks without direct memory; reused per thread.
constexpr size_t kReadChunk = 1 << 20;

int64_t MtimeNs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

Result<std::string> RealPath(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr) return ErrnoToStatus(errno, "resolving " + path);
  return std::string(buf);
}

// Reads the cached hash if it still describes this size and mtime.
std::string CachedSha256(const std::string& path, uint64_t size, int64_t mtime_ns) {
  char buf[160];
  ssize_t n = ::getxattr(path.c_str(), kShaXattr, buf, sizeof buf - 1);
  if (n <= 0) return "";
  buf[n] = '\0';
  std::string value(buf, static_cast<size_t>(n));
  // "<sha256> <size> <mtime_ns>"
  size_t a = value.find(' ');
  size_t b = value.find(' ', a + 1);
  if (a != 64 || b == std::string::npos) return "";
  if (value.substr(a + 1, b - a - 1) != std::to_string(size)) return "";
  if (value.substr(b + 1) != std::to_string(mtime_ns)) return "";
  std::string sha = value.substr(0, 64);
  return crypto::IsSha256Hex(sha) ? sha : "";
}

// Opens `key` below the directory `root_fd`. With RESOLVE_BENEATH the kernel itself refuses any
// resolution that leaves the root ("..", absolute symlinks, symlinks pointing out: EXDEV), in one
// system call instead of a realpath() walk per file. -1 with errno set on failure (ENOSYS on
// kernels before 5.6).
int OpenBeneath(int root_fd, std::string_view key, int flags) {
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  std::string k(key);
  return static_cast<int>(::syscall(SYS_openat2, root_fd, k.c_str(), &how, sizeof how));
}

ObjectInfo InfoFromStat(const struct stat& st, std::string key, const std::string& path) {
  ObjectInfo info;
  info.key = std::move(key);
  info.size = static_cast<uint64_t>(st.st_size);
  info.mtime_ns = MtimeNs(st);
  info.etag = std::to_string(st.st_ino) + "-" + std::to_string(*info.mtime_ns) + "-" +
              std::to_string(info.size);
  info.sha256 = CachedSha256(path, info.size, *info.mtime_ns);
  return info;
}

std::string JoinKey(std::string_view prefix, std::string_view name) {
  std::string out(prefix);
  out += name;
  return out;
}

}  // namespace

void CacheSha256(int fd, const std::string& sha256, uint64_t size, int64_t mtime_ns) {
  if (!crypto::IsSha256Hex(sha256)) return;
  std::string value = sha256 + " " + std::to_string(size) + " " + std::to_string(mtime_ns);
  (void)::fsetxattr(fd, kShaXattr, value.data(), value.size(), 0);
}

Result<std::shared_ptr<LocalStore>> LocalStore::Open(LocalStoreOptions options) {
  if (options.root.empty()) options.root = ".";
  struct stat st;
  if (::stat(options.root.c_str(), &st) != 0) {
    if (errno != ENOENT || !options.create_root) {
      return ErrnoToStatus(errno, "opening directory " + options.root);
    }
    // mkdir -p
    std::string partial;
    for (size_t i = 0; i <= options.root.size(); ++i) {
      if (i == options.root.size() || (options.root[i] == '/' && i > 0)) {
        partial = options.root.substr(0, i);
        if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) {
          return ErrnoToStatus(errno, "creating directory " + partial);
        }
      }
    }
  } else if (!S_ISDIR(st.st_mode)) {
    return InvalidArgumentError(options.root + " is not a directory");
  }
  DC_ASSIGN_OR_RETURN(std::string real, RealPath(options.root));
  DC_ASSIGN_OR_RETURN(io::File root_fd, io::File::Open(real, O_PATH | O_DIRECTORY));
  return std::shared_ptr<LocalStore>(
      new LocalStore(std::move(options), std::move(real), std::move(root_fd)));
}

Capabilities LocalStore::capabilities() const {
  Capabilities c;
  c.multipart = true;
  c.resumable_multipart = true;
  c.min_part_size = 1;
  c.max_part_count = UINT32_MAX;
  c.server_side_copy = true;
  c.stores_sha256 = true;
  c.preserves_mtime = true;
  return c;
}

std::string LocalStore::UrlFor(std::string_view key) const {
  std::string base = options_.display_prefix.empty() ? options_.root : options_.display_prefix;
  if (key.empty()) return base;
  if (!base.empty() && base.back() != '/') base += '/';
  return base + std::string(key);
}

bool LocalStore::Inside(const std::string& real) const {
  if (root_ == "/") return true;
  return real == root_ || (real.size() > root_.size() && real.compare(0, root_.size(), root_) == 0 &&
                           real[root_.size()] == '/');
}

Result<std::string> LocalStore::PathForRead(std::string_view key) const {
  DC_RETURN_IF_ERROR(ValidateRelativeKey(key).WithContext("refusing " + UrlFor(key)));
  std::string path = root_ + (root_ == "/" ? "" : "/") + std::string(key);
  auto real = RealPath(path);
  if (!real.ok()) return real.status();
  if (!Inside(*real)) {
    return InvalidArgumentError("refusing " + UrlFor(key) + ": it resolves to " + *real +
                                ", outside " + root_ + " (symbolic link pointing out)");
  }
  return path;
}

Result<io::File> LocalStore::OpenForRead(std::string_view key, int flags) const {
  DC_RETURN_IF_ERROR(ValidateRelativeKey(key).WithContext("refusing " + UrlFor(key)));
  std::string path = root_ + (root_ == "/" ? "" : "/") + std::string(key);
  int fd = OpenBeneath(root_fd_.fd(), key, flags);
  if (fd >= 0) return io::File(fd, path);
  if (errno == ENOSYS) {  // old kernel: check with realpath, then open
    DC_RETURN_IF_ERROR(PathForRead(key).status());
    return io::File::Open(path, flags);
  }
  if (errno == EXDEV) {
    return InvalidArgumentError("refusing " + UrlFor(key) + ": it resolves outside " + root_ +
                                " (a symbolic link points out of the directory)");
  }
  return ErrnoToStatus(errno, "opening " + UrlFor(key));
}

Result<std::string> LocalStore::PathForWrite(std::string_view key) const {
  DC_RETURN_IF_ERROR(ValidateRelativeKey(key).WithContext("refusing to write " + UrlFor(key)));
  std::string path = root_ + (root_ == "/" ? "" : "/") + std::string(key);
  // Walk the parent directories: each existing one must resolve inside the root; missing ones
  // are created (after the check, so nothing is created outside).
  size_t pos = root_.size() + (root_ == "/" ? 0 : 1);
  while (true) {
    size_t slash = path.find('/', pos);
    if (slash == std::string::npos) break;
    std::string dir = path.substr(0, slash);
    {
      std::lock_guard<std::mutex> lock(dirs_mu_);
      if (verified_dirs_.count(dir)) {
        pos = slash + 1;
        continue;
      }
    }
    struct stat st;
    if (::lstat(dir.c_str(), &st) == 0) {
      if (S_ISLNK(st.st_mode)) {
        DC_ASSIGN_OR_RETURN(std::string real, RealPath(dir));
        if (!Inside(real)) {
          return InvalidArgumentError("refusing to write " + UrlFor(key) + ": directory " + dir +
                                      " is a symbolic link to " + real + ", outside " + root_);
        }
      } else if (!S_ISDIR(st.st_mode)) {
        return FailedPreconditionError("cannot write " + UrlFor(key) + ": " + dir +
                                       " exists and is not a directory");
      }
    } else if (errno == ENOENT) {
      if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
        return ErrnoToStatus(errno, "creating directory " + dir);
      }
    } else {
      return ErrnoToStatus(errno, "checking " + dir);
    }
    {
      std::lock_guard<std::mutex> lock(dirs_mu_);
      verified_dirs_.insert(dir);
    }
    pos = slash + 1;
  }
  SweepStaleTemps(path.substr(0, path.rfind('/')));
  // A directory at the final path itself is reported by the rename (EISDIR) that would replace it.
  return path;
}

namespace {
int64_t RealtimeNs() {
  struct timespec now;
  ::clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}
}  // namespace

LocalStore::LocalStore(LocalStoreOptions options, std::string root_real, io::File root_fd)
    : options_(std::move(options)), root_(std::move(root_real)), root_fd_(std::move(root_fd)),
      opened_at_ns_(RealtimeNs()) {}

// A run killed with -9 cannot remove its temporary files, and those of small files carry a
// random tag (two writers of one path must never share a temporary file), so the rerun would
// never reuse them. The first write into a directory removes the ones nobody has touched since
// before this store was opened (ctime: it cannot be set by utimes, unlike mtime). Multipart
// temporaries with a journal are resume state and stay. Another live process whose temporary
// file has been idle all that time loses it: its rename then fails, it never publishes a torn
// file. The margin covers coarse file system timestamps.
void LocalStore::SweepStaleTemps(const std::string& dir) const {
  constexpr int64_t kMarginNs = 100'000'000;
  std::lock_guard<std::mutex> lock(sweep_mu_);
  if (!swept_dirs_.insert(dir).second) return;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  std::vector<std::string> stale;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (!io::IsTempName(name) || name.ends_with(".journal")) continue;
    std::string path = dir + "/" + std::string(name);
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    int64_t ctime_ns = static_cast<int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 +
                       st.st_ctim.tv_nsec;
    if (ctime_ns + kMarginNs >= opened_at_ns_) continue;
    if (::access((path + ".journal").c_str(), F_OK) == 0) continue;
    stale.push_back(std::move(path));
  }
  ::closedir(d);
  for (const auto& path : stale) ::unlink(path.c_str());
}

Result<ObjectInfo> LocalStore::StatPath(const std::string& path, std::string key) const {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoToStatus(errno, "stat of " + UrlFor(key));
  if (S_ISDIR(st.st_mode)) {
    return NotFoundError("no file at " + UrlFor(key) + " (it is a directory)");
  }
  if (!S_ISREG(st.st_mode)) {
    return InvalidArgumentError(UrlFor(key) + " is not a regular file");
  }
  return InfoFromStat(st, std::move(key), path);
}

Result<ObjectInfo> LocalStore::Stat(std::string_view key) {
  DC_ASSIGN_OR_RETURN(io::File file, OpenForRead(key, O_PATH));
  struct stat st;
  if (::fstat(file.fd(), &st) != 0) return ErrnoToStatus(errno, "stat of " + UrlFor(key));
  if (S_ISDIR(st.st_mode)) {
    return NotFoundError("no file at " + UrlFor(key) + " (it is a directory)");
  }
  if (!S_ISREG(st.st_mode)) return InvalidArgumentError(UrlFor(key) + " is not a regular file");
  return InfoFromStat(st, std::string(key), file.path());
}

namespace {

struct DirEntry {
  std::string name;
  bool is_dir;
};

// Lists one directory, sorted so that a depth-first walk yields keys in byte order: a directory
// "a" sorts as "a/", which places it after "a-b" and before "a0" exactly as its keys do.
Result<std::vector<DirEntry>> ReadDirSorted(const std::string& dir, bool* missing) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT || errno == ENOTDIR) {
      *missing = true;
      return std::vector<DirEntry>{};
    }
    return ErrnoToStatus(errno, "listing " + dir);
  }
  std::vector<DirEntry> out;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == ".." || io::IsTempName(name)) continue;
    bool is_dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {
      struct stat st;
      std::string p = dir + "/" + name;
      is_dir = ::lstat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    }
    out.push_back({std::move(name), is_dir});
  }
  ::closedir(d);
  std::sort(out.begin(), out.end(), [](const DirEntry& a, const DirEntry& b) {
    return (a.is_dir ? a.name + "/" : a.name) < (b.is_dir ? b.name + "/" : b.name);
  });
  return out;
}

}  // namespace

Result<ListPage> LocalStore::List(const ListRequest& request) {
  ListPage page;
  // The directory that contains the prefix, and the name fragment to match in it.
  std::string_view prefix = request.prefix;
  size_t slash = prefix.rfind('/');
  std::string dir_key = slash == std::string_view::npos ? "" : std::string(prefix.substr(0, slash + 1));
  if (!dir_key.empty()) {
    std::string trimmed = dir_key.substr(0, dir_key.size() - 1);
    auto v = ValidateRelativeKey(trimmed);
    if (!v.ok()) return v.WithContext("listing " + UrlFor(request.prefix));
  }
  const size_t limit = request.max_keys == 0 ? SIZE_MAX : request.max_keys;
  const std::string& token = request.page_token;
  std::string last_key;

  // Iterative DFS over (directory key, entries, index).
  struct Frame {
    std::string key_prefix;
    std::vector<DirEntry> entries;
    size_t next = 0;
  };
  std::vector<Frame> stack;
  {
    bool missing = false;
    std::string dir_path = root_ + "/" + dir_key;
    if (!dir_key.empty()) {
      auto real = RealPath(dir_path);
      if (!real.ok()) {
        if (real.status().code() == StatusCode::kNotFound) return page;
        return real.status();
      }
      if (!Inside(*real)) {
        return InvalidArgumentError("refusing to list " + UrlFor(dir_key) +
                                    ": it resolves outside " + root_);
      }
    }
    DC_ASSIGN_OR_RETURN(auto entries, ReadDirSorted(dir_path, &missing));
    stack.push_back({dir_key, std::move(entries), 0});
  }
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.next >= f.entries.size()) {
      stack.pop_back();
      continue;
    }
    const DirEntry& e = f.entries[f.next++];
    std::string key = JoinKey(f.key_prefix, e.name);
    if (e.is_dir) {
      std::string sub = key + "/";
      // Prune: nothing below can match the prefix, or everything below was on earlier pages.
      bool may_match = sub.compare(0, std::min(sub.size(), prefix.size()), prefix, 0,
                                   std::min(sub.size(), prefix.size())) == 0;
      if (!may_match) continue;
      if (!token.empty() && sub < token && token.compare(0, sub.size(), sub) != 0) continue;
      if (!request.recursive && sub.size() > prefix.size()) {
        if (!token.empty() && sub <= token) continue;
        if (page.objects.size() + page.common_prefixes.size() >= limit) {
          page.next_page_token = last_key;
          return page;
        }
        page.common_prefixes.push_back(sub);
        last_key = sub;
        continue;
      }
      bool missing = false;
      DC_ASSIGN_OR_RETURN(auto entries, ReadDirSorted(root_ + "/" + key, &missing));
      stack.push_back({sub, std::move(entries), 0});
      continue;
    }
    if (key.compare(0, prefix.size(), prefix) != 0) continue;
    if (!token.empty() && key <= token) continue;
    std::string path = root_ + "/" + key;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) continue;  // vanished meanwhile
    if (S_ISLNK(st.st_mode)) {
      auto real = RealPath(path);
      // Links that dangle, point outside the root, or point at directories are not objects.
      if (!real.ok() || !Inside(*real) || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
        continue;
      }
    } else if (!S_ISREG(st.st_mode)) {
      continue;  // sockets, fifos, devices
    }
    if (page.objects.size() + page.common_prefixes.size() >= limit) {
      page.next_page_token = last_key;
      return page;
    }
    last_key = key;
    page.objects.push_back(InfoFromStat(st, key, path));
  }
  return page;
}

Status LocalStore::Read(std::string_view key, ByteRange range, io::ByteSink& sink,
                        const ReadOptions& options) {
  DC_ASSIGN_OR_RETURN(io::File file, OpenForRead(key, O_RDONLY));
  struct stat st;
  if (::fstat(file.fd(), &st) != 0) return ErrnoToStatus(errno, "stat of " + UrlFor(key));
  if (S_ISDIR(st.st_mode)) return NotFoundError("no file at " + UrlFor(key) + " (it is a directory)");
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (!options.if_match.empty()) {
    std::string etag = std::to_string(st.st_ino) + "-" + std::to_string(MtimeNs(st)) + "-" +
                       std::to_string(size);
    if (etag != options.if_match) {
      return FailedPreconditionError(UrlFor(key) + " changed while it was being read");
    }
  }
  if (range.offset > size || (range.offset == size && size > 0 && range.length != 0)) {
    if (!(range.offset == size && range.length == ByteRange::kToEnd)) {
      return OutOfRangeError("reading " + UrlFor(key) + ": offset " +
                             std::to_string(range.offset) + " is past the end (" +
                             std::to_string(size) + " bytes)");
    }
  }
  uint64_t pos = range.offset;
  const uint64_t end = range.EndWithin(size);
  thread_local std::unique_ptr<uint8_t[]> scratch;
  while (pos < end) {
    std::span<uint8_t> direct = sink.DirectSpace();
    size_t want = static_cast<size_t>(std::min<uint64_t>(end - pos, kReadChunk));
    if (direct.size() >= want) {
      DC_ASSIGN_OR_RETURN(size_t n, file.ReadAt(pos, direct.subspan(0, want)));
      if (n == 0) break;
      DC_RETURN_IF_ERROR(sink.CommitDirect(n));
      pos += n;
      continue;
    }
    if (!scratch) scratch.reset(new uint8_t[kReadChunk]);
    DC_ASSIGN_OR_RETURN(size_t n, file.ReadAt(pos, {scratch.get(), want}));
    if (n == 0) break;
    DC_RETURN_IF_ERROR(sink.Write({scratch.get(), n}));
    pos += n;
  }
  if (pos < end) {
    return DataLossError("reading " + UrlFor(key) + ": file shrank to " + std::to_string(pos) +
                         " bytes while it was read");
  }
  return Status();
}

Result<ObjectInfo> LocalStore::Put(std::string_view key, io::ByteSource& data,
                                   const WriteOptions& options) {
  DC_ASSIGN_OR_RETURN(std::string path, PathForWrite(key));
  if (options.if_none_match) {
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0) {
      return AlreadyExistsError(UrlFor(key) + " already exists");
    }
  }
  DC_ASSIGN_OR_RETURN(io::AtomicFileWriter writer, io::AtomicFileWriter::Create(path));
  thread_local std::unique_ptr<uint8_t[]> scratch;
  if (!scratch) scratch.reset(new uint8_t[kReadChunk]);
  // A caller that passes the SHA-256 computed it from the very bytes it hands us (the engine
  // does); hashing them again here would double the CPU cost of every small file.
  const bool hash_here = options.sha256.empty();
  crypto::Sha256 hasher;
  uint64_t total = 0;
  while (true) {
    DC_ASSIGN_OR_RETURN(size_t n, data.Read({scratch.get(), kReadChunk}));
    if (n == 0) break;
    if (hash_here) hasher.Update({scratch.get(), n});
    DC_RETURN_IF_ERROR(writer.Append({scratch.get(), n}));
    total += n;
  }
  if (options.size && *options.size != total) {
    return DataLossError("writing " + UrlFor(key) + ": expected " + std::to_string(*options.size) +
                         " bytes, got " + std::to_string(total));
  }
  std::string sha = hash_here ? hasher.FinishHex() : options.sha256;
  if (options.defer_visibility) {
    DC_ASSIGN_OR_RETURN(int64_t mtime, SealLocalWrite(writer, sha, total, options.mtime_ns));
    writer.Release();  // the group commit publishes (or a later run replaces) the temporary file
    ObjectInfo info;
    info.key = std::string(key);
    info.size = total;
    info.mtime_ns = mtime;
    info.sha256 = sha;
    DC_RETURN_IF_ERROR(EnqueuePublish({writer.temp_path(), path, total}));
    return info;
  }
  DC_RETURN_IF_ERROR(FinishLocalWrite(writer, sha, total, options.mtime_ns));
  return StatPath(path, std::string(key));
}

Result<std::unique_ptr<MultipartUpload>> LocalStore::StartMultipart(
    std::string_view key, const MultipartOptions& options) {
  DC_ASSIGN_OR_RETURN(std::string path, PathForWrite(key));
  return StartLocalMultipart(*this, std::string(key), path, options);
}

Status LocalStore::Delete(std::string_view key) {
  DC_RETURN_IF_ERROR(ValidateRelativeKey(key).WithContext("refusing to delete " + UrlFor(key)));
  std::string path = root_ + "/" + std::string(key);
  // The parent must resolve inside the root; the final component is removed itself (a symlink
  // is unlinked, never followed).
  size_t slash = path.rfind('/');
  auto parent = RealPath(path.substr(0, slash));
  if (!parent.ok()) {
    return parent.status().code() == StatusCode::kNotFound ? Status() : parent.status();
  }
  if (!Inside(*parent)) {
    return InvalidArgumentError("refusing to delete " + UrlFor(key) + ": it is outside " + root_);
  }
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    return errno == ENOENT ? Status() : ErrnoToStatus(errno, "deleting " + UrlFor(key));
  }
  if (S_ISDIR(st.st_mode)) {
    return FailedPreconditionError("not deleting " + UrlFor(key) + ": it is a directory");
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoToStatus(errno, "deleting " + UrlFor(key));
  }
  // Remove directories left empty, up to (not including) the root, like S3's implicit
  // directories disappearing with their last key.
  std::string dir = path.substr(0, slash);
  while (dir.size() > root_.size() && ::rmdir(dir.c_str()) == 0) {
    dir = dir.substr(0, dir.rfind('/'));
  }
  // Best effort: the directory may have just been removed above.
  io::SyncDirectory(path.substr(0, slash)).IgnoreError();
  return Status();
}

Result<ObjectInfo> LocalStore::CopyWithin(std::string_view src_key, std::string_view dst_key) {
  DC_ASSIGN_OR_RETURN(ObjectInfo info, Stat(src_key));
  DC_ASSIGN_OR_RETURN(io::File in, OpenForRead(src_key, O_RDONLY));
  struct FileSource : io::ByteSource {
    const io::File& f;
    uint64_t pos = 0;
    explicit FileSource(const io::File& file) : f(file) {}
    Result<size_t> Read(std::span<uint8_t> out) override {
      DC_ASSIGN_OR_RETURN(size_t n, f.ReadAt(pos, out));
      pos += n;
      return n;
    }
  } source(in);
  WriteOptions opts;
  opts.size = info.size;
  opts.mtime_ns = info.mtime_ns;
  return Put(dst_key, source, opts);
}

Result<int64_t> SealLocalWrite(io::AtomicFileWriter& writer, const std::string& sha256,
                               uint64_t size, std::optional<int64_t> mtime_ns) {
  // The xattr is written before the file becomes visible so the hash is never missing on a
  // visible file. Its mtime must be the final one: the source's, or now.
  int64_t final_mtime = 0;
  if (mtime_ns) {
    final_mtime = *mtime_ns;
  } else {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    final_mtime = static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
  }
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
  auto root = io::File::Open(root_, O_RDONLY | O_DIRECTORY);
  const bool syncfs_works = root.ok() && ::syncfs(root->fd()) == 0;
  if (!syncfs_works) {
    for (const auto& p : batch) {
      auto f = io::File::Open(p.temp_path, O_RDONLY);
      Status s = f.ok() ? f->Sync() : f.status();
      if (!s.ok()) fail(s);
    }
    if (!first.ok()) {  // nothing is published unless its data is known to be on disk
      for (const auto& p : batch) ::unlink(p.temp_path.c_str());
      return first;
    }
  }
  std::vector<std::string> dirs;
  for (const auto& p : batch) {
    if (::rename(p.temp_path.c_str(), p.final_path.c_str()) != 0) {
      fail(ErrnoToStatus(errno, "publishing " + p.final_path));
      ::unlink(p.temp_path.c_str());
      continue;
    }
    dirs.push_back(p.final_path.substr(0, p.final_path.rfind('/')));
  }
  if (syncfs_works && ::syncfs(root->fd()) == 0) return first;  // the renames, all at once
  std::sort(dirs.begin(), dirs.end());
  dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
  for (const auto& d : dirs) {
    Status s = io::SyncDirectory(d);
    if (!s.ok()) fail(s);
  }
  return first;
}

}  // namespace datacube::storage
