// HubModel: the repositories of the Hugging Face Hub fixture, kept on disk as a faithful model of
// git + Git LFS (no Hub can run here; see "The Hub fixture" in docs/huggingface.md).
//
// What is faithful, because clients see it:
//   - every file has its real git blob id (for an LFS file: the blob id of its pointer text);
//   - directories have real git tree ids and commits real git commit ids (tree, parent, author,
//     committer, message), so ids change exactly when git's would;
//   - branches, tags and pull-request refs (refs/pr/N) point at commits; a new repo starts with one
//     commit holding the Hub's default .gitattributes;
//   - LFS objects are stored per repository by SHA-256 and must exist before a commit may
//     reference them.
// What is simplified: there is no pack/object database, so `git clone` does not work against it.
//
// Layout under the root:
//   <type>s/<org>/<name>/repo.json            visibility, gating, refs
//   <type>s/<org>/<name>/commits/<sha>.json   one per commit: parent, message, the file table
//   <type>s/<org>/<name>/objects/<blob id>    content of regular files
//   <type>s/<org>/<name>/lfs/<sha256>         content of LFS files
// State is loaded at start, so a restarted fixture serves the same repositories.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "datacube/base/result.h"

namespace datacube::testing::hf {

// The .gitattributes of a new repository on the Hub (LFS for weights, archives, arrays...).
extern const char kDefaultGitAttributes[];

struct FileRecord {
  std::string oid;         // git blob id (of the pointer for LFS files)
  uint64_t size = 0;       // the real content size
  std::string lfs_sha256;  // empty for a regular file
  uint64_t pointer_size = 0;
  bool is_lfs() const { return !lfs_sha256.empty(); }
};

struct CommitRecord {
  std::string sha;
  std::string parent;
  std::string title;
  std::string message;
  std::string date;  // ISO 8601
  std::map<std::string, FileRecord> files;
};

// One change of a commit.
struct CommitOp {
  enum class Kind { kFile, kLfsFile, kDelete, kDeleteFolder };
  Kind kind = Kind::kFile;
  std::string path;
  std::string content;           // kFile
  std::string sha256;            // kLfsFile
  std::optional<uint64_t> size;  // kLfsFile (optional on the wire)
};

struct RepoMeta {
  std::string type;  // "model", "dataset", "space"
  std::string id;    // "org/name"
  bool is_private = false;
  std::string gated;              // "", "auto", "manual"
  std::set<std::string> granted;  // users granted access to a gated repo
  std::map<std::string, std::string> branches;
  std::map<std::string, std::string> tags;
  std::map<int, std::string> pulls;  // refs/pr/N
  std::string created_at;
};

class HubModel {
 public:
  // Opens (or creates) the model under `root`, loading any repositories already there.
  static Result<std::unique_ptr<HubModel>> Open(const std::string& root);

  const std::string& root() const { return root_; }

  // Creates a repo with one commit holding kDefaultGitAttributes on branch main.
  // kAlreadyExists when it exists.
  Status CreateRepo(const std::string& type, const std::string& id, bool is_private,
                    const std::string& gated = "");
  Status SetGated(const std::string& type, const std::string& id, const std::string& gated,
                  const std::set<std::string>& granted);
  Status SetPrivate(const std::string& type, const std::string& id, bool is_private);
  std::optional<RepoMeta> Meta(const std::string& type, const std::string& id) const;

  // A branch, tag, refs/pr/N, "HEAD" (= main) or full commit sha -> commit sha.
  std::optional<std::string> Resolve(const std::string& type, const std::string& id,
                                     const std::string& revision) const;
  std::optional<CommitRecord> Commit(const std::string& type, const std::string& id,
                                     const std::string& sha) const;
  // Git tree id of every directory in a commit ("" = root).
  std::map<std::string, std::string> TreeIds(const CommitRecord& commit) const;

  // Applies `ops` on top of `revision` (a branch, or with create_pr a base revision) and moves
  // the ref. Fails with kFailedPrecondition when parent_commit is given and the branch moved;
  // kNotFound for a missing revision, a deleted path that does not exist or an LFS object never
  // uploaded. With create_pr, the commit goes to a new refs/pr/N and *pr_number is set.
  Result<std::string> ApplyCommit(const std::string& type, const std::string& id,
                                  const std::string& revision, const std::vector<CommitOp>& ops,
                                  const std::string& title, const std::string& description,
                                  const std::string& parent_commit, bool create_pr, int* pr_number);
  Status CreateBranch(const std::string& type, const std::string& id, const std::string& branch,
                      const std::string& from_revision);
  Status CreateTag(const std::string& type, const std::string& id, const std::string& tag,
                   const std::string& from_revision);

  // Content paths (they exist once written).
  std::string ObjectPath(const std::string& type, const std::string& id,
                         const std::string& oid) const;
  std::string LfsPath(const std::string& type, const std::string& id,
                      const std::string& sha256) const;
  bool HasLfs(const std::string& type, const std::string& id, const std::string& sha256,
              uint64_t size) const;
  // A scratch directory for uploads in progress.
  std::string StagingDir() const;
  // Moves a finished upload into the repo's LFS store after checking its SHA-256 and size.
  Status AdoptLfsObject(const std::string& type, const std::string& id, const std::string& sha256,
                        uint64_t size, const std::string& temp_path);

  // The .gitattributes content of a commit (empty when absent).
  std::string GitAttributes(const std::string& type, const std::string& id,
                            const CommitRecord& commit) const;

 private:
  explicit HubModel(std::string root) : root_(std::move(root)) {}
  struct Repo {
    RepoMeta meta;
    std::map<std::string, CommitRecord> commits;
  };
  std::string RepoDir(const std::string& type, const std::string& id) const;
  Status Load();
  Status SaveMeta(const Repo& repo) const;  // mu_ held
  Status SaveCommit(const Repo& repo, const CommitRecord& commit) const;
  Repo* Find(const std::string& type, const std::string& id);
  const Repo* Find(const std::string& type, const std::string& id) const;
  std::optional<std::string> ResolveLocked(const Repo& repo, const std::string& revision) const;
  Result<CommitRecord> MakeCommit(const std::string& type, const std::string& id,
                                  const CommitRecord& base, const std::vector<CommitOp>& ops,
                                  const std::string& title, const std::string& description);

  const std::string root_;
  mutable std::mutex mu_;
  std::map<std::string, Repo> repos_;  // guarded by mu_; key "type:org/name"
};

// Git tree id of a file table (the root tree of a commit).
std::string RootTreeId(const std::map<std::string, FileRecord>& files);

// True when a .gitattributes line marks `path` as LFS (filter=lfs), git's matching rules.
bool GitAttributesSayLfs(const std::string& gitattributes, const std::string& path);

}  // namespace datacube::testing::hf
