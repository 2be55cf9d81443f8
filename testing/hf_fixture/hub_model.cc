#include "testing/hf_fixture/hub_model.h"

#include <fnmatch.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "datacube/base/glob.h"
#include "datacube/crypto/sha256.h"
#include "datacube/storage/hf/git_oid.h"
#include "datacube/storage/object_store.h"

namespace datacube::testing::hf {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using storage::hf::GitBlobId;
using storage::hf::LfsPointer;
using storage::hf::Sha1Hex;

std::string NowIso() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000Z", std::gmtime(&t));
  return buf;
}

Status WriteWhole(const std::string& path, const std::string& data) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!out) return InternalError("cannot write " + tmp);
  }
  fs::rename(tmp, path, ec);
  if (ec) return InternalError("cannot rename " + tmp + ": " + ec.message());
  return Status();
}

Result<std::string> ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string RawFromHex(const std::string& hex) {
  std::string raw;
  crypto::HexDecode(hex, &raw);
  return raw;
}

// Git orders tree entries by name, with a directory compared as if its name ended in '/'.
struct TreeNode {
  std::map<std::string, std::string> files;  // name -> blob id
  std::map<std::string, TreeNode> dirs;
};

std::string HashTree(const TreeNode& node, const std::string& prefix,
                     std::map<std::string, std::string>* ids) {
  std::vector<std::pair<std::string, std::string>> entries;  // sort key -> entry bytes
  for (const auto& [name, oid] : node.files) {
    entries.emplace_back(name, "100644 " + name + std::string(1, '\0') + RawFromHex(oid));
  }
  for (const auto& [name, child] : node.dirs) {
    std::string child_id = HashTree(child, prefix.empty() ? name : prefix + "/" + name, ids);
    entries.emplace_back(name + "/", "40000 " + name + std::string(1, '\0') + RawFromHex(child_id));
  }
  std::sort(entries.begin(), entries.end());
  std::string body;
  for (const auto& e : entries) body += e.second;
  std::string object = "tree " + std::to_string(body.size()) + std::string(1, '\0') + body;
  std::string id = Sha1Hex(object);
  if (ids) (*ids)[prefix] = id;
  return id;
}

TreeNode BuildTree(const std::map<std::string, FileRecord>& files) {
  TreeNode root;
  for (const auto& [path, rec] : files) {
    TreeNode* node = &root;
    size_t start = 0;
    size_t slash;
    while ((slash = path.find('/', start)) != std::string::npos) {
      node = &node->dirs[path.substr(start, slash - start)];
      start = slash + 1;
    }
    node->files[path.substr(start)] = rec.oid;
  }
  return root;
}

json FileToJson(const FileRecord& f) {
  json j = {{"oid", f.oid}, {"size", f.size}};
  if (f.is_lfs()) {
    j["lfs"] = f.lfs_sha256;
    j["pointerSize"] = f.pointer_size;
  }
  return j;
}

FileRecord FileFromJson(const json& j) {
  FileRecord f;
  f.oid = j.value("oid", "");
  f.size = j.value("size", uint64_t{0});
  f.lfs_sha256 = j.value("lfs", "");
  f.pointer_size = j.value("pointerSize", uint64_t{0});
  return f;
}

std::string Key(const std::string& type, const std::string& id) { return type + ":" + id; }

// Paths the Hub accepts in a commit: relative, no empty/"."/".." segments, no ".git/".
Status CheckCommitPath(const std::string& path) {
  DC_RETURN_IF_ERROR(storage::ValidateRelativeKey(path));
  if (path == ".git" || path.rfind(".git/", 0) == 0) {
    return InvalidArgumentError("path " + path + " is inside .git");
  }
  return Status();
}

}  // namespace

