#include "datacube/io/beneath.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <deque>
#include <vector>

namespace datacube::io {
namespace {

// Symbolic links followed in one resolution, as the kernel's own limit.
constexpr int kMaxLinks = 40;

std::atomic<bool> g_force_walk{false};
// Set once openat2 has answered ENOSYS (or a seccomp filter's EPERM): skip straight to the walk.
std::atomic<bool> g_no_openat2{false};

std::deque<std::string> Components(std::string_view rel) {
  std::deque<std::string> out;
  size_t i = 0;
  while (i <= rel.size()) {
    size_t slash = rel.find('/', i);
    if (slash == std::string_view::npos) slash = rel.size();
    std::string_view part = rel.substr(i, slash - i);
    if (!part.empty() && part != ".") out.emplace_back(part);
    i = slash + 1;
  }
  return out;
}

int Openat(int dir, const char* name, int flags, mode_t mode) {
  int fd;
  do {
    fd = ::openat(dir, name, flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

// The user-space equivalent of RESOLVE_BENEATH: every component is opened with O_NOFOLLOW from a
// descriptor we hold, ".." pops our own stack of descriptors (never the file system's ".." of a
// directory that may have been moved), links are read and their components spliced in. Returns
// a descriptor or -errno (EXDEV for an escape).
int WalkBeneath(int root_fd, std::string_view rel, int flags, mode_t mode) {
  const bool caller_nofollow = (flags & O_NOFOLLOW) != 0;
  std::vector<File> stack;  // directories below the root; the root itself is not owned
  auto cur = [&] { return stack.empty() ? root_fd : stack.back().fd(); };
  std::deque<std::string> parts = Components(rel);
  int links = 0;
  while (!parts.empty()) {
    std::string c = std::move(parts.front());
    parts.pop_front();
    if (c == "..") {
      if (stack.empty()) return -EXDEV;
      stack.pop_back();
      continue;
    }
    const bool last = parts.empty();
    if (last) {
      int fd = Openat(cur(), c.c_str(), flags | O_NOFOLLOW, mode);
      if (fd >= 0) {
        struct stat st;
        if ((flags & O_PATH) == 0 || caller_nofollow || ::fstat(fd, &st) != 0 ||
            !S_ISLNK(st.st_mode)) {
          return fd;
        }
        ::close(fd);  // O_PATH on a link: resolve it below
      } else {
        // A link as the last component: ELOOP, or ENOTDIR with O_DIRECTORY.
        int err = errno;
        struct stat st;
        if ((err != ELOOP && err != ENOTDIR) || caller_nofollow ||
            ::fstatat(cur(), c.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISLNK(st.st_mode)) {
          return -err;
        }
      }
    } else {
      int fd = Openat(cur(), c.c_str(), O_PATH | O_NOFOLLOW, 0);
      if (fd < 0) return -errno;
      struct stat st;
      if (::fstat(fd, &st) != 0) {
        int err = errno;
        ::close(fd);
        return -err;
      }
      if (S_ISDIR(st.st_mode)) {
        stack.emplace_back(fd, std::string());
        continue;
      }
      ::close(fd);
      if (!S_ISLNK(st.st_mode)) return -ENOTDIR;
    }
    if (++links > kMaxLinks) return -ELOOP;
    char buf[PATH_MAX];
    ssize_t n = ::readlinkat(cur(), c.c_str(), buf, sizeof buf);
    if (n < 0) return -errno;
    if (n == 0 || buf[0] == '/') return -EXDEV;  // absolute links leave the root by definition
    std::deque<std::string> target = Components(std::string_view(buf, static_cast<size_t>(n)));
    // ".." components matter even though Components drops "." and empty ones.
    parts.insert(parts.begin(), target.begin(), target.end());
    if (parts.empty()) break;  // a link to "." names the current directory
  }
  return Openat(cur(), ".", flags & ~(O_CREAT | O_EXCL | O_NOFOLLOW | O_TRUNC), 0);
}

int Openat2Beneath(int root_fd, std::string_view rel, int flags, mode_t mode) {
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  if (flags & O_CREAT) how.mode = mode;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  std::string path = rel.empty() ? std::string(".") : std::string(rel);
  for (int tries = 0;; ++tries) {
    long fd = ::syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof how);
    if (fd >= 0) return static_cast<int>(fd);
    // EAGAIN: a concurrent rename made the kernel unsure the walk stayed beneath; try again.
    if ((errno == EAGAIN || errno == EINTR) && tries < 16) continue;
    return -errno;
  }
}

int OpenBeneathRaw(int root_fd, std::string_view rel, int flags, mode_t mode) {
  if (!g_force_walk.load(std::memory_order_relaxed) &&
      !g_no_openat2.load(std::memory_order_relaxed)) {
    int r = Openat2Beneath(root_fd, rel, flags, mode);
    if (r != -ENOSYS && r != -EPERM) return r;
    if (r == -ENOSYS) g_no_openat2.store(true, std::memory_order_relaxed);
  }
  return WalkBeneath(root_fd, rel, flags, mode);
}

std::string Shown(const File& root, std::string_view rel, std::string_view display) {
  if (!display.empty()) return std::string(display);
  std::string out = root.path();
  if (!rel.empty()) out += (out.empty() || out.back() == '/' ? "" : "/") + std::string(rel);
  return out;
}

Status Escape(const File& root, std::string_view rel, std::string_view display) {
  return InvalidArgumentError(
      "refusing " + Shown(root, rel, display) + ": it resolves outside " + root.path() +
      " (a symbolic link or \"..\" in the path leads out of the directory)");
}

Result<File> Wrap(int r, const File& root, std::string_view rel, std::string_view display,
                  std::string_view action) {
  if (r >= 0) return File(r, Shown(root, rel, {}));
  if (r == -EXDEV) return Escape(root, rel, display);
  return ErrnoToStatus(-r, std::string(action) + " " + Shown(root, rel, display));
}

}  // namespace

Result<File> OpenBeneath(const File& root, std::string_view rel, int flags, mode_t mode,
                         std::string_view display) {
  if (rel.find('\0') != std::string_view::npos) {
    return InvalidArgumentError("refusing a path with a NUL byte below " + root.path());
  }
  if (!rel.empty() && rel[0] == '/') return Escape(root, rel, display);
  return Wrap(OpenBeneathRaw(root.fd(), rel, flags, mode), root, rel, display, "opening");
}

Result<File> MakeDirsBeneath(const File& root, std::string_view rel, std::string_view display) {
  if (rel.find('\0') != std::string_view::npos) {
    return InvalidArgumentError("refusing a path with a NUL byte below " + root.path());
  }
  if (!rel.empty() && rel[0] == '/') return Escape(root, rel, display);
  constexpr int kDirFlags = O_RDONLY | O_DIRECTORY;
  int r = OpenBeneathRaw(root.fd(), rel, kDirFlags, 0);
  if (r >= 0 || (r != -ENOENT && r != -ENOTDIR))
    return Wrap(r, root, rel, display, "opening directory");
  // Something is missing: walk down, creating each missing directory inside the deepest one
  // already resolved beneath the root, then resolving the new one beneath the root again.
  std::string prefix;
  int top = OpenBeneathRaw(root.fd(), "", O_PATH | O_DIRECTORY, 0);
  if (top < 0) return ErrnoToStatus(-top, "opening directory " + root.path());
  File cur(top, root.path());
  for (const std::string& c : Components(rel)) {
    if (c == "..") return Escape(root, rel, display);
    prefix += (prefix.empty() ? "" : "/") + c;
    int fd = OpenBeneathRaw(root.fd(), prefix, O_PATH | O_DIRECTORY, 0);
    if (fd == -ENOENT) {
      if (::mkdirat(cur.fd(), c.c_str(), 0755) != 0 && errno != EEXIST) {
        return ErrnoToStatus(errno, "creating directory " + Shown(root, prefix, {}));
      }
      fd = OpenBeneathRaw(root.fd(), prefix, O_PATH | O_DIRECTORY, 0);
    }
    if (fd == -ENOTDIR) {
      return FailedPreconditionError("cannot create " + Shown(root, rel, display) + ": " +
                                     Shown(root, prefix, {}) + " exists and is not a directory");
    }
    if (fd < 0) return Wrap(fd, root, prefix, {}, "opening directory");
    cur = File(fd, Shown(root, prefix, {}));
  }
  return Wrap(OpenBeneathRaw(root.fd(), rel, kDirFlags, 0), root, rel, display,
              "opening directory");
}

std::pair<std::string_view, std::string_view> SplitParentName(std::string_view rel) {
  size_t slash = rel.rfind('/');
  if (slash == std::string_view::npos) return {std::string_view(), rel};
  return {rel.substr(0, slash), rel.substr(slash + 1)};
}

Result<std::string> PathOfDescriptor(const File& file) {
  std::string link = "/proc/self/fd/" + std::to_string(file.fd());
  char buf[PATH_MAX];
  ssize_t n = ::readlink(link.c_str(), buf, sizeof buf);
  if (n < 0) return ErrnoToStatus(errno, "resolving the path of " + file.path());
  return std::string(buf, static_cast<size_t>(n));
}

namespace internal {
void ForceBeneathWalkForTesting(bool force) { g_force_walk.store(force); }
}  // namespace internal

}  // namespace datacube::io
