#include "datacube/storage/hf/cache_layout.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "datacube/io/file.h"
#include "datacube/storage/hf/git_oid.h"
#include "datacube/storage/object_store.h"

namespace datacube::storage::hf {
namespace {

namespace fs = std::filesystem;

Status MakeDirs(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return ErrnoToStatus(ec.value(), "creating " + dir);
  return Status();
}

std::string TempSibling(const std::string& path) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return path + ".datacube-" + std::to_string(rng() % 1'000'000'000) + ".tmp";
}

std::string ParentOf(const std::string& path) { return path.substr(0, path.rfind('/')); }

bool IsFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool IsDir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

std::string RepoFolderName(const RepoRef& repo) {
  std::string id = repo.id;
  for (size_t pos = 0; (pos = id.find('/', pos)) != std::string::npos; pos += 2) {
    id.replace(pos, 1, "--");
  }
  return std::string(RepoTypePlural(repo.type)) + "--" + id;
}

std::string RepoCacheDir(const std::string& cache_dir, const RepoRef& repo) {
  return cache_dir + "/" + RepoFolderName(repo);
}

std::string SnapshotLinkTarget(std::string_view path, std::string_view etag) {
  std::string target = "../../";
  for (char c : path) {
    if (c == '/') target += "../";
  }
  return target + "blobs/" + std::string(etag);
}

Status LinkSnapshotFile(const std::string& repo_dir, const std::string& commit,
                        const std::string& path, const std::string& etag) {
  DC_RETURN_IF_ERROR(ValidateRelativeKey(path));
  if (!IsGitOid(commit)) return InvalidArgumentError("not a commit sha: " + commit);
  std::string rel = "snapshots/" + commit + "/" + path;
  std::string link = repo_dir + "/" + rel;
  DC_ASSIGN_OR_RETURN(io::File dir, OpenDirBeneath(repo_dir, ParentOf(rel), /*create=*/true));
  std::string name = rel.substr(rel.rfind('/') + 1);
  std::string target = SnapshotLinkTarget(path, etag);
  char existing[512];
  ssize_t n = ::readlinkat(dir.fd(), name.c_str(), existing, sizeof existing);
  if (n > 0 && std::string_view(existing, static_cast<size_t>(n)) == target) return Status();
  std::string tmp = TempSibling(name);
  if (::symlinkat(target.c_str(), dir.fd(), tmp.c_str()) != 0) {
    return ErrnoToStatus(errno, "creating the cache link " + link);
  }
  // renameat replaces whatever entry has the name (a symlink is replaced, not followed).
  if (::renameat(dir.fd(), tmp.c_str(), dir.fd(), name.c_str()) != 0) {
    int err = errno;
    ::unlinkat(dir.fd(), tmp.c_str(), 0);
    return ErrnoToStatus(err, "placing the cache link " + link);
  }
  return Status();
}

Status WriteRef(const std::string& repo_dir, const std::string& revision,
                const std::string& commit) {
  if (revision == commit) return Status();
  // Ref names come from the user; refuse anything that could climb out of refs/.
  DC_RETURN_IF_ERROR(ValidateRelativeKey(revision).WithContext("revision"));
  std::string rel = "refs/" + revision;
  std::string ref = repo_dir + "/" + rel;
  DC_ASSIGN_OR_RETURN(io::File dir, OpenDirBeneath(repo_dir, ParentOf(rel), /*create=*/true));
  std::string name = rel.substr(rel.rfind('/') + 1);
  std::string tmp = TempSibling(name);
  {
    int fd =
        ::openat(dir.fd(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoToStatus(errno, "writing " + ref);
    io::File f(fd, ref);
    DC_RETURN_IF_ERROR(f.Write(io::AsBytes(commit)));
    DC_RETURN_IF_ERROR(f.Sync());
    DC_RETURN_IF_ERROR(f.Close());
  }
  // Only a regular file (or nothing) is replaced by the ref.
  struct stat st;
  if (::fstatat(dir.fd(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode)) {
    ::unlinkat(dir.fd(), tmp.c_str(), 0);
    return FailedPreconditionError("refusing to replace " + ref + ": it is not a regular file");
  }
  if (::renameat(dir.fd(), tmp.c_str(), dir.fd(), name.c_str()) != 0) {
    int err = errno;
    ::unlinkat(dir.fd(), tmp.c_str(), 0);
    return ErrnoToStatus(err, "writing " + ref);
  }
  if (::fsync(dir.fd()) != 0) return ErrnoToStatus(errno, "syncing " + ParentOf(ref));
  return Status();
}

Result<io::File> OpenDirBeneath(const std::string& base, std::string_view rel, bool create) {
  // The base itself must not be a symlink either: a planted models--org--name -> /elsewhere
  // would move every write.
  int fd = ::open(base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && create) {
    DC_RETURN_IF_ERROR(MakeDirs(base));
    fd = ::open(base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }
  if (fd < 0) {
    if (errno == ELOOP || errno == ENOTDIR) {
      return FailedPreconditionError("refusing " + base + ": it is not a directory (a symlink?)");
    }
    return ErrnoToStatus(errno, "opening " + base);
  }
  io::File dir(fd, base);
  std::string walked = base;
  size_t start = 0;
  while (start < rel.size()) {
    size_t slash = rel.find('/', start);
    if (slash == std::string_view::npos) slash = rel.size();
    std::string part(rel.substr(start, slash - start));
    start = slash + 1;
    if (part.empty()) continue;
    if (part == "." || part == "..") return InvalidArgumentError("refusing " + std::string(rel));
    walked += "/" + part;
    if (create && ::mkdirat(dir.fd(), part.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoToStatus(errno, "creating " + walked);
    }
    // O_NOFOLLOW: a symlink planted anywhere on the way is refused, never followed.
    int next = ::openat(dir.fd(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) {
      if (errno == ELOOP || errno == ENOTDIR) {
        return FailedPreconditionError("refusing " + walked +
                                       ": it is not a directory (a symlink or a file) inside the "
                                       "cache");
      }
      return ErrnoToStatus(errno, "opening " + walked);
    }
    dir = io::File(next, walked);
  }
  return dir;
}

std::optional<std::string> TryLoadFromCache(const std::string& cache_dir, const RepoRef& repo,
                                            const std::string& path, const std::string& revision) {
  std::string repo_dir = RepoCacheDir(cache_dir, repo);
  if (!IsDir(repo_dir)) return std::nullopt;
  // A ref name is replaced by the commit recorded for it.
  std::string commit = revision;
  if (IsFile(repo_dir + "/refs/" + revision)) {
    std::ifstream in(repo_dir + "/refs/" + revision);
    std::stringstream buf;
    buf << in.rdbuf();
    commit = buf.str();
  }
  if (IsFile(repo_dir + "/.no_exist/" + commit + "/" + path)) return std::nullopt;
  if (!IsDir(repo_dir + "/snapshots/" + commit)) return std::nullopt;
  std::string file = repo_dir + "/snapshots/" + commit + "/" + path;
  // stat follows the link: a dangling link (blob missing) is not a cached file.
  if (!IsFile(file)) return std::nullopt;
  return file;
}

}  // namespace datacube::storage::hf
