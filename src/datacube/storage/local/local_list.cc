// LocalStore::List: a depth-first walk of the tree below the prefix, in key order, one page at
// a time. Every directory below the first is opened from its parent's descriptor without
// following links, so the walk stays in the tree.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <optional>

#include "datacube/io/atomic_file_writer.h"
#include "datacube/io/beneath.h"
#include "datacube/io/file.h"
#include "datacube/storage/local/local_file_info.h"
#include "datacube/storage/local/local_store.h"

namespace datacube::storage {
namespace {

using local_detail::FdPath;
using local_detail::HasContentBeyondSize;
using local_detail::InfoFromStat;
using local_detail::KindOf;
using local_detail::UnsizedReason;

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

// A file entry that goes on the page: its stat (of the target, for a link), the path its cached
// hash is read through, and the open target of a link (held until the hash is read).
struct ListedFile {
  struct stat st;
  std::string xattr_path;
  io::File target;
};

// One List call.
class ListWalk {
 public:
  ListWalk(const LocalStore& store, const io::File& root_fd, const ListRequest& request)
      : store_(store),
        root_fd_(root_fd),
        request_(request),
        prefix_(request.prefix),
        limit_(request.max_keys == 0 ? SIZE_MAX : request.max_keys) {}

  Result<ListPage> Run();

 private:
  // A directory being walked: its key (ending in '/', or empty for the root) and its entries.
  struct Frame {
    io::File dir;
    std::string key_prefix;
    std::vector<DirEntry> entries;
    size_t next = 0;
  };

  // Opens the directory that contains the prefix; false when it does not exist.
  Result<bool> OpenTop();
  // Each returns true when the page is full and the walk ends here.
  Result<bool> VisitDir(const io::File& parent, const std::string& name, const std::string& key);
  Result<bool> VisitFile(const io::File& parent, const std::string& name, const std::string& key);
  // The entry as it is listed; nullopt when it vanished or is skipped (recorded in the page).
  std::optional<ListedFile> Examine(const io::File& parent, const std::string& name,
                                    const std::string& key);
  // Follows the link `key` beneath the root to a regular file; false when it is skipped.
  bool ResolveLink(const std::string& key, ListedFile& file);
  // True when the zero-sized `file` has content (a pseudo-file); it is then skipped.
  bool SkipUnsized(const io::File& parent, const std::string& name, const std::string& key,
                   const ListedFile& file);
  void Skip(std::string key, SkippedEntry::Kind kind, std::string reason) {
    page_.skipped.push_back({std::move(key), kind, std::move(reason)});
  }
  bool PageFull() const { return page_.objects.size() + page_.common_prefixes.size() >= limit_; }

