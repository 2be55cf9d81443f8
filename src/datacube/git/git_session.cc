#include "datacube/git/git_session.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "datacube/base/cancel.h"
#include "datacube/base/secret.h"
#include "datacube/git/git_env.h"

namespace datacube::git::internal {
namespace {

std::string Normalize(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.size() > 4 && url.compare(url.size() - 4, 4, ".git") == 0) url.resize(url.size() - 4);
  return url;
}

// The helper's answer, readable by this user only, in the 0700 scratch directory.
Status WriteCredentialFile(const std::string& path, const GitRemote& remote) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoToStatus(errno, "creating a private credential file");
  std::string user = remote.username.empty() ? std::string("git") : remote.username;
  std::string text = "username=" + user + "\npassword=" + remote.token.reveal() + "\n";
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  int err = errno;
  ::close(fd);
  if (!ok) return ErrnoToStatus(err, "writing a private credential file");
  return Status();
}

}  // namespace

ScratchDir::ScratchDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/datacube-git-XXXXXX";
  if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;  // mode 0700
}

ScratchDir::~ScratchDir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Result<GitSession> OpenSession(const GitCommonOptions& o) {
  if (o.url.empty()) return InvalidArgumentError("git: the url option is required");
  GitSession s;
  DC_ASSIGN_OR_RETURN(s.remote, ParseGitRemote(o.url, o.token));
  if (!o.username.empty()) {
    DC_RETURN_IF_ERROR(CheckCredentialText("username", o.username));
    s.remote.username = o.username;
  }
  if (!s.remote.token.empty()) {
    // What goes over the wire is base64("user:token"); a server or proxy may echo it.
    RegisterCredentialPairForRedaction(s.remote.username.empty() ? "git" : s.remote.username,
                                       s.remote.token.reveal());
  }

  s.scratch = std::make_shared<ScratchDir>();
  if (s.scratch->path().empty()) return ErrnoToStatus(errno, "creating a temporary directory");
  GitEnvOptions env;
  env.getenv = o.getenv;
  env.rejected_marker = s.scratch->path() + "/credentials-rejected";
  env.remote = &s.remote;
  if (!s.remote.token.empty()) {
    env.credential_file = s.scratch->path() + "/credentials";
    DC_RETURN_IF_ERROR(WriteCredentialFile(env.credential_file, s.remote));
  }
  env.stall_timeout = o.stall_timeout;
  env.ca_file = o.ca_file;
  env.lfs = o.lfs;
  std::vector<std::string> child_env = BuildGitEnv(env);
  std::string path = "/usr/local/bin:/usr/bin:/bin";
  for (const auto& e : child_env) {
    if (e.compare(0, 5, "PATH=") == 0) path = e.substr(5);
  }
  if (FindInPath("git", path).empty()) {
    return FailedPreconditionError("git is not installed (not found in PATH " + path +
                                   "); install the git package");
  }
  if (o.lfs && FindInPath("git-lfs", path).empty()) {
    return FailedPreconditionError(
        "git-lfs is not installed (not found in PATH " + path +
        "); install the git-lfs package, or set the lfs option to false to skip LFS files");
  }
  s.lfs = o.lfs;

  GitRunnerOptions r;
  r.env = std::move(child_env);
  r.host = s.remote.host;
  r.stall_timeout = o.stall_timeout;
  r.timeout = o.timeout;
  r.retry = o.retry;
  r.stop = o.stop.stop_possible() ? o.stop : CurrentStopToken();
  r.on_child_start = o.on_child_start;
  s.git = std::make_unique<GitRunner>(r);
  env.skip_smudge = false;
  r.env = BuildGitEnv(env);
  s.lfs_git = std::make_unique<GitRunner>(r);
  return s;
}

