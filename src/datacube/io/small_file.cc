#include "datacube/io/small_file.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace datacube::io {
namespace {

std::string CapText(size_t max_bytes) {
  if (max_bytes >= (1 << 20) && max_bytes % (1 << 20) == 0) {
    return std::to_string(max_bytes >> 20) + " MiB";
  }
  if (max_bytes >= (1 << 10) && max_bytes % (1 << 10) == 0) {
    return std::to_string(max_bytes >> 10) + " KiB";
  }
  return std::to_string(max_bytes) + " bytes";
}

std::string Named(std::string_view what, std::string_view path) {
  return what.empty() ? std::string(path) : std::string(what) + " " + std::string(path);
}

Status NotRegular(std::string_view what, std::string_view path, mode_t mode) {
  return InvalidArgumentError(Named(what, path) + " is " + std::string(DescribeFileType(mode)) +
                              ", not a regular file");
}

}  // namespace

std::string_view DescribeFileType(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "not a regular file";
}

Result<std::string> ReadSmallFd(int fd, size_t max_bytes, std::string_view name) {
  std::string out;
  char buf[64 << 10];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {  // a non-blocking pipe: wait for data rather than spin
        struct pollfd p = {fd, POLLIN, 0};
        ::poll(&p, 1, -1);
        continue;
      }
      return ErrnoToStatus(errno, "reading " + std::string(name));
    }
    if (n == 0) return out;
    if (static_cast<size_t>(n) > max_bytes - out.size()) {
      return InvalidArgumentError(std::string(name) + " is larger than " + CapText(max_bytes));
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes,
                                  std::string_view what) {
  // stat first: opening a device can have effects of its own; fstat again after opening, since
  // the path may have changed in between.
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoToStatus(errno, "reading " + Named(what, path));
  if (!S_ISREG(st.st_mode)) return NotRegular(what, path, st.st_mode);
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return ErrnoToStatus(errno, "reading " + Named(what, path));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (::fstat(fd, &st) != 0) return ErrnoToStatus(errno, "reading " + Named(what, path));
  if (!S_ISREG(st.st_mode)) return NotRegular(what, path, st.st_mode);
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return InvalidArgumentError(Named(what, path) + " is larger than " + CapText(max_bytes));
  }
  // The size may be wrong (a file still growing, /proc): the cap holds while reading too.
  return ReadSmallFd(fd, max_bytes, Named(what, path));
}

Status CheckReplaceableFile(const std::string& path, std::string_view what) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status();
    return ErrnoToStatus(errno, Named(what, path));
  }
  if (S_ISREG(st.st_mode)) return Status();
  return InvalidArgumentError(Named(what, path) + " is " +
                              std::string(DescribeFileType(st.st_mode)) +
                              "; only a regular file is ever replaced");
}

}  // namespace datacube::io
