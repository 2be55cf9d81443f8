// The XML documents of the S3 API, parsed with pugixml (which never throws) into plain structs,
// and the few request bodies S3 wants as XML. One page of a listing at a time: memory stays
// bounded by the page size (1,000 keys) whatever the bucket holds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "datacube/base/result.h"

namespace datacube::storage::s3 {

// <Error><Code/><Message/><RequestId/>... (also inside a 200 of CompleteMultipartUpload and
// CopyObject). Fields the server omits stay empty.
struct S3ErrorDocument {
  std::string code;
  std::string message;
  std::string request_id;
  std::string host_id;
  std::string bucket;
  std::string key;
  // Wrong-region hints: <Region> of AuthorizationHeaderMalformed, <Endpoint> of a 301.
  std::string region;
  std::string endpoint;
};
// nullopt when `xml` is not an <Error> document.
std::optional<S3ErrorDocument> ParseErrorDocument(std::string_view xml);

struct ListedObject {
  std::string key;
  uint64_t size = 0;
  std::string etag;  // without quotes
  std::optional<int64_t> last_modified_ns;
};

// One page of ListObjectsV2 (requested with encoding-type=url: keys and prefixes are decoded
// here, '+' included as a space, as AWS encodes it).
struct ListObjectsPage {
  std::vector<ListedObject> objects;
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  std::string next_continuation_token;
};
Result<ListObjectsPage> ParseListObjectsV2(std::string_view xml);

// <InitiateMultipartUploadResult><UploadId>.
Result<std::string> ParseInitiateMultipartUpload(std::string_view xml);

struct ListedPart {
  uint32_t number = 0;
  uint64_t size = 0;
  std::string etag;             // without quotes
  std::string checksum_sha256;  // base64, when the server keeps flexible checksums
};
struct ListPartsPage {
  std::vector<ListedPart> parts;
  bool truncated = false;
  std::string next_part_number_marker;
};
Result<ListPartsPage> ParseListParts(std::string_view xml);

struct ListedUpload {
  std::string key;
  std::string upload_id;
  std::optional<int64_t> initiated_ns;
};
struct ListUploadsPage {
  std::vector<ListedUpload> uploads;
  bool truncated = false;
  std::string next_key_marker;
  std::string next_upload_id_marker;
};
// ListMultipartUploads (requested with encoding-type=url).
Result<ListUploadsPage> ParseListMultipartUploads(std::string_view xml);

// <DeleteResult>: the keys that failed (quiet mode reports only failures).
struct DeleteFailure {
  std::string key;
  std::string code;
  std::string message;
};
Result<std::vector<DeleteFailure>> ParseDeleteResult(std::string_view xml);

// The ETag of <CompleteMultipartUploadResult>, <CopyObjectResult> or <CopyPartResult> (without
// quotes; may be empty: Ceph RGW 16 leaves it empty after CompleteMultipartUpload). An <Error>
// body is returned as kUnknown with the code in the message; callers check for it first.
Result<std::string> ParseResultEtag(std::string_view xml, std::string_view root);

struct CompletedPartXml {
  uint32_t number = 0;
  std::string etag;             // with or without quotes
  std::string checksum_sha256;  // base64; omitted when empty
};
// <CompleteMultipartUpload> with the parts in the given (ascending) order.
std::string BuildCompleteMultipartUploadXml(const std::vector<CompletedPartXml>& parts);
// <Delete><Quiet>true</Quiet><Object><Key>..</Key></Object>...</Delete>
std::string BuildDeleteXml(const std::vector<std::string>& keys);
// <CreateBucketConfiguration><LocationConstraint>region</...>; empty for us-east-1, where S3
// wants no body.
std::string BuildCreateBucketXml(std::string_view region);

// "2024-01-01T00:00:00.000Z" -> ns since the epoch.
std::optional<int64_t> ParseIso8601(std::string_view text);

}  // namespace datacube::storage::s3
