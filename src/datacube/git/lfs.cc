#include "datacube/git/lfs.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>

#include "datacube/crypto/sha256.h"

namespace datacube::git {
namespace {

constexpr std::string_view kVersionLine = "version https://git-lfs.github.com/spec/v1\n";

struct FileHash {
  uint64_t size = 0;
  std::string sha256;
};

Result<FileHash> HashFile(const std::string& path) {
  // A symbolic link in the work tree is never followed out of it.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return ErrnoToStatus(errno, "reading " + path);
  crypto::Sha256 sha;
  FileHash out;
  std::vector<uint8_t> buf(1 << 20);
  while (true) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return ErrnoToStatus(err, "reading " + path);
    }
    if (n == 0) break;
    sha.Update(std::span<const uint8_t>(buf.data(), static_cast<size_t>(n)));
    out.size += static_cast<uint64_t>(n);
  }
  ::close(fd);
  out.sha256 = sha.FinishHex();
  return out;
}

// Splits NUL-terminated records.
std::vector<std::string_view> SplitNul(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find('\0', start);
    if (end == std::string_view::npos) end = s.size();
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

struct Candidate {
  std::string path;
  std::string blob;
};

// Blobs small enough to be pointers, from `git ls-tree -r -l -z`.
Result<std::vector<Candidate>> SmallBlobs(const GitRunner& git, const std::string& dir,
                                          const std::string& treeish) {
  DC_ASSIGN_OR_RETURN(ProcessResult r,
                      git.Run(dir, {"ls-tree", "-r", "-l", "-z", treeish}, "listing files"));
  std::vector<Candidate> out;
  for (auto rec : SplitNul(r.stdout_data)) {
    // "<mode> SP <type> SP <object> SP+ <size> TAB <path>"
    size_t tab = rec.find('\t');
    if (tab == std::string_view::npos) continue;
    std::string_view meta = rec.substr(0, tab);
    if (meta.find(" blob ") == std::string_view::npos) continue;
    // Regular files only: a symbolic link's blob is its target, never LFS content.
    if (meta.substr(0, 7) != "100644 " && meta.substr(0, 7) != "100755 ") continue;
    size_t sp1 = meta.find(' '), sp2 = meta.find(' ', sp1 + 1), sp3 = meta.find(' ', sp2 + 1);
    if (sp3 == std::string_view::npos) continue;
    std::string blob(meta.substr(sp2 + 1, sp3 - sp2 - 1));
    std::string_view size_text = meta.substr(sp3 + 1);
    while (!size_text.empty() && size_text.front() == ' ') size_text.remove_prefix(1);
    uint64_t size = std::strtoull(std::string(size_text).c_str(), nullptr, 10);
    if (size == 0 || size >= kMaxPointerSize) continue;
    out.push_back({std::string(rec.substr(tab + 1)), std::move(blob)});
  }
  return out;
}

// Paths whose `filter` attribute is "lfs" (a pointer-shaped blob without it is an ordinary file).
Result<std::vector<bool>> LfsAttributes(const GitRunner& git, const std::string& dir,
                                        const std::vector<Candidate>& files) {
  std::string input;
  for (const auto& f : files) input += f.path + '\0';
  DC_ASSIGN_OR_RETURN(ProcessResult r, git.Run(dir, {"check-attr", "-z", "--stdin", "filter"},
                                               "reading .gitattributes", false, input));
  // Output records: path NUL attribute NUL value NUL.
  auto recs = SplitNul(r.stdout_data);
  std::map<std::string_view, bool> lfs;
  for (size_t i = 0; i + 2 < recs.size(); i += 3) {
    lfs[recs[i]] = recs[i + 2] == "lfs";
  }
  std::vector<bool> out;
  for (const auto& f : files) out.push_back(lfs.count(f.path) && lfs[f.path]);
  return out;
}

}  // namespace

std::optional<LfsPointer> ParseLfsPointer(std::string_view blob) {
  if (blob.size() >= kMaxPointerSize || blob.substr(0, kVersionLine.size()) != kVersionLine) {
    return std::nullopt;
  }
  LfsPointer p;
  bool have_oid = false, have_size = false;
  std::string_view rest = blob.substr(kVersionLine.size());
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) return std::nullopt;  // every line ends with '\n'
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    if (line.substr(0, 11) == "oid sha256:") {
      std::string_view hex = line.substr(11);
      if (!crypto::IsSha256Hex(hex)) return std::nullopt;
      p.oid = std::string(hex);
      std::transform(p.oid.begin(), p.oid.end(), p.oid.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      have_oid = true;
    } else if (line.substr(0, 5) == "size ") {
      std::string_view num = line.substr(5);
      if (num.empty() || num.size() > 19 ||
          num.find_first_not_of("0123456789") != std::string_view::npos) {
        return std::nullopt;
      }
      p.size = std::stoull(std::string(num));
      have_size = true;
    } else if (line.find(' ') == std::string_view::npos) {
      return std::nullopt;  // "key value" lines only; extensions are allowed
    }
  }
  if (!have_oid || !have_size) return std::nullopt;
  return p;
}

