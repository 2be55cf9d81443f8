// Opening hf:// locations for the registry (transfer/registry.cc): the one call the registry makes.
#pragma once

#include "datacube/storage/store_config.h"

namespace datacube::storage::hf {

// kRead: an HfStore pinned, at its first listing, Stat or read, to the commit the revision
// points at then; `files` (the DataCube option) limits what is listed. Opening makes no request.
// kWriteTree/kWriteFile: an HfStore whose Put commits each file to the revision (a branch) with the
// option `commit-message`; the repository must exist (HfUpload can create it). The key is the
// location's path in the repo ("" = root; a tree prefix ends in
// '/').
Result<StoreRef> OpenHfLocation(const Location& location, const StoreConfig& config, OpenMode mode);

}  // namespace datacube::storage::hf
