// Internal to LocalStore: what a file in the store's tree looks like as an object (stat to
// ObjectInfo, the xattr SHA-256 cache), and the files the store refuses to copy.
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "datacube/storage/object_store.h"

namespace datacube::storage::local_detail {

// Scratch for reads into sinks without direct memory, and for writes; reused per thread.
inline constexpr size_t kReadChunk = 1 << 20;

int64_t MtimeNs(const struct stat& st);
// The inode change time, which utimes cannot set (unlike the mtime).
int64_t CtimeNs(const struct stat& st);
int64_t RealtimeNs();

// The path through which the kernel reaches the open descriptor `fd` (plus `name` inside it when
// `fd` is a directory) without walking any user-controlled path again.
std::string FdPath(int fd, std::string_view name = {});

// Reads the cached hash of the file at `path` (an FdPath) if it still describes this size and
// mtime; "" otherwise. An FdPath with a name never follows a link there; one of a file's own
// descriptor follows the descriptor's magic link to the file itself.
std::string CachedSha256(const std::string& path, uint64_t size, int64_t mtime_ns);

// The etag of a file: inode, mtime and size, so any rewrite changes it.
std::string EtagOf(const struct stat& st);

// The object for a regular file, with its cached hash read through `xattr_path` (an FdPath).
ObjectInfo InfoFromStat(const struct stat& st, std::string key, const std::string& xattr_path);

// "a FIFO", "a socket", ... for messages about files that are not regular.
std::string KindOf(mode_t mode);

// Kernel pseudo-files (/proc, /sys) report a size of 0 and still have content; copying by the
// reported size would land an empty file. True when a zero-sized regular file yields a byte.
bool HasContentBeyondSize(int readable_fd, const struct stat& st);

// Why such a pseudo-file is refused, for messages.
std::string UnsizedReason();

}  // namespace datacube::storage::local_detail
