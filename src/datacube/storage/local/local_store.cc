#include "datacube/storage/local/local_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>

#include "datacube/crypto/sha256.h"
#include "datacube/io/atomic_file_writer.h"
#include "datacube/io/beneath.h"
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

// The path through which the kernel reaches the open descriptor `fd` (plus `name` inside it when
// `fd` is a directory) without walking any user-controlled path again.
std::string FdPath(int fd, std::string_view name = {}) {
  std::string p = "/proc/self/fd/" + std::to_string(fd);
  if (!name.empty()) p += "/" + std::string(name);
  return p;
}

// Reads the cached hash of the file at `path` (an FdPath) if it still describes this size and
// mtime. An FdPath with a name never follows a link there; one of a file's own descriptor follows
// the descriptor's magic link to the file itself.
std::string CachedSha256(const std::string& path, uint64_t size, int64_t mtime_ns) {
  char buf[160];
  const bool names_entry = path.find('/', sizeof "/proc/self/fd/" - 1) != std::string::npos;
  ssize_t n = names_entry ? ::lgetxattr(path.c_str(), kShaXattr, buf, sizeof buf - 1)
                          : ::getxattr(path.c_str(), kShaXattr, buf, sizeof buf - 1);
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

std::string EtagOf(const struct stat& st) {
  return std::to_string(st.st_ino) + "-" + std::to_string(MtimeNs(st)) + "-" +
         std::to_string(static_cast<uint64_t>(st.st_size));
}

ObjectInfo InfoFromStat(const struct stat& st, std::string key, const std::string& xattr_path) {
  ObjectInfo info;
  info.key = std::move(key);
  info.size = static_cast<uint64_t>(st.st_size);
  info.mtime_ns = MtimeNs(st);
  info.etag = EtagOf(st);
  info.sha256 = CachedSha256(xattr_path, info.size, *info.mtime_ns);
  return info;
}

std::string JoinKey(std::string_view prefix, std::string_view name) {
  std::string out(prefix);
  out += name;
  return out;
}

// "FIFO", "socket", ... for messages about files that are not regular.
std::string KindOf(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "not a regular file";
}

// Kernel pseudo-files (/proc, /sys) report a size of 0 and still have content; copying by the
// reported size would land an empty file. True when a zero-sized regular file yields a byte.
bool HasContentBeyondSize(int readable_fd, const struct stat& st) {
  if (!S_ISREG(st.st_mode) || st.st_size != 0) return false;
  char c;
  ssize_t n;
  do {
    n = ::pread(readable_fd, &c, 1, 0);
  } while (n < 0 && errno == EINTR);
  return n > 0;
}

std::string UnsizedReason() {
  return "it reports a size of 0 bytes but has content (a kernel pseudo-file such as those in "
         "/proc or /sys); datacube copies files by their size, so copy it to a regular file first";
}

}  // namespace

void CacheSha256(int fd, const std::string& sha256, uint64_t size, int64_t mtime_ns) {
  if (!crypto::IsSha256Hex(sha256)) return;
  std::string value = sha256 + " " + std::to_string(size) + " " + std::to_string(mtime_ns);
  (void)::fsetxattr(fd, kShaXattr, value.data(), value.size(), 0);
}

