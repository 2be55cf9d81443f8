#include "datacube/io/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace datacube::io {

Result<uint64_t> Pump(ByteSource& source, ByteSink& sink, std::span<uint8_t> scratch) {
  uint64_t total = 0;
  while (true) {
    DC_ASSIGN_OR_RETURN(size_t n, source.Read(scratch));
    if (n == 0) return total;
    DC_RETURN_IF_ERROR(sink.Write(scratch.subspan(0, n)));
    total += n;
  }
}

File::~File() {
  if (fd_ >= 0) ::close(fd_);
}

File::File(File&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

Result<File> File::Open(const std::string& path, int flags, mode_t mode) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return ErrnoToStatus(errno, "opening " + path);
  return File(fd, path);
}

Result<size_t> File::ReadAt(uint64_t offset, std::span<uint8_t> out) const {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n =
        ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus(errno, "reading " + path_);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

Status File::WriteAt(uint64_t offset, std::span<const uint8_t> data) const {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n =
        ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus(errno, "writing " + path_);
    }
    done += static_cast<size_t>(n);
  }
  return Status();
}

Status File::Write(std::span<const uint8_t> data) const {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus(errno, "writing " + path_);
    }
    done += static_cast<size_t>(n);
  }
  return Status();
}

Status File::Sync() const {
  if (::fsync(fd_) != 0) return ErrnoToStatus(errno, "syncing " + path_);
  return Status();
}

Status File::DataSync() const {
  if (::fdatasync(fd_) != 0) return ErrnoToStatus(errno, "syncing " + path_);
  return Status();
}

Status File::Truncate(uint64_t size) const {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
    return ErrnoToStatus(errno, "resizing " + path_);
  }
  return Status();
}

Result<uint64_t> File::Size() const {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return ErrnoToStatus(errno, "stat of " + path_);
  return static_cast<uint64_t>(st.st_size);
}

Status File::Close() {
  if (fd_ < 0) return Status();
  int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0 && errno != EINTR) return ErrnoToStatus(errno, "closing " + path_);
  return Status();
}

Status SyncDirectory(const std::string& dir) {
  DC_ASSIGN_OR_RETURN(File d, File::Open(dir.empty() ? "." : dir, O_RDONLY | O_DIRECTORY));
  return d.Sync();
}

}  // namespace datacube::io