  const LocalStore& store_;
  const io::File& root_fd_;
  const ListRequest& request_;
  const std::string_view prefix_;
  const size_t limit_;
  std::string last_key_;
  std::vector<Frame> stack_;
  ListPage page_;
};

Result<ListPage> ListWalk::Run() {
  DC_ASSIGN_OR_RETURN(bool found, OpenTop());
  if (!found) return std::move(page_);
  while (!stack_.empty()) {
    Frame& f = stack_.back();
    if (f.next >= f.entries.size()) {
      stack_.pop_back();
      continue;
    }
    const DirEntry e = f.entries[f.next++];
    const std::string key = f.key_prefix + e.name;
    // VisitDir may push a frame: `f` is not used after it.
    DC_ASSIGN_OR_RETURN(bool full,
                        e.is_dir ? VisitDir(f.dir, e.name, key) : VisitFile(f.dir, e.name, key));
    if (full) break;
  }
  return std::move(page_);
}

Result<bool> ListWalk::OpenTop() {
  // The directory that contains the prefix; the name fragment after it is matched in it.
  size_t slash = prefix_.rfind('/');
  std::string dir_key =
      slash == std::string_view::npos ? "" : std::string(prefix_.substr(0, slash + 1));
  std::string trimmed = dir_key.empty() ? "" : dir_key.substr(0, dir_key.size() - 1);
  if (!dir_key.empty()) {
    auto v = ValidateRelativeKey(trimmed);
    if (!v.ok()) return v.WithContext("listing " + store_.UrlFor(request_.prefix));
  }
  auto top = io::OpenBeneath(root_fd_, trimmed, O_RDONLY | O_DIRECTORY, 0, store_.UrlFor(trimmed));
  if (!top.ok()) {
    if (top.status().code() == StatusCode::kNotFound) return false;
    return top.status().WithContext("listing " + store_.UrlFor(request_.prefix));
  }
  DC_ASSIGN_OR_RETURN(auto entries, ReadDirSorted(*top));
  stack_.push_back({std::move(*top), dir_key, std::move(entries), 0});
  return true;
}

Result<bool> ListWalk::VisitDir(const io::File& parent, const std::string& name,
                                const std::string& key) {
  const std::string& token = request_.page_token;
  std::string sub = key + "/";
  // Prune: nothing below can match the prefix, or everything below was on earlier pages.
  bool may_match = sub.compare(0, std::min(sub.size(), prefix_.size()), prefix_, 0,
                               std::min(sub.size(), prefix_.size())) == 0;
  if (!may_match) return false;
  if (!token.empty() && sub < token && token.compare(0, sub.size(), sub) != 0) return false;
  if (!request_.recursive && sub.size() > prefix_.size()) {
    if (!token.empty() && sub <= token) return false;
    if (PageFull()) {
      page_.next_page_token = last_key_;
      return true;
    }
    page_.common_prefixes.push_back(sub);
    last_key_ = sub;
    return false;
  }
  int fd = ::openat(parent.fd(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;  // vanished, or replaced by a link meanwhile
  io::File sub_dir(fd, store_.root() + "/" + key);
  auto entries = ReadDirSorted(sub_dir);
  if (!entries.ok()) return entries.status();
  stack_.push_back({std::move(sub_dir), sub, std::move(*entries), 0});
  return false;
}

Result<bool> ListWalk::VisitFile(const io::File& parent, const std::string& name,
                                 const std::string& key) {
  const std::string& token = request_.page_token;
  if (key.compare(0, prefix_.size(), prefix_) != 0) return false;
  if (!token.empty() && key <= token) return false;
  std::optional<ListedFile> file = Examine(parent, name, key);
  if (!file) return false;
  if (PageFull()) {
    page_.next_page_token = last_key_;
    // Entries skipped past the page's end are reported with the next page.
    page_.skipped.erase(std::remove_if(page_.skipped.begin(), page_.skipped.end(),
                                       [&](const SkippedEntry& s) { return s.key >= key; }),
                        page_.skipped.end());
    return true;
  }
  last_key_ = key;
  page_.objects.push_back(InfoFromStat(file->st, key, file->xattr_path));
  return false;
}

std::optional<ListedFile> ListWalk::Examine(const io::File& parent, const std::string& name,
                                            const std::string& key) {
  ListedFile file;
  if (::fstatat(parent.fd(), name.c_str(), &file.st, AT_SYMLINK_NOFOLLOW) != 0) {
    return std::nullopt;  // gone
  }
  file.xattr_path = FdPath(parent.fd(), name);
  if (S_ISLNK(file.st.st_mode)) {
    if (!ResolveLink(key, file)) return std::nullopt;
  } else if (!S_ISREG(file.st.st_mode)) {
    Skip(key, SkippedEntry::Kind::kSpecial, KindOf(file.st.st_mode) + ", not a regular file");
    return std::nullopt;
  }
  if (SkipUnsized(parent, name, key, file)) return std::nullopt;
  return file;
}

bool ListWalk::ResolveLink(const std::string& key, ListedFile& file) {
  auto opened = io::OpenBeneath(root_fd_, key, O_PATH, 0, store_.UrlFor(key));
  if (!opened.ok()) {
    bool out = opened.status().code() == StatusCode::kInvalidArgument;
    Skip(key, SkippedEntry::Kind::kSymlink,
         out ? "symbolic link leading outside " + store_.UrlFor("") : "dangling symbolic link");
    return false;
  }
  if (::fstat(opened->fd(), &file.st) != 0) return false;
  if (!S_ISREG(file.st.st_mode)) {
    Skip(key, SkippedEntry::Kind::kSymlink,
         "symbolic link to " + KindOf(file.st.st_mode) + " (not followed)");
    return false;
  }
  file.target = std::move(*opened);
  file.xattr_path = FdPath(file.target.fd());
  return true;
}

bool ListWalk::SkipUnsized(const io::File& parent, const std::string& name, const std::string& key,
                           const ListedFile& file) {
  if (file.st.st_size != 0) return false;
  int fd =
      file.target.is_open()
          ? ::open(file.xattr_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)
          : ::openat(parent.fd(), name.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  io::File readable(fd, key);
  if (readable.is_open() && HasContentBeyondSize(readable.fd(), file.st)) {
    Skip(key, SkippedEntry::Kind::kUnsizedFile, UnsizedReason());
    return true;
  }
  return false;
}

}  // namespace

Result<ListPage> LocalStore::List(const ListRequest& request) {
  return ListWalk(*this, root_fd_, request).Run();
}

}  // namespace datacube::storage