namespace {

// A root given as a path by the operator or user: followed as written (it is theirs), created
// with its parents when asked.
Result<io::File> OpenPlainRoot(const LocalStoreOptions& options, std::string* real_out) {
  struct stat st;
  if (::stat(options.root.c_str(), &st) != 0) {
    if (errno != ENOENT || !options.create_root) {
      return ErrnoToStatus(errno, "opening directory " + options.root);
    }
    std::string partial;  // mkdir -p
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
  DC_ASSIGN_OR_RETURN(*real_out, RealPath(options.root));
  return io::File::Open(*real_out, O_PATH | O_DIRECTORY);
}

// A root inside a jail: resolved (and created) beneath the jail like a key.
Result<io::File> OpenJailedRoot(const LocalStoreOptions& options, std::string* real_out) {
  const std::string shown =
      options.display_prefix.empty() ? options.jail + "/" + options.root : options.display_prefix;
  if (!options.root.empty()) {
    DC_RETURN_IF_ERROR(ValidateRelativeKey(options.root).WithContext("refusing " + shown));
  }
  DC_ASSIGN_OR_RETURN(io::File jail, io::File::Open(options.jail, O_PATH | O_DIRECTORY));
  Result<io::File> dir = options.create_root
                             ? io::MakeDirsBeneath(jail, options.root, shown)
                             : io::OpenBeneath(jail, options.root, O_PATH | O_DIRECTORY, 0, shown);
  if (!dir.ok()) return dir.status();
  DC_ASSIGN_OR_RETURN(*real_out, io::PathOfDescriptor(*dir));
  return std::move(*dir);
}

}  // namespace

Result<std::shared_ptr<LocalStore>> LocalStore::Open(LocalStoreOptions options) {
  if (options.root.empty() && options.jail.empty()) options.root = ".";
  std::string real;
  Result<io::File> root =
      options.jail.empty() ? OpenPlainRoot(options, &real) : OpenJailedRoot(options, &real);
  if (!root.ok()) return root.status();
  // The descriptor carries the real path, so messages from io/beneath.h name the directory.
  io::File anchor(::fcntl(root->fd(), F_DUPFD_CLOEXEC, 0), real);
  if (!anchor.is_open()) return ErrnoToStatus(errno, "opening directory " + real);
  return std::shared_ptr<LocalStore>(
      new LocalStore(std::move(options), std::move(real), std::move(anchor)));
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

Result<io::File> LocalStore::OpenForRead(std::string_view key, int flags) const {
  DC_RETURN_IF_ERROR(ValidateRelativeKey(key).WithContext("refusing " + UrlFor(key)));
  return io::OpenBeneath(root_fd_, key, flags, 0, UrlFor(key));
}

Result<LocalStore::ParentDir> LocalStore::OpenParentForWrite(std::string_view key) const {
  DC_RETURN_IF_ERROR(ValidateRelativeKey(key).WithContext("refusing to write " + UrlFor(key)));
  auto [parent, name] = io::SplitParentName(key);
  Result<io::File> dir = parent.empty() ? io::OpenBeneath(root_fd_, "", O_RDONLY | O_DIRECTORY)
                                        : io::MakeDirsBeneath(root_fd_, parent, UrlFor(parent));
  if (!dir.ok()) return dir.status().WithContext("writing " + UrlFor(key));
  ParentDir out{std::make_shared<const io::File>(std::move(*dir)), std::string(name)};
  SweepStaleTemps(*out.dir, std::string(parent));
  // A directory at the final name itself is reported by the rename (EISDIR) that would replace it.
  return out;
}

namespace {
int64_t RealtimeNs() {
  struct timespec now;
  ::clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}
}  // namespace

LocalStore::LocalStore(LocalStoreOptions options, std::string root_real, io::File root_fd)
    : options_(std::move(options)),
      root_(std::move(root_real)),
      root_fd_(std::move(root_fd)),
      opened_at_ns_(RealtimeNs()) {}

// A run killed with -9 cannot remove its temporary files, and those of small files carry a
// random tag (two writers of one path must never share a temporary file), so the rerun would
// never reuse them. The first write into a directory removes the ones nobody has touched since
// before this store was opened (ctime: it cannot be set by utimes, unlike mtime). Multipart
// temporaries with a journal are resume state and stay. Another live process whose temporary
// file has been idle all that time loses it: its rename then fails, it never publishes a torn
// file. The margin covers coarse file system timestamps.
void LocalStore::SweepStaleTemps(const io::File& dir, const std::string& dir_key) const {
  std::lock_guard<std::mutex> lock(sweep_mu_);
  if (!swept_dirs_.insert(dir_key).second) return;
  int fd = ::openat(dir.fd(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    ::close(fd);
    return;
  }
  std::vector<std::string> stale;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (!io::IsTempName(name)) continue;
    // A journal stays with its partial; alone it is a leftover too.
    const bool journal = name.ends_with(".journal");
    if (journal && ::faccessat(dir.fd(), name.substr(0, name.size() - 8).c_str(), F_OK,
                               AT_SYMLINK_NOFOLLOW) == 0) {
      continue;
    }
    struct stat st;
    if (::fstatat(dir.fd(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
      continue;
    }
    int64_t ctime_ns = static_cast<int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec;
    if (ctime_ns + kStaleMarginNs >= opened_at_ns_) continue;
    if (!journal &&
        ::faccessat(dir.fd(), (name + ".journal").c_str(), F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
      continue;
    }
    stale.push_back(std::move(name));
  }
  ::closedir(d);
  for (const auto& name : stale) ::unlinkat(dir.fd(), name.c_str(), 0);
}

Result<ObjectInfo> LocalStore::StatAt(const io::File& dir, const std::string& name,
                                      std::string key) const {
  struct stat st;
  if (::fstatat(dir.fd(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoToStatus(errno, "stat of " + UrlFor(key));
  }
  if (S_ISDIR(st.st_mode)) {
    return NotFoundError("no file at " + UrlFor(key) + " (it is a directory)");
  }
  if (!S_ISREG(st.st_mode)) {
    return InvalidArgumentError(UrlFor(key) + " is " + KindOf(st.st_mode) + ", not a regular file");
  }
  return InfoFromStat(st, std::move(key), FdPath(dir.fd(), name));
}

Result<ObjectInfo> LocalStore::Stat(std::string_view key) {
  DC_ASSIGN_OR_RETURN(io::File file, OpenForRead(key, O_PATH));
  struct stat st;
  if (::fstat(file.fd(), &st) != 0) return ErrnoToStatus(errno, "stat of " + UrlFor(key));
  if (S_ISDIR(st.st_mode)) {
    return NotFoundError("no file at " + UrlFor(key) + " (it is a directory)");
  }
  if (!S_ISREG(st.st_mode)) {
    return InvalidArgumentError("refusing " + UrlFor(key) + ": it is " + KindOf(st.st_mode) +
                                ", not a regular file");
  }
  if (st.st_size == 0) {
    DC_ASSIGN_OR_RETURN(io::File readable, OpenForRead(key, O_RDONLY | O_NONBLOCK));
    if (HasContentBeyondSize(readable.fd(), st)) {
      return InvalidArgumentError("refusing " + UrlFor(key) + ": " + UnsizedReason());
    }
  }
  return InfoFromStat(st, std::string(key), FdPath(file.fd()));
}

namespace {

struct DirEntry {
  std::string name;
  bool is_dir;
};

// Lists the open directory `dir`, sorted so that a depth-first walk yields keys in byte order: a
// directory "a" sorts as "a/", which places it after "a-b" and before "a0" exactly as its keys do.
Result<std::vector<DirEntry>> ReadDirSorted(const io::File& dir) {
  int fd = ::openat(dir.fd(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR* d = fd < 0 ? nullptr : ::fdopendir(fd);
  if (d == nullptr) {
    int err = errno;
    if (fd >= 0) ::close(fd);
    return ErrnoToStatus(err, "listing " + dir.path());
  }
  std::vector<DirEntry> out;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == ".." || io::IsTempName(name)) continue;
    bool is_dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {
      struct stat st;
      is_dir =
          ::fstatat(dir.fd(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
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
  std::string dir_key =
      slash == std::string_view::npos ? "" : std::string(prefix.substr(0, slash + 1));
  std::string trimmed = dir_key.empty() ? "" : dir_key.substr(0, dir_key.size() - 1);
  if (!dir_key.empty()) {
    auto v = ValidateRelativeKey(trimmed);
    if (!v.ok()) return v.WithContext("listing " + UrlFor(request.prefix));
  }
  const size_t limit = request.max_keys == 0 ? SIZE_MAX : request.max_keys;
  const std::string& token = request.page_token;
  std::string last_key;

  // Iterative DFS over (directory, its key, entries, index). Every directory below the first is
  // opened from its parent's descriptor without following links, so the walk stays in the tree.
  struct Frame {
    io::File dir;
    std::string key_prefix;
    std::vector<DirEntry> entries;
    size_t next = 0;
  };
  std::vector<Frame> stack;
  {
    auto top = io::OpenBeneath(root_fd_, trimmed, O_RDONLY | O_DIRECTORY, 0, UrlFor(trimmed));
    if (!top.ok()) {
      if (top.status().code() == StatusCode::kNotFound) return page;
      return top.status().WithContext("listing " + UrlFor(request.prefix));
    }
    DC_ASSIGN_OR_RETURN(auto entries, ReadDirSorted(*top));
    stack.push_back({std::move(*top), dir_key, std::move(entries), 0});
  }
  auto skip = [&](std::string key, SkippedEntry::Kind kind, std::string reason) {
    page.skipped.push_back({std::move(key), kind, std::move(reason)});
  };
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.next >= f.entries.size()) {
      stack.pop_back();
      continue;
    }
    const DirEntry e = f.entries[f.next++];
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
      int fd =
          ::openat(f.dir.fd(), e.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) continue;  // vanished, or replaced by a link meanwhile
      io::File sub_dir(fd, root_ + "/" + key);
      auto entries = ReadDirSorted(sub_dir);
      if (!entries.ok()) return entries.status();
      stack.push_back({std::move(sub_dir), sub, std::move(*entries), 0});
      continue;
    }
    if (key.compare(0, prefix.size(), prefix) != 0) continue;
    if (!token.empty() && key <= token) continue;
    struct stat st;
    if (::fstatat(f.dir.fd(), e.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // gone
    std::string xattr_path = FdPath(f.dir.fd(), e.name);
    io::File target;  // for a link: the file it leads to, resolved beneath the root
    if (S_ISLNK(st.st_mode)) {
      auto opened = io::OpenBeneath(root_fd_, key, O_PATH, 0, UrlFor(key));
      if (!opened.ok()) {
        bool out = opened.status().code() == StatusCode::kInvalidArgument;
        skip(key, SkippedEntry::Kind::kSymlink,
             out ? "symbolic link leading outside " + UrlFor("") : "dangling symbolic link");
        continue;
      }
      if (::fstat(opened->fd(), &st) != 0) continue;
      if (!S_ISREG(st.st_mode)) {
        skip(key, SkippedEntry::Kind::kSymlink,
             "symbolic link to " + KindOf(st.st_mode) + " (not followed)");
        continue;
      }
      target = std::move(*opened);
      xattr_path = FdPath(target.fd());
    } else if (!S_ISREG(st.st_mode)) {
      skip(key, SkippedEntry::Kind::kSpecial, KindOf(st.st_mode) + ", not a regular file");
      continue;
    }
    if (st.st_size == 0) {
      int fd = target.is_open() ? ::open(xattr_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)
                                : ::openat(f.dir.fd(), e.name.c_str(),
                                           O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
      io::File readable(fd, key);
      if (readable.is_open() && HasContentBeyondSize(readable.fd(), st)) {
        skip(key, SkippedEntry::Kind::kUnsizedFile, UnsizedReason());
        continue;
      }
    }
    if (page.objects.size() + page.common_prefixes.size() >= limit) {
      page.next_page_token = last_key;
      page.skipped.erase(std::remove_if(page.skipped.begin(), page.skipped.end(),
                                        [&](const SkippedEntry& s) { return s.key >= key; }),
                         page.skipped.end());
      return page;
    }
    last_key = key;
    page.objects.push_back(InfoFromStat(st, key, xattr_path));
  }
  return page;
}

Status LocalStore::Read(std::string_view key, ByteRange range, io::ByteSink& sink,
                        const ReadOptions& options) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
  DC_ASSIGN_OR_RETURN(io::File file, OpenForRead(key, O_RDONLY | O_NONBLOCK));
  struct stat st;
  if (::fstat(file.fd(), &st) != 0) return ErrnoToStatus(errno, "stat of " + UrlFor(key));
  if (S_ISDIR(st.st_mode))
    return NotFoundError("no file at " + UrlFor(key) + " (it is a directory)");
  if (!S_ISREG(st.st_mode)) {
    return InvalidArgumentError("refusing to read " + UrlFor(key) + ": it is " +
                                KindOf(st.st_mode) + ", not a regular file");
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (!options.if_match.empty()) {
    if (EtagOf(st) != options.if_match) {
      return FailedPreconditionError(UrlFor(key) + " changed while it was being read");
    }
  }
  if (range.offset > size || (range.offset == size && size > 0 && range.length != 0)) {
    if (!(range.offset == size && range.length == ByteRange::kToEnd)) {
      return OutOfRangeError("reading " + UrlFor(key) + ": offset " + std::to_string(range.offset) +
                             " is past the end (" + std::to_string(size) + " bytes)");
    }
  }
  if (HasContentBeyondSize(file.fd(), st)) {
    return InvalidArgumentError("refusing to read " + UrlFor(key) + ": " + UnsizedReason());
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
  DC_ASSIGN_OR_RETURN(ParentDir parent, OpenParentForWrite(key));
  if (options.if_none_match) {
    struct stat st;
    if (::fstatat(parent.dir->fd(), parent.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      return AlreadyExistsError(UrlFor(key) + " already exists");
    }
  }
  DC_ASSIGN_OR_RETURN(io::AtomicFileWriter writer,
                      io::AtomicFileWriter::CreateIn(parent.dir, parent.name));
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
    DC_RETURN_IF_ERROR(EnqueuePublish({parent.dir, writer.temp_name(), parent.name, total}));
    return info;
  }
  DC_RETURN_IF_ERROR(FinishLocalWrite(writer, sha, total, options.mtime_ns));
  return StatAt(*parent.dir, parent.name, std::string(key));
}

Result<std::unique_ptr<MultipartUpload>> LocalStore::StartMultipart(
    std::string_view key, const MultipartOptions& options) {
  DC_ASSIGN_OR_RETURN(ParentDir parent, OpenParentForWrite(key));
  return StartLocalMultipart(*this, std::string(key), parent.dir, parent.name, options);
}

Status LocalStore::Delete(std::string_view key) {
  DC_RETURN_IF_ERROR(ValidateRelativeKey(key).WithContext("refusing to delete " + UrlFor(key)));
  // The parent is resolved beneath the root; the entry itself is removed relative to it (a
  // symlink is unlinked, never followed).
  auto [parent_key, name] = io::SplitParentName(key);
  auto parent =
      io::OpenBeneath(root_fd_, parent_key, O_RDONLY | O_DIRECTORY, 0, UrlFor(parent_key));
  if (!parent.ok()) {
    if (parent.status().code() == StatusCode::kNotFound) return Status();
    return parent.status().WithContext("deleting " + UrlFor(key));
  }
  std::string n(name);
  struct stat st;
  if (::fstatat(parent->fd(), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return errno == ENOENT ? Status() : ErrnoToStatus(errno, "deleting " + UrlFor(key));
  }
  if (S_ISDIR(st.st_mode)) {
    return FailedPreconditionError("not deleting " + UrlFor(key) + ": it is a directory");
  }
  if (::unlinkat(parent->fd(), n.c_str(), 0) != 0 && errno != ENOENT) {
    return ErrnoToStatus(errno, "deleting " + UrlFor(key));
  }
  parent->Sync().IgnoreError();
  // Remove directories left empty, up to (not including) the root, like S3's implicit
  // directories disappearing with their last key. Each is removed from its own parent's
  // descriptor, resolved beneath the root.
  std::string_view dir = parent_key;
  while (!dir.empty()) {
    auto [up, last] = io::SplitParentName(dir);
    auto up_dir = io::OpenBeneath(root_fd_, up, O_RDONLY | O_DIRECTORY);
    if (!up_dir.ok() || ::unlinkat(up_dir->fd(), std::string(last).c_str(), AT_REMOVEDIR) != 0) {
      break;
    }
    up_dir->Sync().IgnoreError();
    dir = up;
  }
  return Status();
}

Result<ObjectInfo> LocalStore::CopyWithin(std::string_view src_key, std::string_view dst_key) {
  DC_ASSIGN_OR_RETURN(ObjectInfo info, Stat(src_key));
  DC_ASSIGN_OR_RETURN(io::File in, OpenForRead(src_key, O_RDONLY | O_NONBLOCK));
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
    int fd = ::openat(dir.fd(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR* d = fd < 0 ? nullptr : ::fdopendir(fd);
    if (d == nullptr) {
      if (fd >= 0) ::close(fd);
      continue;
    }
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
      int64_t ctime_ns =
          static_cast<int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec;
      if (ctime_ns + kStaleMarginNs >= opened_at_ns_) continue;
      stale.push_back(std::move(name));
    }
    ::closedir(d);
    for (const auto& name : stale) {
      if (::unlinkat(dir.fd(), name.c_str(), 0) == 0) ++removed;
    }
  }
  return removed;
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
