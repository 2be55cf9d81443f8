#include "datacube/storage/s3/s3_multipart.h"

#include <algorithm>

#include "datacube/base/log.h"
#include "datacube/crypto/sha256.h"
#include "datacube/storage/s3/s3_metadata.h"
#include "datacube/storage/s3/s3_resume.h"
#include "datacube/storage/s3/s3_store.h"
#include "datacube/storage/s3/s3_xml.h"

namespace datacube::storage::s3 {
namespace {

class S3Upload final : public MultipartUpload {
 public:
  S3Upload(std::shared_ptr<S3StoreState> state, std::string key, std::string upload_id,
           UploadMetadata metadata, std::vector<PartInfo> resumed, std::string resume_tag)
      : state_(std::move(state)),
        key_(std::move(key)),
        id_(std::move(upload_id)),
        metadata_(std::move(metadata)),
        resumed_(std::move(resumed)),
        resume_tag_(std::move(resume_tag)),
        was_resumed_(!resumed_.empty()) {}

  const std::string& id() const override { return id_; }
  std::vector<PartInfo> completed_parts() const override { return resumed_; }

  Result<PartInfo> UploadPart(uint32_t number, uint64_t offset,
                              std::span<const uint8_t> data) override;
  Result<ObjectInfo> Complete(const std::vector<PartInfo>& unsorted,
                              const std::string& sha256) override;
  Status Abort() override;

 private:
  // CompleteMultipartUpload of `parts` (sorted), which add up to `total` bytes.
  Status SendComplete(const std::vector<PartInfo>& parts, uint64_t total,
                      const std::string& sha256);
  // The completed object must hold the parts of this source: its size, its SHA-256 and, when
  // resumed, the resume tag set at creation.
  Status CheckCompleted(const ObjectInfo& info, uint64_t total, const std::string& sha256);
  // Records the SHA-256 learnt during the upload on the object.
  Status RecordSha256(const std::string& sha256);

