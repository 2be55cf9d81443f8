#include "datacube/storage/local/local_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>

#include "datacube/crypto/sha256.h"
#include "datacube/io/atomic_file_writer.h"
#include "datacube/io/beneath.h"
#include "datacube/io/file.h"
#include "datacube/storage/local/local_file_info.h"
#include "datacube/storage/local/local_multipart.h"

namespace datacube::storage {
namespace {

using local_detail::EtagOf;
using local_detail::FdPath;
using local_detail::HasContentBeyondSize;
using local_detail::InfoFromStat;
using local_detail::KindOf;
using local_detail::kReadChunk;
using local_detail::UnsizedReason;

Result<std::string> RealPath(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr) return ErrnoToStatus(errno, "resolving " + path);
  return std::string(buf);
}

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

LocalStore::LocalStore(LocalStoreOptions options, std::string root_real, io::File root_fd)
    : options_(std::move(options)),
      root_(std::move(root_real)),
      root_fd_(std::move(root_fd)),
      opened_at_ns_(local_detail::RealtimeNs()) {}

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

// Copies [pos, end) of `file` into `sink`, straight into its memory where it offers some.
// Returns where the copy stopped: before `end` when the file ended early.
Result<uint64_t> CopyRangeToSink(const io::File& file, uint64_t pos, uint64_t end,
                                 io::ByteSink& sink) {
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
  return pos;
}

}  // namespace

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
  const uint64_t end = range.EndWithin(size);
  DC_ASSIGN_OR_RETURN(uint64_t pos, CopyRangeToSink(file, range.offset, end, sink));
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

namespace {

// Removes the directories left empty from `dir_key` up to (not including) the root, like S3's
// implicit directories disappearing with their last key. Each is removed from its own parent's
// descriptor, resolved beneath the root.
void RemoveEmptyParents(const io::File& root_fd, std::string_view dir_key) {
  std::string_view dir = dir_key;
  while (!dir.empty()) {
    auto [up, last] = io::SplitParentName(dir);
    auto up_dir = io::OpenBeneath(root_fd, up, O_RDONLY | O_DIRECTORY);
    if (!up_dir.ok() || ::unlinkat(up_dir->fd(), std::string(last).c_str(), AT_REMOVEDIR) != 0) {
      break;
    }
    up_dir->Sync().IgnoreError();
    dir = up;
  }
}

}  // namespace

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
  RemoveEmptyParents(root_fd_, parent_key);
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

}  // namespace datacube::storage