const char kDefaultGitAttributes[] =
    "*.7z filter=lfs diff=lfs merge=lfs -text\n"
    "*.arrow filter=lfs diff=lfs merge=lfs -text\n"
    "*.bin filter=lfs diff=lfs merge=lfs -text\n"
    "*.bz2 filter=lfs diff=lfs merge=lfs -text\n"
    "*.ckpt filter=lfs diff=lfs merge=lfs -text\n"
    "*.ftz filter=lfs diff=lfs merge=lfs -text\n"
    "*.gz filter=lfs diff=lfs merge=lfs -text\n"
    "*.h5 filter=lfs diff=lfs merge=lfs -text\n"
    "*.joblib filter=lfs diff=lfs merge=lfs -text\n"
    "*.lfs.* filter=lfs diff=lfs merge=lfs -text\n"
    "*.mlmodel filter=lfs diff=lfs merge=lfs -text\n"
    "*.model filter=lfs diff=lfs merge=lfs -text\n"
    "*.msgpack filter=lfs diff=lfs merge=lfs -text\n"
    "*.npy filter=lfs diff=lfs merge=lfs -text\n"
    "*.npz filter=lfs diff=lfs merge=lfs -text\n"
    "*.onnx filter=lfs diff=lfs merge=lfs -text\n"
    "*.ot filter=lfs diff=lfs merge=lfs -text\n"
    "*.parquet filter=lfs diff=lfs merge=lfs -text\n"
    "*.pb filter=lfs diff=lfs merge=lfs -text\n"
    "*.pickle filter=lfs diff=lfs merge=lfs -text\n"
    "*.pkl filter=lfs diff=lfs merge=lfs -text\n"
    "*.pt filter=lfs diff=lfs merge=lfs -text\n"
    "*.pth filter=lfs diff=lfs merge=lfs -text\n"
    "*.rar filter=lfs diff=lfs merge=lfs -text\n"
    "*.safetensors filter=lfs diff=lfs merge=lfs -text\n"
    "saved_model/**/* filter=lfs diff=lfs merge=lfs -text\n"
    "*.tar.* filter=lfs diff=lfs merge=lfs -text\n"
    "*.tar filter=lfs diff=lfs merge=lfs -text\n"
    "*.tflite filter=lfs diff=lfs merge=lfs -text\n"
    "*.tgz filter=lfs diff=lfs merge=lfs -text\n"
    "*.wasm filter=lfs diff=lfs merge=lfs -text\n"
    "*.xz filter=lfs diff=lfs merge=lfs -text\n"
    "*.zip filter=lfs diff=lfs merge=lfs -text\n"
    "*.zst filter=lfs diff=lfs merge=lfs -text\n"
    "*tfevents* filter=lfs diff=lfs merge=lfs -text\n";

std::string RootTreeId(const std::map<std::string, FileRecord>& files) {
  return HashTree(BuildTree(files), "", nullptr);
}

bool GitAttributesSayLfs(const std::string& gitattributes, const std::string& path) {
  std::istringstream in(gitattributes);
  std::string line;
  bool lfs = false;  // the last matching line wins, as in git
  std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string pattern;
    if (!(fields >> pattern) || pattern[0] == '#') continue;
    std::string attr;
    std::optional<bool> says;
    while (fields >> attr) {
      if (attr == "filter=lfs") says = true;
      if (attr == "-filter" || attr == "!filter") says = false;
    }
    if (!says) continue;
    bool match;
    if (pattern.find('/') == std::string::npos) {
      match = fnmatch(pattern.c_str(), base.c_str(), 0) == 0;
    } else {
      auto glob = GlobPattern::Compile(pattern[0] == '/' ? pattern : "/" + pattern);
      match = glob.ok() && glob->Matches(path);
    }
    if (match) lfs = *says;
  }
  return lfs;
}

Result<std::unique_ptr<HubModel>> HubModel::Open(const std::string& root) {
  std::error_code ec;
  fs::create_directories(root + "/.staging", ec);
  if (ec) return InternalError("cannot create " + root + ": " + ec.message());
  std::unique_ptr<HubModel> model(new HubModel(root));
  DC_RETURN_IF_ERROR(model->Load());
  return model;
}

std::string HubModel::RepoDir(const std::string& type, const std::string& id) const {
  return root_ + "/" + type + "s/" + id;
}

std::string HubModel::StagingDir() const { return root_ + "/.staging"; }

std::string HubModel::ObjectPath(const std::string& type, const std::string& id,
                                 const std::string& oid) const {
  return RepoDir(type, id) + "/objects/" + oid;
}

