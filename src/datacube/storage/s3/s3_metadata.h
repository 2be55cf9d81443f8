// What datacube keeps in S3 object metadata, and how object information is read back from
// response headers.
//
//   x-amz-meta-sha256   lower-case hex SHA-256 of the whole object, set by every datacube upload
//                       so any later download (ours or anyone's) can verify the bytes
//   x-amz-meta-mtime    source modification time, "seconds.nanoseconds" since the epoch (the
//                       format rclone uses, so both tools preserve each other's times)
//   x-amz-meta-datacube-resume   hash of the engine's resume fingerprint and part size, checked
//                       after completing a resumed multipart upload
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "datacube/http/http_transport.h"
#include "datacube/storage/object_store.h"

namespace datacube::storage::s3 {

inline constexpr char kMetaSha256[] = "sha256";
inline constexpr char kMetaMtime[] = "mtime";
inline constexpr char kMetaResume[] = "datacube-resume";
inline constexpr std::string_view kMetaHeaderPrefix = "x-amz-meta-";
// rclone's base64 MD5 of the whole object, set where the ETag is no MD5 (multipart uploads).
inline constexpr char kMetaRcloneMd5[] = "md5chksum";

// Base64 of the 32 raw bytes of a hex SHA-256 (the x-amz-checksum-sha256 form); empty when
// `hex` is not a SHA-256.
std::string Sha256HexToBase64(std::string_view hex);
// Hex of a base64 SHA-256; empty when it does not decode to 32 bytes.
std::string Sha256Base64ToHex(std::string_view b64);

// "1700000000.123456789".
std::string FormatMtime(int64_t ns);
std::optional<int64_t> ParseMtime(std::string_view text);
// RFC 7231 date ("Wed, 21 Oct 2015 07:28:00 GMT") -> ns since the epoch.
std::optional<int64_t> ParseHttpDate(std::string_view text);

// Object information from the headers of a HEAD (or GET) response: size (Content-Range total
// on a 206, else Content-Length), ETag without quotes, mtime (x-amz-meta-mtime, else
// Last-Modified), user metadata, sha256 from a full-object x-amz-checksum-sha256 (computed by
// the server) or x-amz-meta-sha256, and in `digests` every other digest offered: the MD5 of a
// single-part ETag (not for SSE-KMS or SSE-C objects, whose ETag is something else), the other
// x-amz-checksum-* (composite ones "...-N" with their part count; the part size is for the
// caller to learn), rclone's x-amz-meta-md5chksum, GCS's x-goog-hash. A malformed size or
// checksum is kInternal naming the header.
Result<ObjectInfo> ObjectInfoFromHeaders(std::string key, const http::HttpResponse& response);

}  // namespace datacube::storage::s3
