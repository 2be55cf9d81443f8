#include "datacube/cube/git_attempt.h"

#include <filesystem>
#include <fstream>

#include "datacube/crypto/sha256.h"
#include "datacube/engine/manifest.h"
#include "datacube/git/git_transfer.h"
#include "datacube/cube/option_rules.h"

namespace datacube::cube {
namespace {

namespace fs = std::filesystem;

// Only the options the git module knows: it refuses unknown names, and the cube's
// configuration may also carry engine-level entries such as cache-dir.
std::map<std::string, std::string> GitOptions(const CubeTransfer& t, bool is_sink) {
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : t.config.options) {
    if (FindOptionRule(EndpointType::kGit, is_sink, name) != nullptr) out[name] = value;
  }
  return out;
}

}  // namespace

Result<ResultStatus> WorkingTreeDigest(const std::string& dir) {
  std::vector<engine::ManifestEntry> entries;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, ec), end;
  if (ec) return ErrnoToStatus(ec.value(), "listing " + dir);
  std::vector<char> buffer(1 << 20);
  for (; it != end; it.increment(ec)) {
    if (ec) return ErrnoToStatus(ec.value(), "listing " + dir);
    if (it.depth() == 0 && it->path().filename() == ".git") {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
    std::ifstream in(it->path(), std::ios::binary);
    if (!in) return ErrnoToStatus(errno, "reading " + it->path().string());
    crypto::Sha256 hasher;
    uint64_t size = 0;
    while (in) {
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      std::streamsize n = in.gcount();
      if (n <= 0) break;
      hasher.Update(std::string_view(buffer.data(), static_cast<size_t>(n)));
      size += static_cast<uint64_t>(n);
    }
    entries.push_back({fs::relative(it->path(), dir).generic_string(), size, hasher.FinishHex()});
  }
  ResultStatus r;
  r.files = entries.size();
  for (const auto& e : entries) r.bytes += e.size;
  r.manifest_digest = "sha256:" + engine::ManifestDigest(std::move(entries));
  return r;
}

GitAttemptOutcome RunGitAttempt(const CubeTransfer& t, std::stop_token stop) {
  GitAttemptOutcome out;
  bool is_sink = !t.pvc_is_sink;
  auto pvc_dir = storage::PvcLocalPath(t.pvc_is_sink ? t.sink : t.source, t.config);
  if (!pvc_dir.ok()) {
    out.status = pvc_dir.status();
    return out;
  }
  // The PVC's own directory: the repository may not leave it through a symbolic link.
  const Location& pvc = t.pvc_is_sink ? t.sink : t.source;
  std::string volume_root =
      pvc.path.empty() ? *pvc_dir : pvc_dir->substr(0, pvc_dir->size() - pvc.path.size() - 1);
  std::map<std::string, std::string> options = GitOptions(t, is_sink);
  auto repo_dir = git::SeedRepoDir(*pvc_dir, options["url"]);
  if (!repo_dir.ok()) {
    out.status = repo_dir.status();
    return out;
  }
  {
    // The clone's own directory must not be a link leading out of the volume either.
    Location repo_loc = t.pvc_is_sink ? t.sink : t.source;
    std::string name = repo_dir->substr(repo_dir->rfind('/') + 1);
    while (!repo_loc.path.empty() && repo_loc.path.back() == '/') repo_loc.path.pop_back();
    repo_loc.path += (repo_loc.path.empty() ? "" : "/") + name;
    auto checked = storage::PvcLocalPath(repo_loc, t.config);
    if (!checked.ok()) {
      out.status = checked.status();
      return out;
    }
    repo_dir = *checked;
  }
  std::string tree_dir = *repo_dir;
  if (!is_sink) {
    auto o = git::GitSourceOptionsFromMap(options);
    if (!o.ok()) {
      out.status = o.status();
      return out;
    }
    o->getenv = t.config.getenv;
    o->stop = stop;
    o->volume_root = volume_root;
    auto r = git::CloneOrUpdate(*o, *repo_dir);
    if (!r.ok()) {
      out.status = r.status();
      return out;
    }
    out.message = r->message;
    tree_dir = r->repo_dir;
  } else {
    auto o = git::GitSinkOptionsFromMap(options);
    if (!o.ok()) {
      out.status = o.status();
      return out;
    }
    o->getenv = t.config.getenv;
    o->stop = stop;
    o->volume_root = volume_root;
    auto r = git::PushRepository(*o, *pvc_dir);
    if (!r.ok()) {
      out.status = r.status();
      return out;
    }
    out.message = r->message;
    tree_dir = r->repo_dir;
  }
  auto digest = WorkingTreeDigest(tree_dir);
  if (!digest.ok()) {
    out.status = digest.status().WithContext("computing the manifest digest");
    return out;
  }
  out.result = *digest;
  out.result.files_copied = out.result.files;
  out.result.bytes_copied = out.result.bytes;
  return out;
}

}  // namespace datacube::cube