std::string HubModel::LfsPath(const std::string& type, const std::string& id,
                              const std::string& sha256) const {
  return RepoDir(type, id) + "/lfs/" + sha256;
}

Status HubModel::Load() {
  std::lock_guard<std::mutex> lock(mu_);
  for (const char* type : {"model", "dataset", "space"}) {
    std::string dir = root_ + "/" + type + "s";
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    for (const auto& org : fs::directory_iterator(dir, ec)) {
      for (const auto& name : fs::directory_iterator(org.path(), ec)) {
        auto text = ReadWhole(name.path().string() + "/repo.json");
        if (!text.ok()) continue;
        json j = json::parse(*text, nullptr, false);
        if (!j.is_object()) continue;
        Repo repo;
        repo.meta.type = type;
        repo.meta.id = org.path().filename().string() + "/" + name.path().filename().string();
        repo.meta.is_private = j.value("private", false);
        repo.meta.gated = j.value("gated", "");
        repo.meta.created_at = j.value("createdAt", "");
        // Named copies: iterating items() of a temporary would outlive it.
        const json granted = j.value("granted", json::array());
        const json branches = j.value("branches", json::object());
        const json tags = j.value("tags", json::object());
        const json pulls = j.value("pulls", json::object());
        for (const auto& u : granted) repo.meta.granted.insert(u.get<std::string>());
        for (const auto& [k, v] : branches.items()) repo.meta.branches[k] = v.get<std::string>();
        for (const auto& [k, v] : tags.items()) repo.meta.tags[k] = v.get<std::string>();
        for (const auto& [k, v] : pulls.items())
          repo.meta.pulls[std::stoi(k)] = v.get<std::string>();
        for (const auto& c : fs::directory_iterator(name.path() / "commits", ec)) {
          auto ctext = ReadWhole(c.path().string());
          json cj = json::parse(ctext.ok() ? *ctext : "", nullptr, false);
          if (!cj.is_object()) continue;
          CommitRecord rec;
          rec.sha = cj.value("sha", "");
          rec.parent = cj.value("parent", "");
          rec.title = cj.value("title", "");
          rec.message = cj.value("message", "");
          rec.date = cj.value("date", "");
          const json files = cj.value("files", json::object());
          for (const auto& [p, f] : files.items()) rec.files[p] = FileFromJson(f);
          repo.commits[rec.sha] = std::move(rec);
        }
        repos_[Key(type, repo.meta.id)] = std::move(repo);
      }
    }
  }
  return Status();
}

Status HubModel::SaveMeta(const Repo& repo) const {
  json j = {{"private", repo.meta.is_private},
            {"gated", repo.meta.gated},
            {"createdAt", repo.meta.created_at},
            {"granted", repo.meta.granted},
            {"branches", repo.meta.branches},
            {"tags", repo.meta.tags},
            {"pulls", json::object()}};
  for (const auto& [n, sha] : repo.meta.pulls) j["pulls"][std::to_string(n)] = sha;
  return WriteWhole(RepoDir(repo.meta.type, repo.meta.id) + "/repo.json", j.dump(1));
}

Status HubModel::SaveCommit(const Repo& repo, const CommitRecord& c) const {
  json j = {{"sha", c.sha},         {"parent", c.parent}, {"title", c.title},
            {"message", c.message}, {"date", c.date},     {"files", json::object()}};
  for (const auto& [p, f] : c.files) j["files"][p] = FileToJson(f);
  return WriteWhole(RepoDir(repo.meta.type, repo.meta.id) + "/commits/" + c.sha + ".json",
                    j.dump());
}

HubModel::Repo* HubModel::Find(const std::string& type, const std::string& id) {
  auto it = repos_.find(Key(type, id));
  return it == repos_.end() ? nullptr : &it->second;
}

const HubModel::Repo* HubModel::Find(const std::string& type, const std::string& id) const {
  auto it = repos_.find(Key(type, id));
  return it == repos_.end() ? nullptr : &it->second;
}

