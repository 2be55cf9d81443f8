#include "datacube/storage/s3/s3_copy.h"

#include <algorithm>

#include "datacube/storage/s3/s3_metadata.h"
#include "datacube/storage/s3/s3_multipart.h"
#include "datacube/storage/s3/s3_store.h"
#include "datacube/storage/s3/s3_xml.h"

namespace datacube::storage::s3 {
namespace {

// Part size of server-side copies above kMaxCopyObjectSize (UploadPartCopy): large, because no
// bytes pass through us, and 10,000 of them cover 10 TiB.
constexpr uint64_t kCopyPartSize = 1ull << 30;

// What a copy request says about its source.
struct CopySource {
  std::string header;  // x-amz-copy-source: "/bucket/key"
  std::string url;     // for messages
};

// One CopyObject, the metadata copied with the bytes.
Status CopyObject(S3StoreState& dst, const std::string& dst_key, const CopySource& source) {
  S3Client::Call c = dst.MakeCall("PUT", dst_key, "copying " + source.url + " to");
  c.request.headers.emplace_back("x-amz-copy-source", source.header);
  c.request.headers.emplace_back("x-amz-metadata-directive", "COPY");
  c.error_in_2xx = true;
  return dst.client.Send(c).status();
}

// UploadPartCopy of bytes [offset, last] of the source as part `number` of `upload`.
Result<PartInfo> CopyPart(S3StoreState& dst, const std::string& dst_key, const CopySource& source,
                          const MultipartUpload& upload, uint64_t number, uint64_t offset,
                          uint64_t last) {
  S3Client::Call c = dst.MakeCall("PUT", dst_key, "copying " + source.url + " to");
  c.request.query = {{"partNumber", std::to_string(number)}, {"uploadId", upload.id()}};
  c.request.headers.emplace_back("x-amz-copy-source", source.header);
  c.request.headers.emplace_back("x-amz-copy-source-range",
                                 "bytes=" + std::to_string(offset) + "-" + std::to_string(last));
  c.error_in_2xx = true;
  DC_ASSIGN_OR_RETURN(http::HttpResponse resp, dst.client.Send(c));
  DC_ASSIGN_OR_RETURN(std::string etag, ParseResultEtag(resp.body, "CopyPartResult"));
  return PartInfo{static_cast<uint32_t>(number), offset, last - offset + 1, etag, ""};
}

// A multipart upload of copied parts, aborted when any of them (or the Complete) fails.
Status CopyInParts(const std::shared_ptr<S3StoreState>& dst, const std::string& dst_key,
                   const ObjectInfo& info, const CopySource& source) {
  uint64_t part = std::max(kCopyPartSize, (info.size + kMaxPartCount - 1) / kMaxPartCount);
  part = std::min(part, kMaxPartSize);
  MultipartOptions mo;
  mo.size = info.size;
  mo.part_size = part;
  mo.metadata = info.metadata;
  mo.metadata.erase(kMetaResume);
  DC_ASSIGN_OR_RETURN(auto upload, StartS3Multipart(dst, dst_key, mo));
  std::vector<PartInfo> parts;
  Status s;
  for (uint64_t offset = 0, n = 1; offset < info.size; offset += part, ++n) {
    const uint64_t last = std::min(info.size, offset + part) - 1;
    auto copied = CopyPart(*dst, dst_key, source, *upload, n, offset, last);
    if (!copied.ok()) {
      s = copied.status();
      break;
    }
    parts.push_back(std::move(*copied));
  }
  if (s.ok()) s = upload->Complete(parts, info.sha256).status();
  if (!s.ok()) upload->Abort().IgnoreError();
  return s;
}

}  // namespace

bool CanCopyServerSide(const S3StoreState& dst, const S3StoreState& src) {
  const S3Endpoint a = dst.client.endpoint(), b = src.client.endpoint();
  const auto& ca = dst.options().credentials;
  const auto& cb = src.options().credentials;
  return a.scheme == b.scheme && a.host == b.host && a.port == b.port && !ca.anonymous() &&
         ca.access_key_id == cb.access_key_id;
}

Result<ObjectInfo> CopyServerSide(S3StoreState& src, std::string_view src_view,
                                  const std::shared_ptr<S3StoreState>& dst,
                                  std::string_view dst_view) {
  DC_RETURN_IF_ERROR(src.CheckKey(src_view));
  DC_RETURN_IF_ERROR(dst->CheckKey(dst_view));
  DC_RETURN_IF_ERROR(dst->EnsureBucket());
  const std::string src_key(src_view), dst_key(dst_view);
  DC_ASSIGN_OR_RETURN(ObjectInfo info, src.Head(src_key));
  const CopySource source{"/" + src.bucket() + "/" + UriEncode(src_key, true),
                          src.client.UrlFor(src_key)};
  if (info.size <= kMaxCopyObjectSize) {
    DC_RETURN_IF_ERROR(CopyObject(*dst, dst_key, source));
  } else {
    DC_RETURN_IF_ERROR(CopyInParts(dst, dst_key, info, source));
  }
  return dst->Head(dst_key);
}

}  // namespace datacube::storage::s3
