// Path resolution that cannot leave a directory.
//
// A directory whose contents someone else controls (a PVC shared with other workloads, a sink
// tree a previous job filled) may hold symbolic links pointing anywhere. Every open, create,
// mkdir, rename and delete below such a root therefore resolves its path *beneath* an open
// descriptor of the root: with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) the kernel refuses
// any step out ("..", absolute links, relative links climbing above the root) atomically. Where
// openat2 is missing (kernels before 5.6, seccomp filters that refuse it) an equivalent walk opens
// one component at a time with O_NOFOLLOW from held descriptors and resolves relative links
// itself, refusing absolute ones and any ".." above the root.
//
// Escapes are reported as EXDEV, turned into kInvalidArgument errors naming the path.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "datacube/base/result.h"
#include "datacube/io/file.h"

namespace datacube::io {

// Opens `rel` (relative, '/'-separated) below the directory `root` with open(2) `flags`. Symbolic
// links are followed only while they stay beneath `root`; O_NOFOLLOW in `flags` refuses a link
// as the last component. An empty `rel` opens `root` itself. `display` names `rel` in errors
// (e.g. "pvc://vol/a/b"); escapes are kInvalidArgument, other failures map errno.
Result<File> OpenBeneath(const File& root, std::string_view rel, int flags, mode_t mode = 0644,
                         std::string_view display = {});

// Opens the directory `rel` below `root` (O_RDONLY | O_DIRECTORY), creating missing components
// (mode 0755) one at a time beneath the nearest existing one, so nothing is created outside.
Result<File> MakeDirsBeneath(const File& root, std::string_view rel, std::string_view display = {});

// The directory part and last component of a relative path ("a/b/c" -> {"a/b", "c"}).
std::pair<std::string_view, std::string_view> SplitParentName(std::string_view rel);

// The absolute path the kernel knows for an open descriptor (/proc/self/fd), for messages and for
// handing a checked directory to tools that take paths.
Result<std::string> PathOfDescriptor(const File& file);

namespace internal {
// Tests only: use the user-space walk even where openat2 works.
void ForceBeneathWalkForTesting(bool force);
}  // namespace internal

}  // namespace datacube::io