std::optional<std::string> HubModel::ResolveLocked(const Repo& repo,
                                                   const std::string& revision) const {
  std::string rev = revision == "HEAD" || revision.empty() ? "main" : revision;
  if (auto it = repo.meta.branches.find(rev); it != repo.meta.branches.end()) return it->second;
  if (auto it = repo.meta.tags.find(rev); it != repo.meta.tags.end()) return it->second;
  if (rev.rfind("refs/heads/", 0) == 0) return ResolveLocked(repo, rev.substr(11));
  if (rev.rfind("refs/pr/", 0) == 0) {
    int n = std::atoi(rev.c_str() + 8);
    if (auto it = repo.meta.pulls.find(n); it != repo.meta.pulls.end()) return it->second;
  }
  if (repo.commits.count(rev)) return rev;
  return std::nullopt;
}

std::optional<std::string> HubModel::Resolve(const std::string& type, const std::string& id,
                                             const std::string& revision) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Repo* repo = Find(type, id);
  if (!repo) return std::nullopt;
  return ResolveLocked(*repo, revision);
}

std::optional<CommitRecord> HubModel::Commit(const std::string& type, const std::string& id,
                                             const std::string& sha) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Repo* repo = Find(type, id);
  if (!repo) return std::nullopt;
  auto it = repo->commits.find(sha);
  if (it == repo->commits.end()) return std::nullopt;
  return it->second;
}

std::optional<RepoMeta> HubModel::Meta(const std::string& type, const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Repo* repo = Find(type, id);
  if (!repo) return std::nullopt;
  return repo->meta;
}

std::map<std::string, std::string> HubModel::TreeIds(const CommitRecord& commit) const {
  std::map<std::string, std::string> ids;
  HashTree(BuildTree(commit.files), "", &ids);
  return ids;
}

std::string HubModel::GitAttributes(const std::string& type, const std::string& id,
                                    const CommitRecord& commit) const {
  auto it = commit.files.find(".gitattributes");
  if (it == commit.files.end() || it->second.is_lfs()) return "";
  auto text = ReadWhole(ObjectPath(type, id, it->second.oid));
  return text.ok() ? *text : "";
}

bool HubModel::HasLfs(const std::string& type, const std::string& id, const std::string& sha256,
                      uint64_t size) const {
  struct stat st;
  return ::stat(LfsPath(type, id, sha256).c_str(), &st) == 0 &&
         static_cast<uint64_t>(st.st_size) == size;
}

Status HubModel::AdoptLfsObject(const std::string& type, const std::string& id,
                                const std::string& sha256, uint64_t size,
                                const std::string& temp_path) {
  std::ifstream in(temp_path, std::ios::binary);
  crypto::Sha256 h;
  std::vector<char> buf(1 << 20);
  uint64_t total = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    std::streamsize n = in.gcount();
    if (n <= 0) break;
    h.Update(std::string_view(buf.data(), static_cast<size_t>(n)));
    total += static_cast<uint64_t>(n);
  }
  std::string got = h.FinishHex();
  std::error_code ec;
  if (got != sha256 || total != size) {
    fs::remove(temp_path, ec);
    return DataLossError("uploaded content hashes to " + got + " (" + std::to_string(total) +
                         " bytes), not " + sha256 + " (" + std::to_string(size) + " bytes)");
  }
  std::string dest = LfsPath(type, id, sha256);
  fs::create_directories(fs::path(dest).parent_path(), ec);
  fs::rename(temp_path, dest, ec);
  if (ec) return InternalError("cannot store LFS object: " + ec.message());
  return Status();
}

Status HubModel::CreateRepo(const std::string& type, const std::string& id, bool is_private,
                            const std::string& gated) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (Find(type, id)) return AlreadyExistsError("You already created this " + type + " repo");
    Repo repo;
    repo.meta.type = type;
    repo.meta.id = id;
    repo.meta.is_private = is_private;
    repo.meta.gated = gated;
    repo.meta.created_at = NowIso();
    repos_[Key(type, id)] = std::move(repo);
  }
  CommitOp attrs{CommitOp::Kind::kFile, ".gitattributes", kDefaultGitAttributes, "", {}};
  std::lock_guard<std::mutex> lock(mu_);
  Repo* repo = Find(type, id);
  DC_ASSIGN_OR_RETURN(CommitRecord c,
                      MakeCommit(type, id, CommitRecord{}, {attrs}, "initial commit", ""));
  repo->commits[c.sha] = c;
  repo->meta.branches["main"] = c.sha;
  DC_RETURN_IF_ERROR(SaveCommit(*repo, c));
  return SaveMeta(*repo);
}

