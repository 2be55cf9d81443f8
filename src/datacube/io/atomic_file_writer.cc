// Durability protocol for every file datacube writes to a local path:
//
//  1. Create a temporary file in the *same directory* as the target (rename is atomic only within
//     one file system), with a hidden name ".<name>.<tag>.dctmp" that listings skip.
//  2. Write the data (sequentially, or at offsets when parts arrive out of order).
//  3. fsync the temporary file, so its data is on disk before its name can become final.
//  4. rename(2) it over the target: readers see the old file or the new one, never a mixture.
//  5. fsync the directory, so the rename itself survives a power cut.
//
// If the process dies before step 4, the target is untouched and only the hidden temporary file
// remains: a rerun either resumes it (multipart journals, see storage/local/local_store.cc) or
// replaces it. Without Commit(), the destructor unlinks the temporary file.
#include "datacube/io/atomic_file_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <random>

#include "datacube/crypto/sha256.h"

namespace datacube::io {
namespace {

constexpr size_t kMaxNameLength = 255;
constexpr std::string_view kTempSuffix = ".dctmp";

std::pair<std::string, std::string> SplitDirBase(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

std::string RandomTag() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string tag(8, 'x');
  for (auto& c : tag) c = kChars[rng() % 36];
  return tag;
}

}  // namespace

std::string TempNameFor(std::string_view base, std::string_view tag) {
  std::string name = "." + std::string(base) + "." + std::string(tag) + std::string(kTempSuffix);
  if (name.size() + 8 > kMaxNameLength) {  // leave room for ".journal"
    name = ".dc-" + crypto::Sha256Hex(base).substr(0, 32) + "." + std::string(tag) +
           std::string(kTempSuffix);
  }
  return name;
}

std::string TempPathFor(const std::string& final_path, std::string_view tag) {
  auto [dir, base] = SplitDirBase(final_path);
  return (dir == "/" ? "" : dir) + "/" + TempNameFor(base, tag);
}

bool IsTempName(std::string_view name) {
  if (name.empty() || name[0] != '.') return false;
  auto ends_with = [&](std::string_view suffix) {
    return name.size() >= suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
  };
  return ends_with(kTempSuffix) || ends_with(".dctmp.journal");
}

AtomicFileWriter::AtomicFileWriter(File file, std::shared_ptr<const File> dir,
                                   std::string final_name, std::string temp_name)
    : file_(std::move(file)),
      dir_(std::move(dir)),
      final_name_(std::move(final_name)),
      temp_name_(std::move(temp_name)) {
  const std::string& d = dir_->path();
  std::string prefix = d == "/" ? "/" : d + "/";
  final_path_ = prefix + final_name_;
  temp_path_ = prefix + temp_name_;
}

namespace {
Result<std::shared_ptr<const File>> OpenParent(const std::string& final_path) {
  std::string dir = SplitDirBase(final_path).first;
  DC_ASSIGN_OR_RETURN(File d, File::Open(dir, O_RDONLY | O_DIRECTORY));
  return std::make_shared<const File>(std::move(d));
}

Result<File> OpenAt(const File& dir, const std::string& name, int flags, mode_t mode) {
  int fd;
  do {
    fd = ::openat(dir.fd(), name.c_str(), flags | O_CLOEXEC | O_NOFOLLOW, mode);
  } while (fd < 0 && errno == EINTR);
  std::string path = (dir.path() == "/" ? "" : dir.path()) + "/" + name;
  if (fd < 0) return ErrnoToStatus(errno, "opening " + path);
  return File(fd, path);
}
}  // namespace

Result<AtomicFileWriter> AtomicFileWriter::Create(const std::string& final_path) {
  auto dir = OpenParent(final_path);
  if (!dir.ok()) return dir.status().WithContext("creating a temporary file for " + final_path);
  return CreateIn(std::move(*dir), SplitDirBase(final_path).second);
}

Result<AtomicFileWriter> AtomicFileWriter::CreateIn(std::shared_ptr<const File> dir,
                                                    std::string name) {
  std::string shown = (dir->path() == "/" ? "" : dir->path()) + "/" + name;
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::string temp = TempNameFor(name, RandomTag());
    auto file = OpenAt(*dir, temp, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (file.ok()) return AtomicFileWriter(std::move(*file), std::move(dir), name, temp);
    if (file.status().code() != StatusCode::kAlreadyExists) {
      return file.status().WithContext("creating a temporary file for " + shown);
    }
  }
  return InternalError("could not create a unique temporary file for " + shown);
}

Result<AtomicFileWriter> AtomicFileWriter::OpenExisting(const std::string& final_path,
                                                        const std::string& temp_path) {
  auto dir = OpenParent(final_path);
  if (!dir.ok()) return dir.status().WithContext("opening a temporary file for " + final_path);
  return OpenExistingIn(std::move(*dir), SplitDirBase(final_path).second,
                        SplitDirBase(temp_path).second);
}

Result<AtomicFileWriter> AtomicFileWriter::OpenExistingIn(std::shared_ptr<const File> dir,
                                                          std::string name, std::string temp_name) {
  DC_ASSIGN_OR_RETURN(File file, OpenAt(*dir, temp_name, O_RDWR | O_CREAT, 0644));
  struct stat st;
  if (::fstat(file.fd(), &st) != 0) return ErrnoToStatus(errno, "stat of " + file.path());
  if (!S_ISREG(st.st_mode)) {
    return FailedPreconditionError(file.path() + " is not a regular file; not resuming into it");
  }
  return AtomicFileWriter(std::move(file), std::move(dir), std::move(name), std::move(temp_name));
}

AtomicFileWriter::~AtomicFileWriter() {
  if (!committed_ && !released_ && dir_ && file_.is_open()) {
    ::unlinkat(dir_->fd(), temp_name_.c_str(), 0);
  }
}

Status AtomicFileWriter::Append(std::span<const uint8_t> data) {
  DC_RETURN_IF_ERROR(file_.Write(data));
  appended_ += data.size();
  return Status();
}

Status AtomicFileWriter::WriteAt(uint64_t offset, std::span<const uint8_t> data) {
  return file_.WriteAt(offset, data);
}

Status AtomicFileWriter::Resize(uint64_t size) { return file_.Truncate(size); }

Status AtomicFileWriter::Allocate(uint64_t size) {
  int rc = ::posix_fallocate(file_.fd(), 0, static_cast<off_t>(size));
  if (rc == 0 || rc == EOPNOTSUPP || rc == ENOSYS || rc == EINVAL) return Status();
  return ErrnoToStatus(rc, "allocating " + std::to_string(size) + " bytes for " + final_path_);
}

Status AtomicFileWriter::Commit(std::optional<int64_t> mtime_ns) {
  DC_RETURN_IF_ERROR(file_.Sync());
  if (mtime_ns) {
    struct timespec times[2];
    times[0].tv_sec = 0;
    times[0].tv_nsec = UTIME_OMIT;
    times[1].tv_sec = *mtime_ns / 1'000'000'000;
    times[1].tv_nsec = *mtime_ns % 1'000'000'000;
    if (::futimens(file_.fd(), times) != 0) {
      return ErrnoToStatus(errno, "setting modification time of " + temp_path_);
    }
  }
  if (::renameat(dir_->fd(), temp_name_.c_str(), dir_->fd(), final_name_.c_str()) != 0) {
    return ErrnoToStatus(errno, "renaming " + temp_path_ + " to " + final_path_);
  }
  committed_ = true;
  DC_RETURN_IF_ERROR(file_.Close());
  return dir_->Sync();
}

}  // namespace datacube::io