Status CheckBeneathVolume(const std::string& volume_root, const std::string& dir, bool create) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (volume_root.empty()) {
    if (create) fs::create_directories(dir, ec);
    return ec ? ErrnoToStatus(ec.value(), "creating " + dir) : Status();
  }
  std::string root = fs::absolute(volume_root, ec).lexically_normal().string();
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  std::string target = fs::absolute(dir, ec).lexically_normal().string();
  while (target.size() > 1 && target.back() == '/') target.pop_back();
  if (target != root && target.compare(0, root.size() + 1, root + "/") != 0) {
    return InvalidArgumentError(dir + " is not inside the volume " + volume_root);
  }
  std::string path = root;
  std::string rest = target.substr(root.size());
  while (true) {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) {
      if (errno != ENOENT || !create || path == root) {
        return ErrnoToStatus(errno, "inspecting " + path);
      }
      if (::mkdir(path.c_str(), 0777) != 0 && errno != EEXIST) {
        return ErrnoToStatus(errno, "creating " + path);
      }
      if (::lstat(path.c_str(), &st) != 0) return ErrnoToStatus(errno, "inspecting " + path);
    }
    if (S_ISLNK(st.st_mode)) {
      return FailedPreconditionError(
          path + " is a symbolic link; the repository must stay inside the volume " + root +
          " (links are not followed)");
    }
    if (!S_ISDIR(st.st_mode)) return FailedPreconditionError(path + " is not a directory");
    while (!rest.empty() && rest.front() == '/') rest.erase(0, 1);
    if (rest.empty()) return Status();
    size_t slash = rest.find('/');
    std::string part = rest.substr(0, slash);
    rest = slash == std::string::npos ? "" : rest.substr(slash);
    path += "/" + part;
  }
}

bool IsRepositoryTop(const std::string& dir) { return HasGitEntry(dir); }

Status CheckLfsEndpoints(const GitSession& s, const std::string& dir) {
  std::vector<std::string> source;
  std::string name;
  struct stat st;
  if (::lstat((dir + "/.lfsconfig").c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) {
      return FailedPreconditionError(dir + "/.lfsconfig is not a regular file");
    }
    source = {"--file", dir + "/.lfsconfig"};
    name = dir + "/.lfsconfig";
  } else {
    for (const char* blob : {":.lfsconfig", "HEAD:.lfsconfig"}) {
      auto r = s.git->Run(dir, {"cat-file", "-e", blob}, "reading .lfsconfig", true);
      if (r.ok() && r->success()) {
        source = {"--blob", blob};
        name = std::string(blob) + " in " + dir;
        break;
      }
    }
    if (source.empty()) return Status();
  }
  std::vector<std::string> args = {"config"};
  args.insert(args.end(), source.begin(), source.end());
  args.insert(args.end(), {"--no-includes", "--null", "--list"});
  DC_ASSIGN_OR_RETURN(ProcessResult r, s.git->Run(dir, args, "reading .lfsconfig", true));
  if (!r.success()) return FailedPreconditionError("cannot read " + name);
  std::string allowed = s.remote.scheme + "://";
  size_t start = 0;
  const std::string& out = r.stdout_data;
  while (start < out.size()) {
    size_t end = out.find('\0', start);
    if (end == std::string::npos) end = out.size();
    std::string rec = out.substr(start, end - start);
    start = end + 1;
    size_t nl = rec.find('\n');
    std::string key = rec.substr(0, nl);
    std::string value = nl == std::string::npos ? "" : rec.substr(nl + 1);
    bool endpoint =
        key == "lfs.url" || key == "lfs.pushurl" ||
        (key.rfind("remote.", 0) == 0 &&
         (key.size() > 7 && (key.substr(key.size() - 7) == ".lfsurl" ||
                             (key.size() > 11 && key.substr(key.size() - 11) == ".lfspushurl"))));
    if (!endpoint) continue;
    std::string lower = value;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.rfind("https://", 0) != 0 && lower.rfind(allowed, 0) != 0) {
      return FailedPreconditionError(name + " sets " + key + " to an endpoint that is not " +
                                     allowed +
                                     " (git-lfs would read or write objects through it); "
                                     "datacube uses LFS over " +
                                     allowed + " only");
    }
  }
  return Status();
}

Result<RepositoryConfig> CheckExistingRepository(const GitSession& s, const std::string& dir) {
  return CheckRepository(s.git->options().env, s.scratch->path(), dir);
}

bool SameRepository(const std::string& a, const std::string& b) {
  return Normalize(a) == Normalize(b);
}

}  // namespace datacube::git::internal
