#include "datacube/storage/local/local_file_info.h"

#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "datacube/crypto/sha256.h"
#include "datacube/storage/local/local_store.h"

namespace datacube::storage {
namespace {

// "<sha256> <size> <mtime_ns>" of the file the store wrote.
constexpr char kShaXattr[] = "user.datacube.sha256";

}  // namespace

void CacheSha256(int fd, const std::string& sha256, uint64_t size, int64_t mtime_ns) {
  if (!crypto::IsSha256Hex(sha256)) return;
  std::string value = sha256 + " " + std::to_string(size) + " " + std::to_string(mtime_ns);
  (void)::fsetxattr(fd, kShaXattr, value.data(), value.size(), 0);
}

namespace local_detail {

int64_t MtimeNs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

int64_t CtimeNs(const struct stat& st) {
  return static_cast<int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec;
}

int64_t RealtimeNs() {
  struct timespec now;
  ::clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

std::string FdPath(int fd, std::string_view name) {
  std::string p = "/proc/self/fd/" + std::to_string(fd);
  if (!name.empty()) p += "/" + std::string(name);
  return p;
}

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

std::string KindOf(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "not a regular file";
}

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

}  // namespace local_detail
}  // namespace datacube::storage