  const std::shared_ptr<S3StoreState> state_;
  const std::string key_;
  const std::string id_;
  UploadMetadata metadata_;
  const std::vector<PartInfo> resumed_;
  const std::string resume_tag_;
  const bool was_resumed_;
};

Result<PartInfo> S3Upload::UploadPart(uint32_t number, uint64_t offset,
                                      std::span<const uint8_t> data) {
  if (number < 1 || number > kMaxPartCount) {
    return InvalidArgumentError("part number " + std::to_string(number) + " of " +
                                state_->client.UrlFor(key_) + " is outside 1.." +
                                std::to_string(kMaxPartCount));
  }
  PartInfo part{number, offset, data.size(), "", Sha256HexOf(data)};
  S3Client::Call c =
      state_->MakeCall("PUT", key_, "writing part " + std::to_string(number) + " of");
  c.request.query = {{"partNumber", std::to_string(number)}, {"uploadId", id_}};
  c.request.headers.emplace_back("x-amz-checksum-sha256", Sha256HexToBase64(part.sha256));
  if (state_->NeedMd5()) c.request.headers.emplace_back("content-md5", ContentMd5(data));
  c.request.payload_sha256 = part.sha256;
  c.request.content_length = data.size();
  c.body = data;
  c.retry = false;  // the engine retries parts
  DC_ASSIGN_OR_RETURN(http::HttpResponse resp, state_->client.Send(c));
  state_->NoteUploadResponse(resp);
  part.etag = ResponseEtag(resp);
  return part;
}

Result<ObjectInfo> S3Upload::Complete(const std::vector<PartInfo>& unsorted,
                                      const std::string& sha256) {
  std::vector<PartInfo> parts = unsorted;
  std::sort(parts.begin(), parts.end(),
            [](const PartInfo& a, const PartInfo& b) { return a.number < b.number; });
  uint64_t total = 0;
  for (const auto& p : parts) total += p.size;
  DC_RETURN_IF_ERROR(SendComplete(parts, total, sha256));

  DC_ASSIGN_OR_RETURN(ObjectInfo info, state_->Head(key_));
  DC_RETURN_IF_ERROR(CheckCompleted(info, total, sha256));
  // The SHA-256 was not known when the upload started; it is recorded now, where a server-side
  // copy can do it.
  if (info.sha256.empty() && crypto::IsSha256Hex(sha256) && info.size <= kMaxCopyObjectSize) {
    DC_RETURN_IF_ERROR(RecordSha256(sha256));
    info.sha256 = sha256;
    info.metadata[kMetaSha256] = sha256;
  }
  return info;
}

Status S3Upload::SendComplete(const std::vector<PartInfo>& parts, uint64_t total,
                              const std::string& sha256) {
  std::vector<CompletedPartXml> xml_parts;
  const bool flexible = state_->flexible.load() == kFlexYes;
  for (const auto& p : parts) {
    xml_parts.push_back({p.number, p.etag, flexible ? Sha256HexToBase64(p.sha256) : ""});
  }
  const std::string body = BuildCompleteMultipartUploadXml(xml_parts);
  S3Client::Call c = state_->MakeCall("POST", key_, "completing the upload of");
  c.request.query = {{"uploadId", id_}};
  c.request.headers.emplace_back("content-type", "application/xml");
  c.request.payload_sha256 = crypto::Sha256Hex(body);
  c.request.content_length = body.size();
  c.body = io::AsBytes(body);
  c.error_in_2xx = true;
  // Not idempotent: the engine's retry of a Complete that did succeed finds NoSuchUpload, and
  // the object itself tells whether it is ours.
  c.retry = false;
  auto resp = state_->client.Send(c);
  if (!resp.ok() && resp.status().code() == StatusCode::kNotFound) {
    auto existing = state_->Head(key_);
    if (existing.ok() && existing->size == total &&
        (sha256.empty() || existing->sha256 == sha256)) {
      LogDebug("upload " + id_ + " was already completed by an earlier attempt");
      return Status();
    }
  }
  return resp.status();
}

Status S3Upload::CheckCompleted(const ObjectInfo& info, uint64_t total, const std::string& sha256) {
  if (info.size != total) {
    return DataLossError("completing " + state_->client.UrlFor(key_) + ": the object has " +
                         std::to_string(info.size) + " bytes, the parts add up to " +
                         std::to_string(total));
  }
  auto tag = info.metadata.find(kMetaResume);
  const std::string& recorded_tag = tag == info.metadata.end() ? std::string() : tag->second;
  const bool foreign_parts = was_resumed_ && recorded_tag != resume_tag_;
  const bool wrong_sha = !sha256.empty() && !info.sha256.empty() && info.sha256 != sha256;
  if (foreign_parts || wrong_sha) {
    // The resumed upload held parts of another source version: drop the object and let the
    // engine upload afresh.
    state_->DeleteObject(key_).IgnoreError();
    return DataLossError("completing " + state_->client.UrlFor(key_) +
                         ": the resumed upload held parts of a different source; it was "
                         "removed and the file will be uploaded again");
  }
  return Status();
}

// Metadata can only be replaced by a copy of the object onto itself.
Status S3Upload::RecordSha256(const std::string& sha256) {
  metadata_.meta[kMetaSha256] = sha256;
  S3Client::Call copy = state_->MakeCall("PUT", key_, "recording the SHA-256 of");
  copy.request.headers.emplace_back("x-amz-copy-source",
                                    "/" + state_->bucket() + "/" + UriEncode(key_, true));
  copy.request.headers.emplace_back("x-amz-metadata-directive", "REPLACE");
  AddMetadataHeaders(metadata_, copy.request.headers);
  copy.error_in_2xx = true;
  return state_->client.Send(copy).status();
}

Status S3Upload::Abort() {
  S3Client::Call c = state_->MakeCall("DELETE", key_, "aborting the upload of");
  c.request.query = {{"uploadId", id_}};
  c.ok_codes = {"NoSuchUpload"};
  return state_->client.Send(c).status();
}

// CreateMultipartUpload of `key` with `meta` on the object once it is complete.
Result<std::unique_ptr<MultipartUpload>> CreateUpload(std::shared_ptr<S3StoreState> state,
                                                      const std::string& key, UploadMetadata meta,
                                                      const std::string& resume_tag) {
  S3Client::Call c = state->MakeCall("POST", key, "starting an upload of");
  c.request.query = {{"uploads", ""}};
  AddMetadataHeaders(meta, c.request.headers);
  // Servers with flexible checksums then keep each part's SHA-256 (and ListParts shows it).
  c.request.headers.emplace_back("x-amz-checksum-algorithm", "SHA256");
  DC_ASSIGN_OR_RETURN(http::HttpResponse resp, state->client.Send(c));
  auto id = ParseInitiateMultipartUpload(resp.body);
  if (!id.ok())
    return id.status().WithContext("starting an upload of " + state->client.UrlFor(key));
  return std::unique_ptr<MultipartUpload>(std::make_unique<S3Upload>(
      std::move(state), key, *id, std::move(meta), std::vector<PartInfo>{}, resume_tag));
}

}  // namespace

UploadMetadata MetadataFor(const WriteOptions& o) {
  UploadMetadata m;
  m.content_type = o.content_type;
  m.meta = o.metadata;
  if (crypto::IsSha256Hex(o.sha256)) m.meta[kMetaSha256] = o.sha256;
  if (o.mtime_ns) m.meta[kMetaMtime] = FormatMtime(*o.mtime_ns);
  return m;
}

void AddMetadataHeaders(const UploadMetadata& m, http::Headers& headers) {
  headers.emplace_back("content-type",
                       m.content_type.empty() ? "application/octet-stream" : m.content_type);
  for (const auto& [k, v] : m.meta) headers.emplace_back(std::string(kMetaHeaderPrefix) + k, v);
}

Result<std::unique_ptr<MultipartUpload>> StartS3Multipart(std::shared_ptr<S3StoreState> state,
                                                          const std::string& key,
                                                          const MultipartOptions& options) {
  UploadMetadata meta = MetadataFor(options);
  std::string tag;
  if (!options.resume_fingerprint.empty()) {
    tag = ResumeTag(options);
    meta.meta[kMetaResume] = tag;
    DC_ASSIGN_OR_RETURN(std::optional<ResumableUpload> found,
                        FindResumableUpload(*state, key, options));
    if (found) {
      LogDebug("resuming multipart upload " + found->upload_id + " of " +
               state->client.UrlFor(key) + " (" + std::to_string(found->parts.size()) +
               " parts done)");
      return std::unique_ptr<MultipartUpload>(std::make_unique<S3Upload>(
          std::move(state), key, found->upload_id, std::move(meta), std::move(found->parts), tag));
    }
  }
  return CreateUpload(std::move(state), key, std::move(meta), tag);
}

}  // namespace datacube::storage::s3