std::string FormatLfsPointer(const LfsPointer& p) {
  return std::string(kVersionLine) + "oid sha256:" + p.oid + "\nsize " + std::to_string(p.size) +
         "\n";
}

Result<std::vector<LfsFile>> ListLfsFiles(const GitRunner& git, const std::string& dir,
                                          const std::string& treeish) {
  DC_ASSIGN_OR_RETURN(std::vector<Candidate> small, SmallBlobs(git, dir, treeish));
  std::vector<LfsFile> out;
  if (small.empty()) return out;
  std::string input;
  for (const auto& c : small) input += c.blob + "\n";
  DC_ASSIGN_OR_RETURN(ProcessResult r,
                      git.Run(dir, {"cat-file", "--batch"}, "reading pointer files", false, input));
  // "<oid> <type> <size>\n<content>\n" per object, in input order.
  std::string_view s = r.stdout_data;
  std::vector<Candidate> pointers;
  std::vector<LfsPointer> parsed;
  for (const auto& c : small) {
    size_t nl = s.find('\n');
    if (nl == std::string_view::npos) return InternalError("short output from git cat-file");
    std::string_view header = s.substr(0, nl);
    s.remove_prefix(nl + 1);
    size_t sp = header.rfind(' ');
    if (header.find(" missing") != std::string_view::npos || sp == std::string_view::npos) continue;
    size_t size = std::strtoull(std::string(header.substr(sp + 1)).c_str(), nullptr, 10);
    if (s.size() < size + 1) return InternalError("short output from git cat-file");
    auto p = ParseLfsPointer(s.substr(0, size));
    s.remove_prefix(size + 1);
    if (!p) continue;
    pointers.push_back(c);
    parsed.push_back(*p);
  }
  if (pointers.empty()) return out;
  DC_ASSIGN_OR_RETURN(std::vector<bool> is_lfs, LfsAttributes(git, dir, pointers));
  for (size_t i = 0; i < pointers.size(); ++i) {
    if (is_lfs[i]) out.push_back({pointers[i].path, parsed[i]});
  }
  std::sort(out.begin(), out.end(),
            [](const LfsFile& a, const LfsFile& b) { return a.path < b.path; });
  return out;
}

Status VerifyLfsFile(const std::string& dir, const LfsFile& file) {
  auto h = HashFile(dir + "/" + file.path);
  if (!h.ok()) return h.status();
  if (h->size == file.pointer.size && h->sha256 == file.pointer.oid) return Status();
  if (h->sha256 == crypto::Sha256Hex(FormatLfsPointer(file.pointer))) {
    return DataLossError("LFS file " + file.path +
                         " was not downloaded (the work tree holds "
                         "its pointer, oid " +
                         file.pointer.oid + ")");
  }
  return DataLossError("LFS file " + file.path + " is corrupt: expected " +
                       std::to_string(file.pointer.size) + " bytes with SHA-256 " +
                       file.pointer.oid + ", found " + std::to_string(h->size) +
                       " bytes with SHA-256 " + h->sha256);
}

Status ResetLfsFile(const std::string& dir, const std::string& git_dir, const LfsFile& file) {
  const std::string& oid = file.pointer.oid;
  std::string object =
      git_dir + "/lfs/objects/" + oid.substr(0, 2) + "/" + oid.substr(2, 2) + "/" + oid;
  auto h = HashFile(object);
  if (h.ok() && h->sha256 != oid && ::unlink(object.c_str()) != 0 && errno != ENOENT) {
    return ErrnoToStatus(errno, "removing corrupt LFS object " + object);
  }
  // Replace the work-tree file with its pointer (write a sibling, then rename over it).
  std::string path = dir + "/" + file.path;
  std::string tmp = path + ".datacube-lfs-reset";
  ::unlink(tmp.c_str());  // a leftover (or a planted link) is never written through
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoToStatus(errno, "writing " + tmp);
  std::string text = FormatLfsPointer(file.pointer);
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  int err = errno;
  ::close(fd);
  if (!ok) return ErrnoToStatus(err, "writing " + tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return ErrnoToStatus(errno, "replacing " + path);
  return Status();
}

}  // namespace datacube::git
