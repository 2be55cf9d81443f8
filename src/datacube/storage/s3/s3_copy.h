// Server-side copies between buckets of one S3 service: CopyObject up to 5 GiB, UploadPartCopy
// above, so no byte passes through this machine. Internal to storage/s3; the requests:
// docs/protocols/s3.md, "Operations".
#pragma once

#include <memory>
#include <string_view>

#include "datacube/storage/object_store.h"
#include "datacube/storage/s3/s3_store_state.h"

namespace datacube::storage::s3 {

// Whether the store of `dst` can copy from `src`'s bucket: one endpoint, one identity (and not
// anonymous), so a CopyObject signed for `dst` can read the source.
bool CanCopyServerSide(const S3StoreState& dst, const S3StoreState& src);

// Copies `src_key` of `src` to `dst_key` of `dst` on the server, with the source's metadata,
// and returns what the new object's HEAD says. Both keys are checked here.
Result<ObjectInfo> CopyServerSide(S3StoreState& src, std::string_view src_key,
                                  const std::shared_ptr<S3StoreState>& dst,
                                  std::string_view dst_key);

}  // namespace datacube::storage::s3
