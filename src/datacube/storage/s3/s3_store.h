// The ObjectStore for S3 and every S3-compatible service: AWS S3, CoreWeave AI Object Storage
// (cw://), Google Cloud Storage through its XML API with HMAC keys (gs://), Ceph RGW, MinIO.
// Options, credentials and endpoints: s3_options.h. Requests, integrity, resume: docs/s3.md.
//
// Integrity: every upload carries the SHA-256 of its bytes twice, as the signed payload hash
// (x-amz-content-sha256: every SigV4 server recomputes it and refuses a mismatch) and as
// x-amz-checksum-sha256 (servers with flexible checksums verify and keep it); where the server
// is not seen to support flexible checksums, Content-MD5 is added too (option
// s3-upload-checksum). The whole-object SHA-256 goes into x-amz-meta-sha256, which Stat reports
// and a whole-object Read verifies.
#pragma once

#include <memory>

#include "datacube/storage/object_store.h"
#include "datacube/storage/s3/s3_options.h"
#include "datacube/storage/store_config.h"

namespace datacube::storage::s3 {

// S3's own limits (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html):
// parts are 5 MiB to 5 GiB except the last, at most 10,000 per upload; one PUT or CopyObject
// moves at most 5 GiB; DeleteObjects takes at most 1,000 keys; a listing page at most 1,000.
inline constexpr uint64_t kMinPartSize = 5ull << 20;
inline constexpr uint64_t kMaxPartSize = 5ull << 30;
inline constexpr uint32_t kMaxPartCount = 10'000;
inline constexpr uint64_t kMaxSinglePutSize = 5ull << 30;
inline constexpr uint64_t kMaxCopyObjectSize = 5ull << 30;
inline constexpr size_t kMaxDeleteBatch = 1'000;
inline constexpr size_t kMaxKeysPerList = 1'000;

// A store for one bucket. Requests are sent lazily: creating it contacts nobody.
std::shared_ptr<ObjectStore> NewS3Store(S3StoreOptions options);

// The registry's entry point for s3://, cw:// and gs:// locations (transfer/registry.h; `mode`
// and StoreRef::key: storage/store_config.h).
Result<StoreRef> OpenS3Location(const Location& location, const StoreConfig& config, OpenMode mode);

}  // namespace datacube::storage::s3
