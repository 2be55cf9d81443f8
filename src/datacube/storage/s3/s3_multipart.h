// Multipart uploads to S3 (CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
// AbortMultipartUpload), and what every upload records on the object. Internal to storage/s3;
// the requests: docs/protocols/s3.md, "Operations".
#pragma once

#include <map>
#include <memory>
#include <string>

#include "datacube/http/http_transport.h"
#include "datacube/storage/object_store.h"
#include "datacube/storage/s3/s3_store_state.h"

namespace datacube::storage::s3 {

// What an upload wants recorded on the object when it becomes visible.
struct UploadMetadata {
  std::string content_type;
  std::map<std::string, std::string> meta;  // x-amz-meta-* without the prefix
};

// The caller's metadata plus x-amz-meta-sha256 (when the SHA-256 is known) and
// x-amz-meta-mtime.
UploadMetadata MetadataFor(const WriteOptions& options);
// Content-Type (application/octet-stream by default) and the x-amz-meta-* headers.
void AddMetadataHeaders(const UploadMetadata& metadata, http::Headers& headers);

// StartMultipart of the S3 store, the key checked and the bucket ensured by the caller: resumes
// an interrupted upload that fits (options.resume_fingerprint set, s3_resume.h), else starts a
// new one.
Result<std::unique_ptr<MultipartUpload>> StartS3Multipart(std::shared_ptr<S3StoreState> state,
                                                          const std::string& key,
                                                          const MultipartOptions& options);

}  // namespace datacube::storage::s3