Status HubModel::SetGated(const std::string& type, const std::string& id, const std::string& gated,
                          const std::set<std::string>& granted) {
  std::lock_guard<std::mutex> lock(mu_);
  Repo* repo = Find(type, id);
  if (!repo) return NotFoundError("no repo " + id);
  repo->meta.gated = gated;
  repo->meta.granted = granted;
  return SaveMeta(*repo);
}

Status HubModel::SetPrivate(const std::string& type, const std::string& id, bool is_private) {
  std::lock_guard<std::mutex> lock(mu_);
  Repo* repo = Find(type, id);
  if (!repo) return NotFoundError("no repo " + id);
  repo->meta.is_private = is_private;
  return SaveMeta(*repo);
}

// mu_ held. Builds the next file table and the commit object; writes regular contents.
Result<CommitRecord> HubModel::MakeCommit(const std::string& type, const std::string& id,
                                          const CommitRecord& base,
                                          const std::vector<CommitOp>& ops,
                                          const std::string& title,
                                          const std::string& description) {
  CommitRecord c;
  c.parent = base.sha;
  c.files = base.files;
  c.title = title;
  c.message = description;
  c.date = NowIso();
  std::vector<std::string> new_lfs_paths;
  for (const auto& op : ops) {
    DC_RETURN_IF_ERROR(CheckCommitPath(op.path));
    switch (op.kind) {
      case CommitOp::Kind::kFile: {
        FileRecord f;
        f.oid = GitBlobId(op.content);
        f.size = op.content.size();
        std::string path = ObjectPath(type, id, f.oid);
        struct stat st;
        if (::stat(path.c_str(), &st) != 0) DC_RETURN_IF_ERROR(WriteWhole(path, op.content));
        c.files[op.path] = f;
        break;
      }
      case CommitOp::Kind::kLfsFile: {
        if (!crypto::IsSha256Hex(op.sha256)) {
          return InvalidArgumentError("lfsFile " + op.path + ": oid is not a SHA-256");
        }
        struct stat st;
        if (::stat(LfsPath(type, id, op.sha256).c_str(), &st) != 0) {
          return NotFoundError(
              "Your push was rejected because an LFS pointer pointed to a file "
              "that does not exist (" +
              op.path + ", oid " + op.sha256 + ")");
        }
        uint64_t size = static_cast<uint64_t>(st.st_size);
        if (op.size && *op.size != size) {
          return InvalidArgumentError("lfsFile " + op.path + ": size " + std::to_string(*op.size) +
                                      " does not match the object");
        }
        FileRecord f;
        std::string pointer = LfsPointer(op.sha256, size);
        f.oid = GitBlobId(pointer);
        f.size = size;
        f.lfs_sha256 = op.sha256;
        f.pointer_size = pointer.size();
        c.files[op.path] = f;
        new_lfs_paths.push_back(op.path);
        break;
      }
      case CommitOp::Kind::kDelete:
        if (!c.files.erase(op.path)) return NotFoundError("Entry not found: " + op.path);
        break;
      case CommitOp::Kind::kDeleteFolder: {
        std::string prefix = op.path.back() == '/' ? op.path : op.path + "/";
        size_t removed =
            std::erase_if(c.files, [&](const auto& kv) { return kv.first.rfind(prefix, 0) == 0; });
        if (!removed) return NotFoundError("Entry not found: " + op.path);
        break;
      }
    }
  }
  // Like the Hub, track LFS files the current .gitattributes does not cover yet.
  std::string attrs;
  if (auto it = c.files.find(".gitattributes"); it != c.files.end() && !it->second.is_lfs()) {
    auto text = ReadWhole(ObjectPath(type, id, it->second.oid));
    if (text.ok()) attrs = *text;
  }
  std::string added;
  for (const auto& p : new_lfs_paths) {
    if (!GitAttributesSayLfs(attrs + added, p)) {
      std::string escaped;
      for (char ch : p) escaped += ch == ' ' ? std::string("[[:space:]]") : std::string(1, ch);
      added += escaped + " filter=lfs diff=lfs merge=lfs -text\n";
    }
  }
  if (!added.empty()) {
    if (!attrs.empty() && attrs.back() != '\n') attrs += "\n";
    std::string content = attrs + added;
    FileRecord f;
    f.oid = GitBlobId(content);
    f.size = content.size();
    DC_RETURN_IF_ERROR(WriteWhole(ObjectPath(type, id, f.oid), content));
    c.files[".gitattributes"] = f;
  }
  std::string tree = RootTreeId(c.files);
  auto epoch = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  std::string who = "Datacube Fixture <fixture@hub.invalid> " + std::to_string(epoch) + " +0000";
  std::string body = "tree " + tree + "\n";
  if (!c.parent.empty()) body += "parent " + c.parent + "\n";
  body += "author " + who + "\ncommitter " + who + "\n\n" + title + "\n";
  if (!description.empty()) body += "\n" + description + "\n";
  c.sha = Sha1Hex("commit " + std::to_string(body.size()) + std::string(1, '\0') + body);
  return c;
}

