// The S3 ObjectStore: the glue between the ObjectStore contract and the pieces beside it
// (s3_client for sending, s3_request_builder and sigv4_signer for signing, s3_xml for bodies,
// s3_errors for failures, s3_metadata for what we keep on objects).
#include "datacube/storage/s3/s3_store.h"

#include <algorithm>
#include <atomic>

#include "datacube/base/log.h"
#include "datacube/crypto/hmac.h"
#include "datacube/crypto/sha256.h"
#include "datacube/storage/s3/s3_client.h"
#include "datacube/storage/s3/s3_listing.h"
#include "datacube/storage/s3/s3_metadata.h"
#include "datacube/storage/s3/s3_xml.h"
#include "datacube/storage/s3/validate.h"

namespace datacube::storage::s3 {
namespace {

// Put buffers a body whose checksums must be known before it is sent. The engine hands Put
// only objects of up to one part, so the buffer stays small; one that grew larger than this is
// released after use instead of being kept per thread.
constexpr size_t kKeepPutBuffer = 64ull << 20;
// Part size of server-side copies above kMaxCopyObjectSize (UploadPartCopy): large, because no
// bytes pass through us, and 10,000 of them cover 10 TiB.
constexpr uint64_t kCopyPartSize = 1ull << 30;
// ListParts and ListMultipartUploads return at most 1,000 entries per page.
constexpr int kMaxListEntries = 1'000;

// Whether the server verifies flexible checksums (x-amz-checksum-sha256); learnt from the first
// upload's response, which echoes the header when it does.
enum FlexibleChecksums : int { kFlexUnknown = 0, kFlexYes = 1, kFlexNo = 2 };

std::string Quote(const std::string& etag) { return "\"" + etag + "\""; }

std::string ContentMd5(std::span<const uint8_t> data) {
  return crypto::Base64Encode(
      crypto::Md5(std::string_view(reinterpret_cast<const char*>(data.data()), data.size())));
}

std::string Sha256HexOf(std::span<const uint8_t> data) {
  return crypto::HexEncode(
      crypto::Sha256Of(std::string_view(reinterpret_cast<const char*>(data.data()), data.size())));
}

// Discards a response body (used to read an error document through GET).
class DiscardSink final : public io::ByteSink {
 public:
  Status Write(std::span<const uint8_t>) override { return Status(); }
};

// Passes bytes on, refusing more than the range asked for, and hashes them when the read
// starts at offset 0 (so a whole-object read can be checked against x-amz-meta-sha256).
class ReadSink final : public io::ByteSink {
 public:
  ReadSink(io::ByteSink& inner, uint64_t limit, bool hash)
      : inner_(inner), limit_(limit), hash_(hash) {}
  Status Write(std::span<const uint8_t> data) override {
    if (data.size() > limit_ - received_) {
      return OutOfRangeError("the server sent more bytes than the range asked for");
    }
    received_ += data.size();
    if (hash_) hasher_.Update(data);
    return inner_.Write(data);
  }
  uint64_t received() const { return received_; }
  std::string Digest() { return hasher_.FinishHex(); }

 private:
  io::ByteSink& inner_;
  const uint64_t limit_;
  const bool hash_;
  uint64_t received_ = 0;
  crypto::Sha256 hasher_;
};

// State shared by the store and its multipart uploads (which may outlive a Stat or List call
// but never the transfer that holds the store).
struct Shared {
  explicit Shared(S3StoreOptions options) : client(std::move(options)) {}

  S3Client client;
  std::atomic<int> flexible{kFlexUnknown};
  std::mutex bucket_mu;  // serialises the one bucket check
  // Set once the bucket is known to be usable; read without the lock on every write.
  std::atomic<bool> bucket_ready{false};

  const S3StoreOptions& options() const { return client.options(); }
  const std::string& bucket() const { return client.options().bucket; }

  // Content-MD5 is the fallback proof of the bytes where nothing else is verified. A signed
  // request already carries the body's SHA-256 in x-amz-content-sha256, which SigV4 servers
  // check against the bytes received (AWS, Ceph RGW, MinIO answer XAmzContentSHA256Mismatch),
  // so MD5 is only added to unsigned uploads on servers without flexible checksums. Skipping it
  // saves a third of the client CPU an upload costs.
  bool NeedMd5() const {
    return options().upload_checksum == UploadChecksum::kAuto && flexible.load() != kFlexYes &&
           options().credentials.anonymous();
  }
  void NoteUploadResponse(const http::HttpResponse& r) {
    int seen = r.Header("x-amz-checksum-sha256") ? kFlexYes : kFlexNo;
    int expected = kFlexUnknown;
    if (flexible.compare_exchange_strong(expected, seen)) {
      LogDebug(std::string("server ") + (seen == kFlexYes ? "verifies" : "ignores") +
               " x-amz-checksum-sha256" + (seen == kFlexYes ? "" : "; adding Content-MD5"));
    }
  }

  S3Client::Call MakeCall(std::string method, std::string key, std::string action) const {
    S3Client::Call c;
    c.request.method = std::move(method);
    c.request.bucket = bucket();
    c.request.key = std::move(key);
    c.action = std::move(action);
    return c;
  }

