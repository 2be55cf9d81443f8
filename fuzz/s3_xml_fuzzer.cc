// The XML documents an S3 server sends: listings (objects, parts, multipart uploads), delete
// results, multipart and copy answers, and timestamps. The server is not trusted: whatever it
// answers must parse or fail with a Status, never crash, hang or allocate without bound.
#include <cstddef>
#include <cstdint>
#include <string>

#include "datacube/storage/s3/s3_xml.h"
#include "fuzz_input.h"

using namespace datacube;
using namespace datacube::storage::s3;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view xml = fuzz::AsText(data, size);
  if (auto page = ParseListObjectsV2(xml); page.ok()) {
    // A truncated page must say where to go on, or a listing would ask for the same page forever.
    fuzz::Check(!page->truncated || !page->next_continuation_token.empty(),
                "a truncated ListObjectsV2 page has a continuation token");
    for (const auto& object : page->objects) (void)object.key.size();
  }
  if (auto parts = ParseListParts(xml); parts.ok()) {
    for (const auto& part : parts->parts) (void)part.number;
  }
  (void)ParseListMultipartUploads(xml);
  (void)ParseDeleteResult(xml);
  (void)ParseInitiateMultipartUpload(xml);
  for (const char* root : {"CompleteMultipartUploadResult", "CopyObjectResult", "CopyPartResult"}) {
    (void)ParseResultEtag(xml, root);
  }
  (void)ParseErrorDocument(xml);
  (void)ParseIso8601(xml);
  return 0;
}
