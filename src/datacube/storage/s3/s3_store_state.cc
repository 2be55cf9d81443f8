#include "datacube/storage/s3/s3_store_state.h"

#include <algorithm>

#include "datacube/base/log.h"
#include "datacube/crypto/hmac.h"
#include "datacube/crypto/sha256.h"
#include "datacube/storage/s3/s3_metadata.h"
#include "datacube/storage/s3/s3_xml.h"
#include "datacube/storage/s3/validate.h"

namespace datacube::storage::s3 {
namespace {

// Discards a response body (used to read an error document through GET).
class DiscardSink final : public io::ByteSink {
 public:
  Status Write(std::span<const uint8_t>) override { return Status(); }
};

}  // namespace

std::string ContentMd5(std::span<const uint8_t> data) {
  return crypto::Base64Encode(
      crypto::Md5(std::string_view(reinterpret_cast<const char*>(data.data()), data.size())));
}

std::string Sha256HexOf(std::span<const uint8_t> data) {
  return crypto::HexEncode(
      crypto::Sha256Of(std::string_view(reinterpret_cast<const char*>(data.data()), data.size())));
}

std::string ResponseEtag(const http::HttpResponse& response) {
  std::string etag = response.Header("etag").value_or("");
  if (etag.size() >= 2 && etag.front() == '"') etag = etag.substr(1, etag.size() - 2);
  return etag;
}

// Content-MD5 is the fallback proof of the bytes where nothing else is verified. A signed
// request already carries the body's SHA-256 in x-amz-content-sha256, which SigV4 servers
// check against the bytes received (AWS, Ceph RGW, MinIO answer XAmzContentSHA256Mismatch),
// so MD5 is only added to unsigned uploads on servers without flexible checksums. Skipping it
// saves a third of the client CPU an upload costs.
bool S3StoreState::NeedMd5() const {
  return options().upload_checksum == UploadChecksum::kAuto && flexible.load() != kFlexYes &&
         options().credentials.anonymous();
}

void S3StoreState::NoteUploadResponse(const http::HttpResponse& r) {
  int seen = r.Header("x-amz-checksum-sha256") ? kFlexYes : kFlexNo;
  int expected = kFlexUnknown;
  if (flexible.compare_exchange_strong(expected, seen)) {
    LogDebug(std::string("server ") + (seen == kFlexYes ? "verifies" : "ignores") +
             " x-amz-checksum-sha256" + (seen == kFlexYes ? "" : "; adding Content-MD5"));
  }
}

S3Client::Call S3StoreState::MakeCall(std::string method, std::string key,
                                      std::string action) const {
  S3Client::Call c;
  c.request.method = std::move(method);
  c.request.bucket = bucket();
  c.request.key = std::move(key);
  c.action = std::move(action);
  return c;
}

Status S3StoreState::CheckKey(std::string_view key) const {
  Status s = ValidateObjectKey(key);
  return s.ok() ? s : s.WithContext(client.UrlFor(key));
}

Result<uint64_t> S3StoreState::PartSize(const std::string& key, uint32_t number) {
  S3Client::Call head = MakeCall("HEAD", key, "reading");
  head.request.query = {{"partNumber", std::to_string(number)}};
  DC_ASSIGN_OR_RETURN(http::HttpResponse resp, client.Send(head));
  http::HttpResponse plain = resp;
  plain.headers.erase(std::remove_if(plain.headers.begin(), plain.headers.end(),
                                     [](const auto& h) { return h.first == "content-range"; }),
                      plain.headers.end());
  auto info = ObjectInfoFromHeaders(key, plain);
  if (!info.ok())
    return info.status().WithContext("reading part " + std::to_string(number) + " of " +
                                     client.UrlFor(key));
  return info->size;
}

Status S3StoreState::LearnPartSizes(const std::string& key, ObjectInfo& info) {
  const bool any = std::any_of(info.digests.begin(), info.digests.end(),
                               [](const OfferedDigest& d) { return d.part_count > 0; });
  if (!any || !info.sha256.empty()) return Status();
  uint32_t count = 0;
  for (const auto& d : info.digests) count = std::max(count, d.part_count);
  uint64_t part_size = info.size;
  bool usable = true;
  if (count > 1) {
    DC_ASSIGN_OR_RETURN(uint64_t first, PartSize(key, 1));
    DC_ASSIGN_OR_RETURN(uint64_t last, PartSize(key, count));
    // Every client uploads equal parts but the last; anything else cannot be split here.
    usable = first > 0 && last > 0 && last <= first && first <= info.size &&
             (info.size - last) % first == 0 && (info.size - last) / first == count - 1;
    part_size = first;
  }
  for (auto it = info.digests.begin(); it != info.digests.end();) {
    if (it->part_count == 0) {
      ++it;
    } else if (usable && it->part_count == count) {
      it->part_size = part_size;
      ++it;
    } else {
      LogDebug("cannot check the composite " + it->origin + " of " + client.UrlFor(key) +
               ": its parts are not of equal size");
      it = info.digests.erase(it);
    }
  }
  return Status();
}

Result<ObjectInfo> S3StoreState::Head(const std::string& key) {
  S3Client::Call head = MakeCall("HEAD", key, "reading");
  head.request.headers.emplace_back("x-amz-checksum-mode", "ENABLED");
  // Refusals are looked at here: a HEAD error has no body to say why.
  head.ok_statuses = {400, 403};
  DC_ASSIGN_OR_RETURN(http::HttpResponse resp, client.Send(head));
  if (resp.ok()) {
    auto info = ObjectInfoFromHeaders(key, resp);
    if (!info.ok()) return info.status().WithContext("reading " + client.UrlFor(key));
    DC_RETURN_IF_ERROR(LearnPartSizes(key, *info));
    return info;
  }
  // A one-byte GET of the same key brings the server's reason (SignatureDoesNotMatch,
  // AccessDenied, ...) in its error document.
  S3Client::Call get = MakeCall("GET", key, "reading");
  get.request.headers.emplace_back("range", "bytes=0-0");
  DiscardSink discard;
  get.sink = &discard;
  auto probe = client.Send(get);
  if (!probe.ok()) return probe.status();
  return S3ResponseToStatus(resp, client.Context("reading", key));
}

Status S3StoreState::DeleteObject(const std::string& key) {
  S3Client::Call c = MakeCall("DELETE", key, "deleting");
  c.ok_codes = {"NoSuchKey"};  // deleting a missing object is fine (a missing bucket is not)
  return client.Send(c).status();
}

Status S3StoreState::EnsureBucket() {
  if (!options().check_bucket) return Status();
  if (bucket_ready.load()) return Status();
  std::lock_guard<std::mutex> lock(bucket_mu);
  if (bucket_ready.load()) return Status();
  auto head = client.Send(MakeCall("HEAD", "", "checking bucket"));
  if (head.ok() || head.status().code() == StatusCode::kPermissionDenied) {
    bucket_ready = true;
    return Status();
  }
  if (head.status().code() != StatusCode::kNotFound) return head.status();
  S3Client::Call create = MakeCall("PUT", "", "creating bucket");
  const S3Endpoint e = client.endpoint();
  // S3 wants the region as LocationConstraint except for us-east-1; GCS picks its own.
  const std::string body = e.region == kGcsRegion ? std::string() : BuildCreateBucketXml(e.region);
  if (!body.empty()) {
    create.request.payload_sha256 = crypto::Sha256Hex(body);
    create.request.content_length = body.size();
    create.body = io::AsBytes(body);
  }
  create.ok_codes = {"BucketAlreadyOwnedByYou"};
  auto made = client.Send(create);
  if (!made.ok()) {
    return Status(made.status().code(),
                  std::string(made.status().message()) +
                      "; pass --s3-no-check-bucket (option s3-no-check-bucket) to write without "
                      "checking or creating the bucket");
  }
  LogInfo("created bucket " + client.Context("", "").url);
  bucket_ready = true;
  return Status();
}

}  // namespace datacube::storage::s3
