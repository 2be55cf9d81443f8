// Names the S3 family accepts, checked before any request so a typo fails with a precise
// message instead of a 400 from the server.
#pragma once

#include <string_view>

#include "datacube/base/status.h"

namespace datacube::storage::s3 {

// Which rules apply to a bucket name.
enum class BucketRules {
  // AWS S3 general-purpose buckets: 3-63 characters of a-z 0-9 . -, starting and ending with a
  // letter or digit, no "..", not an IPv4 address, not starting "xn--" or "sthree-", not ending
  // "-s3alias" or "--ol-s3".
  kAws,
  // CoreWeave AI Object Storage: like AWS but without dots; the prefixes "cw-", "vip-" and
  // "log-stitcher-ch-" and the name "int" are reserved (docs/s3.md, "Bucket names").
  kCoreWeave,
  // Google Cloud Storage: 3-63 characters of a-z 0-9 - _ . (up to 222 with dots, each part at
  // most 63), starting and ending with a letter or digit, not starting "goog".
  kGcs,
  // Custom S3-compatible servers (Ceph RGW, MinIO, ...) are more permissive; only what could
  // break a URL is refused: empty, '/', whitespace, control characters, longer than 255.
  kCustom,
};

// OK, or kInvalidArgument naming the bucket and the broken rule.
Status ValidateBucketName(std::string_view bucket, BucketRules rules);

// S3 object keys are at most 1024 bytes of UTF-8 and never empty.
inline constexpr size_t kMaxObjectKeyBytes = 1024;
Status ValidateObjectKey(std::string_view key);

}  // namespace datacube::storage::s3