Result<std::string> HubModel::ApplyCommit(const std::string& type, const std::string& id,
                                          const std::string& revision,
                                          const std::vector<CommitOp>& ops,
                                          const std::string& title, const std::string& description,
                                          const std::string& parent_commit, bool create_pr,
                                          int* pr_number) {
  std::lock_guard<std::mutex> lock(mu_);
  Repo* repo = Find(type, id);
  if (!repo) return NotFoundError("Repository not found");
  auto head = ResolveLocked(*repo, revision);
  if (!head) return NotFoundError("Invalid rev id: " + revision);
  bool is_branch = repo->meta.branches.count(revision == "HEAD" ? "main" : revision) > 0;
  bool is_pr = revision.rfind("refs/pr/", 0) == 0;
  if (!create_pr && !is_branch && !is_pr) {
    return InvalidArgumentError("Invalid rev id: " + revision + " is not a branch");
  }
  std::string base = *head;
  if (!parent_commit.empty()) {
    if (create_pr) {
      if (!repo->commits.count(parent_commit)) return NotFoundError("Invalid parent commit");
      base = parent_commit;
    } else if (parent_commit != *head) {
      return FailedPreconditionError("A commit has happened since. Please refresh and try again.");
    }
  }
  DC_ASSIGN_OR_RETURN(CommitRecord c,
                      MakeCommit(type, id, repo->commits[base], ops, title, description));
  repo->commits[c.sha] = c;
  if (create_pr) {
    int n = repo->meta.pulls.empty() ? 1 : repo->meta.pulls.rbegin()->first + 1;
    repo->meta.pulls[n] = c.sha;
    if (pr_number) *pr_number = n;
  } else if (is_pr) {
    repo->meta.pulls[std::atoi(revision.c_str() + 8)] = c.sha;
  } else {
    repo->meta.branches[revision == "HEAD" ? "main" : revision] = c.sha;
  }
  DC_RETURN_IF_ERROR(SaveCommit(*repo, c));
  DC_RETURN_IF_ERROR(SaveMeta(*repo));
  return c.sha;
}

Status HubModel::CreateBranch(const std::string& type, const std::string& id,
                              const std::string& branch, const std::string& from_revision) {
  std::lock_guard<std::mutex> lock(mu_);
  Repo* repo = Find(type, id);
  if (!repo) return NotFoundError("Repository not found");
  auto sha = ResolveLocked(*repo, from_revision);
  if (!sha) return NotFoundError("Invalid rev id: " + from_revision);
  repo->meta.branches[branch] = *sha;
  return SaveMeta(*repo);
}

Status HubModel::CreateTag(const std::string& type, const std::string& id, const std::string& tag,
                           const std::string& from_revision) {
  std::lock_guard<std::mutex> lock(mu_);
  Repo* repo = Find(type, id);
  if (!repo) return NotFoundError("Repository not found");
  auto sha = ResolveLocked(*repo, from_revision);
  if (!sha) return NotFoundError("Invalid rev id: " + from_revision);
  repo->meta.tags[tag] = *sha;
  return SaveMeta(*repo);
}

}  // namespace datacube::testing::hf
