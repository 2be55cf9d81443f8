#include "datacube/git/repo_guard.h"

#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <set>

#include "datacube/git/subprocess.h"

namespace datacube::git::internal {
namespace {

namespace fs = std::filesystem;

struct Key {
  std::string section, subsection, name;
};

Key SplitKey(const std::string& key) {
  Key k;
  size_t first = key.find('.');
  size_t last = key.rfind('.');
  if (first == std::string::npos) {
    k.section = key;
    return k;
  }
  k.section = key.substr(0, first);
  k.name = key.substr(last + 1);
  if (last > first) k.subsection = key.substr(first + 1, last - first - 1);
  return k;
}

bool In(const std::string& s, const std::set<std::string>& set) { return set.count(s) > 0; }

// Keys and paths come from a file someone else wrote: control characters are shown escaped.
std::string Printable(const std::string& s) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// Sections whose plain (subsection-less) keys only tune git's own behaviour and output.
const std::set<std::string>& InertSections() {
  static const std::set<std::string> s = {
      "advice", "blame",  "color",  "column", "commit",   "fetch",   "format",      "gc",
      "grep",   "i18n",   "index",  "log",    "merge",    "pack",    "pull",        "push",
      "rebase", "rerere", "status", "tag",    "transfer", "feature", "maintenance", "safe"};
  return s;
}

std::string CheckCore(const Key& k, const std::string& value) {
  static const std::set<std::string> inert = {"repositoryformatversion",
                                              "filemode",
                                              "bare",
                                              "logallrefupdates",
                                              "ignorecase",
                                              "precomposeunicode",
                                              "symlinks",
                                              "autocrlf",
                                              "eol",
                                              "safecrlf",
                                              "quotepath",
                                              "checkstat",
                                              "trustctime",
                                              "abbrev",
                                              "compression",
                                              "loosecompression",
                                              "sharedrepository",
                                              "splitindex",
                                              "untrackedcache",
                                              "commitgraph",
                                              "multipackindex",
                                              "whitespace",
                                              "warnambiguousrefs",
                                              "preloadindex",
                                              "sparsecheckout",
                                              "sparsecheckoutcone",
                                              "fsync",
                                              "fsyncmethod"};
  if (!k.subsection.empty() || !In(k.name, inert)) return "not a setting datacube allows";
  if (k.name == "bare" && value != "false") return "the repository is bare";
  return "";
}

}  // namespace

bool HasGitEntry(const std::string& dir) {
  struct stat st;
  return ::lstat((dir + "/.git").c_str(), &st) == 0;
}

std::string UnsafeConfigReason(const std::string& key, const std::string& value) {
  Key k = SplitKey(key);
  const std::string& sec = k.section;
  if (sec == "core") return CheckCore(k, value);
  if (sec == "extensions") {
    if (k.subsection.empty() && k.name == "objectformat") return "";
    return "a repository extension datacube does not support";
  }
  if (sec == "remote") {
    if (k.subsection == "datacube-push") return "the name of datacube's own push remote";
    static const std::set<std::string> inert = {
        "url",  "fetch",  "pushurl",           "tagopt",      "prune", "prunetags",
        "push", "mirror", "skipdefaultupdate", "skipfetchall"};
    if (!k.subsection.empty() && In(k.name, inert)) return "";
    return "a remote setting that can run a program or redirect the transfer";
  }
  if (sec == "branch") {
    static const std::set<std::string> inert = {"remote", "merge", "rebase", "pushremote",
                                                "description"};
    if (!k.subsection.empty() && In(k.name, inert)) return "";
    return "not a setting datacube allows";
  }
  if (sec == "user") {
    if (k.subsection.empty() && In(k.name, {"name", "email", "signingkey", "useconfigonly"}))
      return "";
    return "not a setting datacube allows";
  }
  if (sec == "lfs") {
    // What git-lfs itself writes: its format version, and per-endpoint access mode and lock
    // verification.
    if (k.subsection.empty() &&
        In(k.name, {"repositoryformatversion", "fetchinclude", "fetchexclude", "locksverify"}))
      return "";
    if (!k.subsection.empty() && In(k.name, {"access", "locksverify"})) return "";
    return "a git-lfs setting that can run a program, move files or redirect the transfer";
  }
  if (sec == "filter") {
    // datacube passes its own lfs filter commands (or empty ones) on every command line, which
    // win over these.
    if (k.subsection == "lfs" && In(k.name, {"process", "smudge", "clean", "required"})) return "";
    return "a filter driver (a program git runs on file contents)";
  }
  if (sec == "alias") {
    if (k.subsection.empty() && k.name != "lfs") return "";
    return "an alias of a command datacube runs";
  }
  if (InertSections().count(sec) && k.subsection.empty()) return "";
  if (sec == "include" || sec == "includeif") return "an include of another configuration file";
  if (sec == "url") return "a URL rewrite (insteadOf)";
  if (sec == "http") return "an HTTP setting (proxy, TLS trust, headers or cookies)";
  if (sec == "credential") return "a credential helper or credential setting";
  if (sec == "diff" || sec == "merge") return "a diff or merge driver (a program git runs)";
  return "not a setting datacube allows";
}

namespace {

Status CheckLayout(const std::string& dir) {
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) return ErrnoToStatus(errno, "inspecting " + dir);
  if (S_ISLNK(st.st_mode)) {
    return FailedPreconditionError(dir +
                                   " is a symbolic link; datacube only works in a real "
                                   "directory of the volume");
  }
  std::string git_dir = dir + "/.git";
  if (::lstat(git_dir.c_str(), &st) != 0) return ErrnoToStatus(errno, "inspecting " + git_dir);
  if (S_ISLNK(st.st_mode)) {
    return FailedPreconditionError(git_dir +
                                   " is a symbolic link; datacube only updates a clone whose "
                                   ".git directory is inside it");
  }
  if (!S_ISDIR(st.st_mode)) {
    return FailedPreconditionError(
        git_dir +
        " is not a directory (a \"gitdir:\" link of a worktree or submodule?); datacube only "
        "updates a clone whose .git directory is inside it");
  }
  for (const char* redirect :
       {"commondir", "objects/info/alternates", "objects/info/http-alternates"}) {
    std::string p = git_dir + "/" + redirect;
    if (::lstat(p.c_str(), &st) == 0) {
      return FailedPreconditionError(p +
                                     " makes git use another repository's files; datacube "
                                     "only updates a self-contained clone");
    }
  }
  std::error_code ec;
  fs::recursive_directory_iterator it(git_dir, fs::directory_options::none, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    auto type = it->symlink_status(ec).type();
    if (ec) break;
    if (type == fs::file_type::symlink) {
      return FailedPreconditionError(Printable(it->path().string()) +
                                     " is a symbolic link; datacube does not use a repository "
                                     "whose .git holds links (they can point outside the volume)");
    }
    if (type != fs::file_type::regular && type != fs::file_type::directory) {
      return FailedPreconditionError(Printable(it->path().string()) +
                                     " is not a regular file or directory; datacube does not use "
                                     "this repository");
    }
  }
  if (ec) return ErrnoToStatus(ec.value(), "inspecting " + git_dir);
  return Status();
}

// Parses `git config --null --list` output: "key\nvalue\0" (or "key\0" for a key without "=").
std::vector<std::pair<std::string, std::string>> ParseConfigList(const std::string& out) {
  std::vector<std::pair<std::string, std::string>> entries;
  size_t start = 0;
  while (start < out.size()) {
    size_t end = out.find('\0', start);
    if (end == std::string::npos) end = out.size();
    std::string rec = out.substr(start, end - start);
    size_t nl = rec.find('\n');
    if (nl == std::string::npos)
      entries.emplace_back(rec, "true");
    else
      entries.emplace_back(rec.substr(0, nl), rec.substr(nl + 1));
    start = end + 1;
  }
  return entries;
}

}  // namespace

