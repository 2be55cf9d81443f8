// The huggingface_hub cache layout (docs/huggingface.md, Layouts), so that transformers, datasets
// and huggingface_hub find what datacube downloaded, offline:
//
//   <cache>/models--org--name/               ("datasets--", "spaces--" for other repo types)
//     blobs/<etag>                           content; etag = LFS SHA-256 or git blob id
//     snapshots/<commit>/<path>              -> ../../blobs/<etag> (relative; one more ../ per
//                                               directory level of <path>)
//     refs/<revision>                        the commit sha, no newline (refs/pr/1 nests)
//
// Writers here are crash-safe: a ref or link is created under a temporary name and renamed
// into place, so a reader sees the old or the new one, never a torn one. They never follow a
// symlink inside the repository folder (OpenDirBeneath), and a ref replaces only a regular file.
// Blob bytes themselves are written by the engine into blobs/ (atomic rename, resumable parts).
#pragma once

#include <optional>
#include <string>

#include "datacube/base/result.h"
#include "datacube/io/file.h"
#include "datacube/storage/hf/hub_options.h"

namespace datacube::storage::hf {

// "models--org--name".
std::string RepoFolderName(const RepoRef& repo);

// "<cache>/models--org--name".
std::string RepoCacheDir(const std::string& cache_dir, const RepoRef& repo);

// The symlink target for snapshots/<commit>/<path>: "../../blobs/<etag>" plus one "../" per '/'
// in `path`.
std::string SnapshotLinkTarget(std::string_view path, std::string_view etag);

// Points snapshots/<commit>/<path> at blobs/<etag> (replacing any previous entry). `path` must
// be a safe relative key; the blob should exist.
Status LinkSnapshotFile(const std::string& repo_dir, const std::string& commit,
                        const std::string& path, const std::string& etag);

// Records refs/<revision> = commit. No-op when the revision is the commit itself (huggingface_hub
// writes refs only for branch and tag names).
Status WriteRef(const std::string& repo_dir, const std::string& revision,
                const std::string& commit);

// Opens the directory `base`/`rel` without following any symlink on the way (the cache may sit
// on a volume others wrote to): `base` and every component of `rel` must be real directories;
// with `create`, missing ones are made. kFailedPrecondition names the component that is not.
Result<io::File> OpenDirBeneath(const std::string& base, std::string_view rel, bool create);

// huggingface_hub's try_to_load_from_cache, offline: resolves `revision` (a ref name under refs/,
// or a commit sha) to a snapshot and returns the path of `path` in it when the file is there.
// nullopt when the repo, revision or file is not cached.
std::optional<std::string> TryLoadFromCache(const std::string& cache_dir, const RepoRef& repo,
                                            const std::string& path,
                                            const std::string& revision = "main");

}  // namespace datacube::storage::hf
