// Opening both sides of a copy: the step between two Locations and the engine, which takes
// opened stores and knows no registry.
#pragma once

#include "datacube/engine/transfer.h"
#include "datacube/location/location.h"
#include "datacube/storage/store_config.h"

namespace datacube::transfer {

// Opens both sides through the registry. A source location is a single object when an object
// exists at its key; otherwise a tree below "key/" (kNotFound when neither exists). A single file
// copied to an existing local directory, to a bucket or repository root, or to a location ending
// in '/', keeps its name (as `cp` does).
Result<engine::TransferEndpoints> ResolveEndpoints(const Location& src, const Location& dst,
                                                   const storage::StoreConfig& src_config,
                                                   const storage::StoreConfig& dst_config);

}  // namespace datacube::transfer