Result<RepositoryConfig> CheckRepository(const std::vector<std::string>& env,
                                         const std::string& scratch_dir, const std::string& dir) {
  DC_RETURN_IF_ERROR(CheckLayout(dir));
  std::string file = dir + "/.git/config";
  ProcessOptions p;
  p.argv = {"git", "config", "--file", file, "--no-includes", "--null", "--list"};
  p.env = env;
  // Not inside any repository: `git config --file` reads that one file and nothing else.
  p.cwd = scratch_dir;
  p.env.push_back("GIT_CEILING_DIRECTORIES=" + fs::path(scratch_dir).parent_path().string());
  p.timeout = std::chrono::seconds(60);
  p.max_stdout = size_t{16} << 20;
  DC_ASSIGN_OR_RETURN(ProcessResult r, RunProcess(p));
  if (!r.success()) {
    std::string why = r.stderr_data.substr(0, r.stderr_data.find('\n'));
    return FailedPreconditionError("cannot read " + file + ": " + why);
  }
  RepositoryConfig config;
  config.entries = ParseConfigList(r.stdout_data);
  std::vector<std::string> refused;
  for (const auto& [key, value] : config.entries) {
    if (key == "remote.origin.url") config.origin_url = value;
    std::string why = UnsafeConfigReason(key, value);
    if (!why.empty()) refused.push_back(Printable(key) + " (" + why + ")");
  }
  if (!refused.empty()) {
    std::string list;
    for (size_t i = 0; i < refused.size() && i < 5; ++i) list += (i ? ", " : "") + refused[i];
    if (refused.size() > 5) list += " and " + std::to_string(refused.size() - 5) + " more";
    std::string first = refused[0].substr(0, refused[0].find(' '));
    return FailedPreconditionError(
        file + " sets " + list +
        "; datacube runs git only in a repository whose configuration cannot start programs, "
        "redirect the transfer or write outside the clone. Remove the setting (git config "
        "--file " +
        file + " --unset-all " + first + ") or use a new directory");
  }
  return config;
}

}  // namespace datacube::git::internal
