// Reading small input files (specs, manifests, mounted Secrets) without trusting what the path
// names.
//
// A path given to datacube may name a directory, a FIFO nobody writes to, /dev/zero or a file
// that grows while it is read. These functions open without blocking (O_NONBLOCK, so a FIFO
// without a writer cannot hang the process), read only regular files, and stop at the cap while
// reading, so an endless source costs at most the cap in memory.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "datacube/base/result.h"

namespace datacube::io {

// "a directory", "a FIFO", "a socket", "a character device", "a block device",
// "a symbolic link", "a regular file".
std::string_view DescribeFileType(mode_t mode);

// Reads `path` whole when it is a regular file (symbolic links are followed) of at most
// `max_bytes`. Errors name `what` and the path: kInvalidArgument for anything that is not a
// regular file ("<what> <path> is a FIFO, not a regular file") and for a file over the cap;
// otherwise the errno's status (kNotFound for a missing file, kPermissionDenied, ...).
Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes, std::string_view what);

// Reads `fd` (standard input) to its end, failing with kInvalidArgument naming `name` as soon as
// more than `max_bytes` arrived.
Result<std::string> ReadSmallFd(int fd, size_t max_bytes, std::string_view name);

// OK when `path` does not exist or is a regular file, so a rename may replace it; otherwise
// kInvalidArgument naming `what`: a status or manifest path that names a device node, a FIFO, a
// directory or a symbolic link is refused rather than replaced.
Status CheckReplaceableFile(const std::string& path, std::string_view what);

}  // namespace datacube::io
