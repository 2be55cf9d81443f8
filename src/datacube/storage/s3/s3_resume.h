// Finding an interrupted multipart upload to resume. S3 shows no metadata of uploads in
// progress, so candidates come from ListMultipartUploads (the exact key, newest first) and
// ListParts, and one is offered only when every part it holds fits the new layout and it began
// after the source was last modified. Which source it held is only certain once it is complete:
// the resume tag (x-amz-meta-datacube-resume) is checked then (s3_multipart.cc). docs/s3.md,
// "Resume".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "datacube/storage/object_store.h"
#include "datacube/storage/s3/s3_store_state.h"

namespace datacube::storage::s3 {

// An interrupted upload and the parts it already holds.
struct ResumableUpload {
  std::string upload_id;
  std::vector<PartInfo> parts;
};

// What a resumable upload records as x-amz-meta-datacube-resume: a hash of the engine's source
// fingerprint and the part size.
std::string ResumeTag(const MultipartOptions& options);

// An interrupted upload of `key` whose parts fit `options` (size, part size, the source's
// mtime), or nothing. Needs options.size and options.part_size.
Result<std::optional<ResumableUpload>> FindResumableUpload(S3StoreState& state,
                                                           const std::string& key,
                                                           const MultipartOptions& options);

}  // namespace datacube::storage::s3