  Result<ObjectInfo> Head(const std::string& key);
  Status DeleteObject(const std::string& key);
  // Composite checksums cover parts: learns their size (HEAD ?partNumber= of the first and the
  // last part) where no SHA-256 makes them unnecessary, and drops what cannot be checked.
  Status LearnPartSizes(const std::string& key, ObjectInfo& info);
  Result<uint64_t> PartSize(const std::string& key, uint32_t number);
};

Result<uint64_t> Shared::PartSize(const std::string& key, uint32_t number) {
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

Status Shared::LearnPartSizes(const std::string& key, ObjectInfo& info) {
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

Result<ObjectInfo> Shared::Head(const std::string& key) {
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

Status Shared::DeleteObject(const std::string& key) {
  S3Client::Call c = MakeCall("DELETE", key, "deleting");
  c.ok_codes = {"NoSuchKey"};  // deleting a missing object is fine (a missing bucket is not)
  return client.Send(c).status();
}

// What StartMultipart wants recorded on the object when it becomes visible.
struct UploadMetadata {
  std::string content_type;
  std::map<std::string, std::string> meta;  // x-amz-meta-* without the prefix
};

void AddMetadataHeaders(const UploadMetadata& m, http::Headers& headers) {
  headers.emplace_back("content-type",
                       m.content_type.empty() ? "application/octet-stream" : m.content_type);
  for (const auto& [k, v] : m.meta) headers.emplace_back(std::string(kMetaHeaderPrefix) + k, v);
}

UploadMetadata MetadataFor(const WriteOptions& o) {
  UploadMetadata m;
  m.content_type = o.content_type;
  m.meta = o.metadata;
  if (crypto::IsSha256Hex(o.sha256)) m.meta[kMetaSha256] = o.sha256;
  if (o.mtime_ns) m.meta[kMetaMtime] = FormatMtime(*o.mtime_ns);
  return m;
}

class S3Upload final : public MultipartUpload {
 public:
  S3Upload(std::shared_ptr<Shared> shared, std::string key, std::string upload_id,
           UploadMetadata metadata, std::vector<PartInfo> resumed, std::string resume_tag)
      : shared_(std::move(shared)),
        key_(std::move(key)),
        id_(std::move(upload_id)),
        metadata_(std::move(metadata)),
        resumed_(std::move(resumed)),
        resume_tag_(std::move(resume_tag)),
        was_resumed_(!resumed_.empty()) {}

  const std::string& id() const override { return id_; }
  std::vector<PartInfo> completed_parts() const override { return resumed_; }

  Result<PartInfo> UploadPart(uint32_t number, uint64_t offset,
                              std::span<const uint8_t> data) override {
    if (number < 1 || number > kMaxPartCount) {
      return InvalidArgumentError("part number " + std::to_string(number) + " of " +
                                  shared_->client.UrlFor(key_) + " is outside 1.." +
                                  std::to_string(kMaxPartCount));
    }
    PartInfo part{number, offset, data.size(), "", Sha256HexOf(data)};
    S3Client::Call c =
        shared_->MakeCall("PUT", key_, "writing part " + std::to_string(number) + " of");
    c.request.query = {{"partNumber", std::to_string(number)}, {"uploadId", id_}};
    c.request.headers.emplace_back("x-amz-checksum-sha256", Sha256HexToBase64(part.sha256));
    if (shared_->NeedMd5()) c.request.headers.emplace_back("content-md5", ContentMd5(data));
    c.request.payload_sha256 = part.sha256;
    c.request.content_length = data.size();
    c.body = data;
    c.retry = false;  // the engine retries parts
    DC_ASSIGN_OR_RETURN(http::HttpResponse resp, shared_->client.Send(c));
    shared_->NoteUploadResponse(resp);
    part.etag = resp.Header("etag").value_or("");
    if (part.etag.size() >= 2 && part.etag.front() == '"') {
      part.etag = part.etag.substr(1, part.etag.size() - 2);
    }
    return part;
  }

  Result<ObjectInfo> Complete(const std::vector<PartInfo>& unsorted,
                              const std::string& sha256) override {
    std::vector<PartInfo> parts = unsorted;
    std::sort(parts.begin(), parts.end(),
              [](const PartInfo& a, const PartInfo& b) { return a.number < b.number; });
    uint64_t total = 0;
    std::vector<CompletedPartXml> xml_parts;
    const bool flexible = shared_->flexible.load() == kFlexYes;
    for (const auto& p : parts) {
      total += p.size;
      xml_parts.push_back({p.number, p.etag, flexible ? Sha256HexToBase64(p.sha256) : ""});
    }
    const std::string body = BuildCompleteMultipartUploadXml(xml_parts);
    S3Client::Call c = shared_->MakeCall("POST", key_, "completing the upload of");
    c.request.query = {{"uploadId", id_}};
    c.request.headers.emplace_back("content-type", "application/xml");
    c.request.payload_sha256 = crypto::Sha256Hex(body);
    c.request.content_length = body.size();
    c.body = io::AsBytes(body);
    c.error_in_2xx = true;
    // Not idempotent: the engine's retry of a Complete that did succeed finds NoSuchUpload, and
    // the object itself tells whether it is ours.
    c.retry = false;
    auto resp = shared_->client.Send(c);
    if (!resp.ok() && resp.status().code() == StatusCode::kNotFound) {
      auto existing = shared_->Head(key_);
      if (existing.ok() && existing->size == total &&
          (sha256.empty() || existing->sha256 == sha256)) {
        LogDebug("upload " + id_ + " was already completed by an earlier attempt");
        resp = http::HttpResponse();
      }
    }
    if (!resp.ok()) return resp.status();

    DC_ASSIGN_OR_RETURN(ObjectInfo info, shared_->Head(key_));
    if (info.size != total) {
      return DataLossError("completing " + shared_->client.UrlFor(key_) + ": the object has " +
                           std::to_string(info.size) + " bytes, the parts add up to " +
                           std::to_string(total));
    }
    const bool foreign_parts = was_resumed_ && info.metadata[kMetaResume] != resume_tag_;
    const bool wrong_sha = !sha256.empty() && !info.sha256.empty() && info.sha256 != sha256;
    if (foreign_parts || wrong_sha) {
      // The resumed upload held parts of another source version: drop the object and let the
      // engine upload afresh.
      shared_->DeleteObject(key_).IgnoreError();
      return DataLossError("completing " + shared_->client.UrlFor(key_) +
                           ": the resumed upload held parts of a different source; it was "
                           "removed and the file will be uploaded again");
    }
    if (info.sha256.empty() && crypto::IsSha256Hex(sha256)) {
      // The SHA-256 was not known when the upload started; record it now with a server-side
      // copy onto itself (metadata can only be replaced that way).
      if (info.size <= kMaxCopyObjectSize) {
        metadata_.meta[kMetaSha256] = sha256;
        S3Client::Call copy = shared_->MakeCall("PUT", key_, "recording the SHA-256 of");
        copy.request.headers.emplace_back("x-amz-copy-source",
                                          "/" + shared_->bucket() + "/" + UriEncode(key_, true));
        copy.request.headers.emplace_back("x-amz-metadata-directive", "REPLACE");
        AddMetadataHeaders(metadata_, copy.request.headers);
        copy.error_in_2xx = true;
        DC_ASSIGN_OR_RETURN(http::HttpResponse ignored, shared_->client.Send(copy));
        (void)ignored;
        info.sha256 = sha256;
        info.metadata[kMetaSha256] = sha256;
      }
    }
    return info;
  }

  Status Abort() override {
    S3Client::Call c = shared_->MakeCall("DELETE", key_, "aborting the upload of");
    c.request.query = {{"uploadId", id_}};
    c.ok_codes = {"NoSuchUpload"};
    return shared_->client.Send(c).status();
  }

 private:
  const std::shared_ptr<Shared> shared_;
  const std::string key_;
  const std::string id_;
  UploadMetadata metadata_;
  const std::vector<PartInfo> resumed_;
  const std::string resume_tag_;
  const bool was_resumed_;
};

class S3Store final : public ObjectStore {
 public:
  explicit S3Store(S3StoreOptions options)
      : shared_(std::make_shared<Shared>(std::move(options))) {}

  Capabilities capabilities() const override {
    Capabilities c;
    c.multipart = true;
    c.resumable_multipart = true;
    c.min_part_size = kMinPartSize;
    c.max_part_size = kMaxPartSize;
    c.max_part_count = kMaxPartCount;
    c.server_side_copy = true;
    c.presign = !shared_->options().credentials.anonymous();
    c.conditional_write = true;  // If-None-Match: * (AWS, Ceph RGW, MinIO)
    c.stores_sha256 = true;
    c.wants_sha256_before_write = true;
    c.preserves_mtime = true;
    c.list_has_metadata = false;  // ListObjectsV2 shows LastModified, not x-amz-meta-*
    c.remote = true;
    return c;
  }

  std::string UrlFor(std::string_view key) const override { return shared_->client.UrlFor(key); }

  Result<ObjectInfo> Stat(std::string_view key) override {
    DC_RETURN_IF_ERROR(CheckKey(key));
    return shared_->Head(std::string(key));
  }

  Result<ListPage> List(const ListRequest& request) override {
    S3Client::Call c = shared_->MakeCall("GET", "", "listing");
    size_t max_keys =
        request.max_keys == 0 ? kMaxKeysPerList : std::min(request.max_keys, kMaxKeysPerList);
    c.request.query = {
        {"list-type", "2"}, {"encoding-type", "url"}, {"max-keys", std::to_string(max_keys)}};
    if (!request.prefix.empty()) c.request.query.emplace_back("prefix", request.prefix);
    if (!request.recursive) c.request.query.emplace_back("delimiter", "/");
    ListCursor cursor = DecodeListCursor(request.page_token);
    if (!cursor.server_token.empty()) {
      c.request.query.emplace_back("continuation-token", cursor.server_token);
    }
    auto resp = shared_->client.Send(c);
    if (!resp.ok()) return resp.status();
    // A listing the server got wrong is no checksum mismatch and no reason to retry.
    auto malformed = [&](const Status& s) {
      return MalformedResponseError("malformed listing from " + UrlFor(request.prefix) + ": " +
                                    std::string(s.message()));
    };
    auto parsed = ParseListObjectsV2(resp->body);
    if (!parsed.ok()) return malformed(parsed.status());
    ListCheck check{request.prefix, request.recursive, !IsDirectoryBucket(shared_->bucket())};
    Status checked = CheckListPage(check, *parsed, cursor);
    if (!checked.ok()) return malformed(checked);
    ListPage page;
    page.objects.reserve(parsed->objects.size());
    for (auto& o : parsed->objects) {
      ObjectInfo info;
      info.key = std::move(o.key);
      info.size = o.size;
      info.etag = std::move(o.etag);
      info.mtime_ns = o.last_modified_ns;
      page.objects.push_back(std::move(info));
    }
    page.common_prefixes = std::move(parsed->common_prefixes);
    if (parsed->truncated) page.next_page_token = EncodeListCursor(cursor);
    return page;
  }

  Status Read(std::string_view key_view, ByteRange range, io::ByteSink& sink,
              const ReadOptions& options) override {
    DC_RETURN_IF_ERROR(CheckKey(key_view));
    if (range.length == 0) return Status();
    const std::string key(key_view);
    S3Client::Call c = shared_->MakeCall("GET", key, "reading");
    const bool ranged = !range.is_all();
    if (ranged) {
      std::string spec = "bytes=" + std::to_string(range.offset) + "-";
      if (range.length != ByteRange::kToEnd && range.length <= UINT64_MAX - range.offset) {
        spec += std::to_string(range.offset + range.length - 1);
      }
      c.request.headers.emplace_back("range", spec);
    }
    if (!options.if_match.empty())
      c.request.headers.emplace_back("if-match", Quote(options.if_match));
    // A read from the start may be the whole object: have the server send its checksums.
    if (range.offset == 0) c.request.headers.emplace_back("x-amz-checksum-mode", "ENABLED");
    ReadSink guarded(sink, range.length, range.offset == 0);
    c.sink = &guarded;
    c.ok_statuses = {416};
    DC_ASSIGN_OR_RETURN(http::HttpResponse resp, shared_->client.Send(c));
    if (resp.status == 416) {
      // Content-Range "bytes */SIZE" says how large the object is: a read that starts exactly
      // at its end (an empty object read from 0) returns nothing, as the contract says.
      auto at = ObjectInfoFromHeaders(key, resp);
      if (at.ok() && resp.Header("content-range") && range.offset == at->size) return Status();
      return S3ResponseToStatus(resp, shared_->client.Context("reading", key));
    }
    if (ranged && resp.status == 200 && range.offset > 0) {
      return FailedPreconditionError("reading " + UrlFor(key) +
                                     ": the server ignored the Range "
                                     "header and sent the whole object");
    }
    // A read of the whole object is checked against the SHA-256 recorded at upload.
    auto headers = ObjectInfoFromHeaders(key, resp);
    if (!headers.ok()) return headers.status().WithContext("reading " + UrlFor(key));
    ObjectInfo& info = *headers;
    const bool whole = range.offset == 0 && guarded.received() == info.size;
    if (!whole) return Status();
    std::string got = guarded.Digest();
    if (!info.sha256.empty() && got != info.sha256) {
      return DataLossError("reading " + UrlFor(key) + ": the bytes received hash to SHA-256 " +
                           got + " but the object records " + info.sha256 +
                           " (corrupted on the way); it will be fetched again");
    }
    if (options.offered) {
      // The other digests are the caller's to check: it holds the bytes.
      DC_RETURN_IF_ERROR(shared_->LearnPartSizes(key, info));
      *options.offered = std::move(info.digests);
      if (!info.sha256.empty()) {
        std::string raw;
        crypto::HexDecode(info.sha256, &raw);
        options.offered->push_back(
            {"sha256", raw,
             info.metadata.count(kMetaSha256) ? "x-amz-meta-sha256" : "x-amz-checksum-sha256", 0,
             0});
      }
    }
    if (options.whole_sha256) *options.whole_sha256 = std::move(got);
    return Status();
  }

  Result<ObjectInfo> Put(std::string_view key_view, io::ByteSource& data,
                         const WriteOptions& options) override {
    DC_RETURN_IF_ERROR(CheckKey(key_view));
    DC_RETURN_IF_ERROR(EnsureBucket());
    const std::string key(key_view);
    if (options.size && *options.size > kMaxSinglePutSize) {
      return InvalidArgumentError("writing " + UrlFor(key) +
                                  ": one PUT holds at most 5 GiB; "
                                  "larger objects are written as multipart uploads");
    }
    const bool signed_request = !shared_->options().credentials.anonymous();
    const bool need_md5 = shared_->NeedMd5();
    const bool stream = options.size && crypto::IsSha256Hex(options.sha256) && !need_md5;

    S3Client::Call c = shared_->MakeCall("PUT", key, "writing");
    UploadMetadata meta = MetadataFor(options);
    std::string sha256 = options.sha256;
    for (auto& ch : sha256) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    std::string& buffer = PutBuffer();
    if (stream) {
      c.stream = &data;
      c.request.content_length = *options.size;
    } else {
      DC_RETURN_IF_ERROR(ReadAll(data, options.size, buffer).WithContext("writing " + UrlFor(key)));
      std::span<const uint8_t> bytes = io::AsBytes(buffer);
      // A SHA-256 given by the caller is not recomputed: it is the signed payload hash, which
      // the server checks against the bytes it receives.
      if (!crypto::IsSha256Hex(sha256)) {
        sha256 = Sha256HexOf(bytes);
      } else if (!signed_request) {
        std::string actual = Sha256HexOf(bytes);
        if (actual != sha256) {
          ReleaseBuffer(buffer);
          return DataLossError("writing " + UrlFor(key) + ": the source's bytes hash to " + actual +
                               ", not the expected " + sha256);
        }
      }
      meta.meta[kMetaSha256] = sha256;
      c.body = bytes;
      c.request.content_length = bytes.size();
      if (need_md5) c.request.headers.emplace_back("content-md5", ContentMd5(bytes));
    }
    c.request.payload_sha256 = sha256;
    c.request.headers.emplace_back("x-amz-checksum-sha256", Sha256HexToBase64(sha256));
    AddMetadataHeaders(meta, c.request.headers);
    if (options.if_none_match) c.request.headers.emplace_back("if-none-match", "*");
    c.retry = false;  // the engine retries whole objects
    auto resp = shared_->client.Send(c);
    const uint64_t size = c.request.content_length.value_or(0);
    ReleaseBuffer(buffer);
    if (!resp.ok()) {
      if (options.if_none_match && resp.status().code() == StatusCode::kFailedPrecondition) {
        return AlreadyExistsError("writing " + UrlFor(key) + ": the object already exists");
      }
      return resp.status();
    }
    shared_->NoteUploadResponse(*resp);
    ObjectInfo info;
    info.key = key;
    info.size = size;
    info.etag = resp->Header("etag").value_or("");
    if (info.etag.size() >= 2 && info.etag.front() == '"') {
      info.etag = info.etag.substr(1, info.etag.size() - 2);
    }
    info.sha256 = sha256;
    info.mtime_ns = options.mtime_ns;
    info.metadata = meta.meta;
    return info;
  }

  Result<std::unique_ptr<MultipartUpload>> StartMultipart(
      std::string_view key_view, const MultipartOptions& options) override {
    DC_RETURN_IF_ERROR(CheckKey(key_view));
    DC_RETURN_IF_ERROR(EnsureBucket());
    const std::string key(key_view);
    UploadMetadata meta = MetadataFor(options);
    std::string tag;
    if (!options.resume_fingerprint.empty()) {
      tag = crypto::Sha256Hex(options.resume_fingerprint + "|" + std::to_string(options.part_size))
                .substr(0, 32);
      meta.meta[kMetaResume] = tag;
      DC_ASSIGN_OR_RETURN(auto found, FindResumable(key, options));
      if (found) {
        LogDebug("resuming multipart upload " + found->first + " of " + UrlFor(key) + " (" +
                 std::to_string(found->second.size()) + " parts done)");
        return std::unique_ptr<MultipartUpload>(std::make_unique<S3Upload>(
            shared_, key, found->first, meta, std::move(found->second), tag));
      }
    }
    S3Client::Call c = shared_->MakeCall("POST", key, "starting an upload of");
    c.request.query = {{"uploads", ""}};
    AddMetadataHeaders(meta, c.request.headers);
    // Servers with flexible checksums then keep each part's SHA-256 (and ListParts shows it).
    c.request.headers.emplace_back("x-amz-checksum-algorithm", "SHA256");
    DC_ASSIGN_OR_RETURN(http::HttpResponse resp, shared_->client.Send(c));
    auto id = ParseInitiateMultipartUpload(resp.body);
    if (!id.ok()) return id.status().WithContext("starting an upload of " + UrlFor(key));
    return std::unique_ptr<MultipartUpload>(
        std::make_unique<S3Upload>(shared_, key, *id, meta, std::vector<PartInfo>{}, tag));
  }

  Status Delete(std::string_view key) override {
    DC_RETURN_IF_ERROR(CheckKey(key));
    return shared_->DeleteObject(std::string(key));
  }

  Status DeleteMany(std::span<const std::string> keys, std::vector<Status>* per_key) override {
    if (per_key) per_key->assign(keys.size(), Status());
    Status first;
    for (size_t start = 0; start < keys.size(); start += kMaxDeleteBatch) {
      const size_t end = std::min(keys.size(), start + kMaxDeleteBatch);
      std::vector<std::string> batch(keys.begin() + start, keys.begin() + end);
      Status s = DeleteBatch(batch, per_key ? per_key->data() + start : nullptr);
      if (first.ok()) first = s;
    }
    return first;
  }

  Result<ObjectInfo> CopyWithin(std::string_view src_view, std::string_view dst_view) override {
    return CopyFrom(*this, src_view, dst_view);
  }

  // CopyObject (UploadPartCopy above 5 GiB) from a bucket on the same endpoint that the same
  // credentials can read.
  Result<ObjectInfo> CopyFrom(ObjectStore& src_store, std::string_view src_view,
                              std::string_view dst_view) override {
    auto* src_s3 = dynamic_cast<S3Store*>(&src_store);
    if (src_s3 == nullptr || !SameServiceAs(*src_s3)) {
      return ObjectStore::CopyFrom(src_store, src_view, dst_view);
    }
    DC_RETURN_IF_ERROR(src_s3->CheckKey(src_view));
    DC_RETURN_IF_ERROR(CheckKey(dst_view));
    DC_RETURN_IF_ERROR(EnsureBucket());
    const std::string src(src_view), dst(dst_view);
    DC_ASSIGN_OR_RETURN(ObjectInfo info, src_s3->Stat(src));
    const std::string source = "/" + src_s3->shared_->bucket() + "/" + UriEncode(src, true);
    const std::string src_url = src_s3->UrlFor(src);
    if (info.size <= kMaxCopyObjectSize) {
      S3Client::Call c = shared_->MakeCall("PUT", dst, "copying " + src_url + " to");
      c.request.headers.emplace_back("x-amz-copy-source", source);
      c.request.headers.emplace_back("x-amz-metadata-directive", "COPY");
      c.error_in_2xx = true;
      DC_ASSIGN_OR_RETURN(http::HttpResponse resp, shared_->client.Send(c));
      (void)resp;
    } else {
      DC_RETURN_IF_ERROR(CopyInParts(src_url, dst, info, source));
    }
    return Stat(dst);
  }

  Result<std::string> Presign(std::string_view key, std::string_view method,
                              int64_t expires_seconds) override {
    DC_RETURN_IF_ERROR(CheckKey(key));
    if (method != "GET" && method != "PUT" && method != "HEAD" && method != "DELETE") {
      return InvalidArgumentError("cannot presign method \"" + std::string(method) +
                                  "\"; use GET or PUT");
    }
    return BuildPresignedUrl(method, shared_->bucket(), key, shared_->client.endpoint(),
                             shared_->options().credentials, shared_->client.Now(),
                             expires_seconds);
  }

 private:
  // One endpoint, one identity: then a CopyObject on this store can read `other`'s bucket.
  bool SameServiceAs(const S3Store& other) const {
    const S3Endpoint a = shared_->client.endpoint(), b = other.shared_->client.endpoint();
    const auto& ca = shared_->options().credentials;
    const auto& cb = other.shared_->options().credentials;
    return a.scheme == b.scheme && a.host == b.host && a.port == b.port && !ca.anonymous() &&
           ca.access_key_id == cb.access_key_id;
  }

  Status CheckKey(std::string_view key) const {
    Status s = ValidateObjectKey(key);
    return s.ok() ? s : s.WithContext(UrlFor(key));
  }

  static std::string& PutBuffer() {
    thread_local std::string buffer;
    return buffer;
  }
  static void ReleaseBuffer(std::string& buffer) {
    if (buffer.capacity() > kKeepPutBuffer) {
      std::string().swap(buffer);
    } else {
      buffer.clear();
    }
  }

  static Status ReadAll(io::ByteSource& data, std::optional<uint64_t> size, std::string& out) {
    out.clear();
    if (size) out.reserve(*size);
    constexpr size_t kChunk = 1 << 20;
    while (true) {
      size_t old = out.size();
      if (old + kChunk > kMaxSinglePutSize + kChunk) {
        return InvalidArgumentError("the source is larger than one PUT may be (5 GiB)");
      }
      out.resize(old + kChunk);
      DC_ASSIGN_OR_RETURN(size_t n,
                          data.Read({reinterpret_cast<uint8_t*>(out.data() + old), kChunk}));
      out.resize(old + n);
      if (n == 0) break;
    }
    if (size && out.size() != *size) {
      return DataLossError("the source gave " + std::to_string(out.size()) + " bytes, expected " +
                           std::to_string(*size));
    }
    return Status();
  }

  // Checks the bucket once before the first write, and creates it when missing (unless
  // s3-no-check-bucket). A bucket we may not HEAD is assumed to exist: the write will tell.
  Status EnsureBucket() {
    if (!shared_->options().check_bucket) return Status();
    if (shared_->bucket_ready.load()) return Status();
    std::lock_guard<std::mutex> lock(shared_->bucket_mu);
    if (shared_->bucket_ready.load()) return Status();
    auto head = shared_->client.Send(shared_->MakeCall("HEAD", "", "checking bucket"));
    if (head.ok() || head.status().code() == StatusCode::kPermissionDenied) {
      shared_->bucket_ready = true;
      return Status();
    }
    if (head.status().code() != StatusCode::kNotFound) return head.status();
    S3Client::Call create = shared_->MakeCall("PUT", "", "creating bucket");
    const S3Endpoint e = shared_->client.endpoint();
    // S3 wants the region as LocationConstraint except for us-east-1; GCS picks its own.
    const std::string body =
        e.region == kGcsRegion ? std::string() : BuildCreateBucketXml(e.region);
    if (!body.empty()) {
      create.request.payload_sha256 = crypto::Sha256Hex(body);
      create.request.content_length = body.size();
      create.body = io::AsBytes(body);
    }
    create.ok_codes = {"BucketAlreadyOwnedByYou"};
    auto made = shared_->client.Send(create);
    if (!made.ok()) {
      return Status(made.status().code(),
                    std::string(made.status().message()) +
                        "; pass --s3-no-check-bucket (option s3-no-check-bucket) to write without "
                        "checking or creating the bucket");
    }
    LogInfo("created bucket " + shared_->client.Context("", "").url);
    shared_->bucket_ready = true;
    return Status();
  }

  Status DeleteBatch(const std::vector<std::string>& keys, Status* per_key) {
    for (const auto& k : keys) DC_RETURN_IF_ERROR(CheckKey(k));
    const std::string body = BuildDeleteXml(keys);
    S3Client::Call c = shared_->MakeCall("POST", "", "deleting objects in");
    c.request.query = {{"delete", ""}};
    c.request.headers.emplace_back("content-type", "application/xml");
    // DeleteObjects requires a body checksum; Content-MD5 is the one every server knows.
    c.request.headers.emplace_back("content-md5", ContentMd5(io::AsBytes(body)));
    c.request.payload_sha256 = crypto::Sha256Hex(body);
    c.request.content_length = body.size();
    c.body = io::AsBytes(body);
    auto resp = shared_->client.Send(c);
    if (!resp.ok()) {
      if (per_key) std::fill(per_key, per_key + keys.size(), resp.status());
      return resp.status();
    }
    DC_ASSIGN_OR_RETURN(std::vector<DeleteFailure> failures, ParseDeleteResult(resp->body));
    Status first;
    for (const auto& f : failures) {
      if (f.code == "NoSuchKey") continue;
      // Per-key errors arrive inside a 200; map them with the one mapping function.
      http::HttpResponse as_error;
      as_error.status = f.code == "AccessDenied" ? 403 : 400;
      as_error.body = "<Error><Code>" + f.code + "</Code><Message></Message></Error>";
      Status s = S3ResponseToStatus(as_error, shared_->client.Context("deleting", f.key));
      if (first.ok()) first = s;
      if (per_key) {
        auto it = std::find(keys.begin(), keys.end(), f.key);
        if (it != keys.end()) per_key[it - keys.begin()] = s;
      }
    }
    return first;
  }

  // The uploads in progress for exactly `key`, newest first.
  Result<std::vector<ListedUpload>> UploadsFor(const std::string& key) {
    std::vector<ListedUpload> out;
    std::string key_marker, id_marker;
    while (true) {
      S3Client::Call c = shared_->MakeCall("GET", "", "listing uploads in");
      c.request.query = {{"uploads", ""},
                         {"prefix", key},
                         {"encoding-type", "url"},
                         {"max-uploads", std::to_string(kMaxListEntries)}};
      if (!key_marker.empty()) {
        c.request.query.emplace_back("key-marker", key_marker);
        c.request.query.emplace_back("upload-id-marker", id_marker);
      }
      DC_ASSIGN_OR_RETURN(http::HttpResponse resp, shared_->client.Send(c));
      DC_ASSIGN_OR_RETURN(ListUploadsPage page, ParseListMultipartUploads(resp.body));
      for (auto& u : page.uploads) {
        if (u.key == key) out.push_back(std::move(u));
      }
      if (!page.truncated || page.next_key_marker.empty()) break;
      if (page.next_key_marker == key_marker && page.next_upload_id_marker == id_marker) {
        return MalformedResponseError("malformed listing of uploads from " + UrlFor(key) +
                                      ": the server sent the same markers again");
      }
      key_marker = page.next_key_marker;
      id_marker = page.next_upload_id_marker;
    }
    std::sort(out.begin(), out.end(), [](const ListedUpload& a, const ListedUpload& b) {
      return a.initiated_ns.value_or(0) > b.initiated_ns.value_or(0);
    });
    return out;
  }

  Result<std::vector<ListedPart>> PartsOf(const std::string& key, const std::string& upload_id) {
    std::vector<ListedPart> out;
    std::string marker;
    while (true) {
      S3Client::Call c = shared_->MakeCall("GET", key, "listing the parts of");
      c.request.query = {{"uploadId", upload_id}, {"max-parts", std::to_string(kMaxListEntries)}};
      if (!marker.empty()) c.request.query.emplace_back("part-number-marker", marker);
      DC_ASSIGN_OR_RETURN(http::HttpResponse resp, shared_->client.Send(c));
      DC_ASSIGN_OR_RETURN(ListPartsPage page, ParseListParts(resp.body));
      for (auto& p : page.parts) out.push_back(std::move(p));
      if (!page.truncated || page.next_part_number_marker.empty()) break;
      // Part number markers only grow (and stop at 10,000): anything else would loop.
      const long next = std::strtol(page.next_part_number_marker.c_str(), nullptr, 10);
      const long prev = marker.empty() ? 0 : std::strtol(marker.c_str(), nullptr, 10);
      if (next <= prev || next >= static_cast<long>(kMaxPartCount)) {
        return MalformedResponseError("malformed listing of parts from " + UrlFor(key) +
                                      ": part number marker " +
                                      QuoteKey(page.next_part_number_marker) + " does not advance");
      }
      marker = std::to_string(next);
    }
    return out;
  }

  // An interrupted upload of `key` whose parts fit this source: same part layout, and started
  // after the source was last modified. Which source it held is only certain once it is
  // complete (x-amz-meta-datacube-resume, checked in Complete), because S3 shows no metadata of
  // uploads in progress.
  Result<std::optional<std::pair<std::string, std::vector<PartInfo>>>> FindResumable(
      const std::string& key, const MultipartOptions& o) {
    using Found = std::optional<std::pair<std::string, std::vector<PartInfo>>>;
    if (!o.size || o.part_size == 0) return Found();
    const uint64_t part_count = std::max<uint64_t>(1, (*o.size + o.part_size - 1) / o.part_size);
    DC_ASSIGN_OR_RETURN(std::vector<ListedUpload> uploads, UploadsFor(key));
    for (const auto& u : uploads) {
      if (o.mtime_ns && u.initiated_ns && *o.mtime_ns > *u.initiated_ns) continue;
      DC_ASSIGN_OR_RETURN(std::vector<ListedPart> listed, PartsOf(key, u.upload_id));
      std::vector<PartInfo> parts;
      bool fits = true;
      for (const auto& p : listed) {
        const uint64_t offset = (static_cast<uint64_t>(p.number) - 1) * o.part_size;
        const uint64_t expect =
            p.number >= 1 && p.number <= part_count ? std::min(o.part_size, *o.size - offset) : 0;
        if (expect == 0 || p.size != expect) {
          fits = false;
          break;
        }
        parts.push_back({p.number, offset, p.size, p.etag, Sha256Base64ToHex(p.checksum_sha256)});
      }
      if (fits) return Found(std::make_pair(u.upload_id, std::move(parts)));
    }
    return Found();
  }

  Status CopyInParts(const std::string& src_url, const std::string& dst, const ObjectInfo& info,
                     const std::string& source) {
    uint64_t part = std::max(kCopyPartSize, (info.size + kMaxPartCount - 1) / kMaxPartCount);
    part = std::min(part, kMaxPartSize);
    MultipartOptions mo;
    mo.size = info.size;
    mo.part_size = part;
    mo.metadata = info.metadata;
    mo.metadata.erase(kMetaResume);
    DC_ASSIGN_OR_RETURN(auto upload, StartMultipart(dst, mo));
    std::vector<PartInfo> parts;
    Status s;
    for (uint64_t offset = 0, n = 1; offset < info.size && s.ok(); offset += part, ++n) {
      const uint64_t last = std::min(info.size, offset + part) - 1;
      S3Client::Call c = shared_->MakeCall("PUT", dst, "copying " + src_url + " to");
      c.request.query = {{"partNumber", std::to_string(n)}, {"uploadId", upload->id()}};
      c.request.headers.emplace_back("x-amz-copy-source", source);
      c.request.headers.emplace_back("x-amz-copy-source-range", "bytes=" + std::to_string(offset) +
                                                                    "-" + std::to_string(last));
      c.error_in_2xx = true;
      auto resp = shared_->client.Send(c);
      if (!resp.ok()) {
        s = resp.status();
        break;
      }
      auto etag = ParseResultEtag(resp->body, "CopyPartResult");
      if (!etag.ok()) {
        s = etag.status();
        break;
      }
      parts.push_back({static_cast<uint32_t>(n), offset, last - offset + 1, *etag, ""});
    }
    if (s.ok()) s = upload->Complete(parts, info.sha256).status();
    if (!s.ok()) upload->Abort().IgnoreError();
    return s;
  }

  const std::shared_ptr<Shared> shared_;
};

}  // namespace

std::shared_ptr<ObjectStore> NewS3Store(S3StoreOptions options) {
  return std::make_shared<S3Store>(std::move(options));
}

Result<StoreRef> OpenS3Location(const Location& location, const StoreConfig& config,
                                OpenMode mode) {
  DC_ASSIGN_OR_RETURN(S3StoreOptions options, S3StoreOptionsFromConfig(location, config));
  StoreRef ref;
  ref.location = location;
  ref.key = location.path;
  switch (mode) {
    case OpenMode::kRead:
      break;
    case OpenMode::kWriteTree:
      if (!ref.key.empty() && ref.key.back() != '/') ref.key += '/';
      break;
    case OpenMode::kWriteFile:
      if (ref.key.empty() || ref.key.back() == '/') {
        // (The engine asks for a file when a single source object goes to a location that does
        // not end in '/'; the bucket root itself has no key to write to.)
        return InvalidArgumentError(location.ToString() +
                                    " has no object key to write to; name the object "
                                    "(s3://bucket/file.bin) or a folder (s3://bucket/dir/)");
      }
      break;
  }
  ref.store = NewS3Store(std::move(options));
  return ref;
}

}  // namespace datacube::storage::s3
