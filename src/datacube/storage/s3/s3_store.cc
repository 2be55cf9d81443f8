// The S3 ObjectStore: the glue between the ObjectStore contract and the pieces beside it
// (s3_client for sending, s3_request_builder and sigv4_signer for signing, s3_xml for bodies,
// s3_errors for failures, s3_metadata for what we keep on objects, s3_store_state for what the
// store and its uploads share, s3_multipart and s3_resume for multipart uploads, s3_copy for
// server-side copies).
#include "datacube/storage/s3/s3_store.h"

#include <algorithm>

#include "datacube/crypto/sha256.h"
#include "datacube/storage/s3/s3_client.h"
#include "datacube/storage/s3/s3_copy.h"
#include "datacube/storage/s3/s3_listing.h"
#include "datacube/storage/s3/s3_metadata.h"
#include "datacube/storage/s3/s3_multipart.h"
#include "datacube/storage/s3/s3_store_state.h"
#include "datacube/storage/s3/s3_xml.h"

namespace datacube::storage::s3 {
namespace {

// Put buffers a body whose checksums must be known before it is sent. The engine hands Put
// only objects of up to one part, so the buffer stays small; one that grew larger than this is
// released after use instead of being kept per thread.
constexpr size_t kKeepPutBuffer = 64ull << 20;

std::string Quote(const std::string& etag) { return "\"" + etag + "\""; }

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

// The Range header of a read of `range` (not the whole object).
std::string RangeHeader(ByteRange range) {
  std::string spec = "bytes=" + std::to_string(range.offset) + "-";
  if (range.length != ByteRange::kToEnd && range.length <= UINT64_MAX - range.offset) {
    spec += std::to_string(range.offset + range.length - 1);
  }
  return spec;
}

std::string Lowercase(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

std::string& PutBuffer() {
  thread_local std::string buffer;
  return buffer;
}

void ReleaseBuffer(std::string& buffer) {
  if (buffer.capacity() > kKeepPutBuffer) {
    std::string().swap(buffer);
  } else {
    buffer.clear();
  }
}

Status ReadAll(io::ByteSource& data, std::optional<uint64_t> size, std::string& out) {
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

class S3Store final : public ObjectStore {
 public:
  explicit S3Store(S3StoreOptions options)
      : state_(std::make_shared<S3StoreState>(std::move(options))) {}

  Capabilities capabilities() const override;
  std::string UrlFor(std::string_view key) const override { return state_->client.UrlFor(key); }

  Result<ObjectInfo> Stat(std::string_view key) override {
    DC_RETURN_IF_ERROR(state_->CheckKey(key));
    return state_->Head(std::string(key));
  }

  Result<ListPage> List(const ListRequest& request) override;
  Status Read(std::string_view key, ByteRange range, io::ByteSink& sink,
              const ReadOptions& options) override;
  Result<ObjectInfo> Put(std::string_view key, io::ByteSource& data,
                         const WriteOptions& options) override;

  Result<std::unique_ptr<MultipartUpload>> StartMultipart(
      std::string_view key, const MultipartOptions& options) override {
    DC_RETURN_IF_ERROR(state_->CheckKey(key));
    DC_RETURN_IF_ERROR(state_->EnsureBucket());
    return StartS3Multipart(state_, std::string(key), options);
  }

  Status Delete(std::string_view key) override {
    DC_RETURN_IF_ERROR(state_->CheckKey(key));
    return state_->DeleteObject(std::string(key));
  }

  Status DeleteMany(std::span<const std::string> keys, std::vector<Status>* per_key) override;

  Result<ObjectInfo> CopyWithin(std::string_view src, std::string_view dst) override {
    return CopyFrom(*this, src, dst);
  }

  // A server-side copy from a bucket on the same endpoint that the same credentials can read
  // (s3_copy.h); anything else streams through this machine.
  Result<ObjectInfo> CopyFrom(ObjectStore& src_store, std::string_view src,
                              std::string_view dst) override {
    auto* src_s3 = dynamic_cast<S3Store*>(&src_store);
    if (src_s3 == nullptr || !CanCopyServerSide(*state_, *src_s3->state_)) {
      return ObjectStore::CopyFrom(src_store, src, dst);
    }
    return CopyServerSide(*src_s3->state_, src, state_, dst);
  }

  Result<std::string> Presign(std::string_view key, std::string_view method,
                              int64_t expires_seconds) override;

 private:
  // Checks a Read that covered the whole object against the SHA-256 it records, and hands the
  // caller the digests it asked for.
  Status FinishRead(const std::string& key, const http::HttpResponse& resp, ReadSink& guarded,
                    bool from_start, const ReadOptions& options);
  // Reads a Put's body into `buffer` and has `c` send it with its proofs: the SHA-256 (computed
  // unless the caller gave it) and, where needed, Content-MD5.
  Status BufferPutBody(const std::string& key, io::ByteSource& data, const WriteOptions& options,
                       bool need_md5, std::string& buffer, std::string& sha256, S3Client::Call& c);
  // One DeleteObjects request of at most kMaxDeleteBatch keys.
  Status DeleteBatch(const std::vector<std::string>& keys, Status* per_key);

  const std::shared_ptr<S3StoreState> state_;
};

Capabilities S3Store::capabilities() const {
  Capabilities c;
  c.multipart = true;
  c.resumable_multipart = true;
  c.min_part_size = kMinPartSize;
  c.max_part_size = kMaxPartSize;
  c.max_part_count = kMaxPartCount;
  c.server_side_copy = true;
  c.presign = !state_->options().credentials.anonymous();
  c.conditional_write = true;  // If-None-Match: * (AWS, Ceph RGW, MinIO)
  c.stores_sha256 = true;
  c.wants_sha256_before_write = true;
  c.preserves_mtime = true;
  c.list_has_metadata = false;  // ListObjectsV2 shows LastModified, not x-amz-meta-*
  c.remote = true;
  return c;
}

Result<ListPage> S3Store::List(const ListRequest& request) {
  S3Client::Call c = state_->MakeCall("GET", "", "listing");
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
  auto resp = state_->client.Send(c);
  if (!resp.ok()) return resp.status();
  // A listing the server got wrong is no checksum mismatch and no reason to retry.
  auto malformed = [&](const Status& s) {
    return MalformedResponseError("malformed listing from " + UrlFor(request.prefix) + ": " +
                                  std::string(s.message()));
  };
  auto parsed = ParseListObjectsV2(resp->body);
  if (!parsed.ok()) return malformed(parsed.status());
  ListCheck check{request.prefix, request.recursive, !IsDirectoryBucket(state_->bucket())};
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

Status S3Store::Read(std::string_view key_view, ByteRange range, io::ByteSink& sink,
                     const ReadOptions& options) {
  DC_RETURN_IF_ERROR(state_->CheckKey(key_view));
  if (range.length == 0) return Status();
  const std::string key(key_view);
  S3Client::Call c = state_->MakeCall("GET", key, "reading");
  const bool ranged = !range.is_all();
  if (ranged) c.request.headers.emplace_back("range", RangeHeader(range));
  if (!options.if_match.empty())
    c.request.headers.emplace_back("if-match", Quote(options.if_match));
  // A read from the start may be the whole object: have the server send its checksums.
  if (range.offset == 0) c.request.headers.emplace_back("x-amz-checksum-mode", "ENABLED");
  ReadSink guarded(sink, range.length, range.offset == 0);
  c.sink = &guarded;
  c.ok_statuses = {416};
  DC_ASSIGN_OR_RETURN(http::HttpResponse resp, state_->client.Send(c));
  if (resp.status == 416) {
    // Content-Range "bytes */SIZE" says how large the object is: a read that starts exactly
    // at its end (an empty object read from 0) returns nothing, as the contract says.
    auto at = ObjectInfoFromHeaders(key, resp);
    if (at.ok() && resp.Header("content-range") && range.offset == at->size) return Status();
    return S3ResponseToStatus(resp, state_->client.Context("reading", key));
  }
  if (ranged && resp.status == 200 && range.offset > 0) {
    return FailedPreconditionError("reading " + UrlFor(key) +
                                   ": the server ignored the Range "
                                   "header and sent the whole object");
  }
  return FinishRead(key, resp, guarded, range.offset == 0, options);
}

Status S3Store::FinishRead(const std::string& key, const http::HttpResponse& resp,
                           ReadSink& guarded, bool from_start, const ReadOptions& options) {
  auto headers = ObjectInfoFromHeaders(key, resp);
  if (!headers.ok()) return headers.status().WithContext("reading " + UrlFor(key));
  ObjectInfo& info = *headers;
  const bool whole = from_start && guarded.received() == info.size;
  if (!whole) return Status();
  std::string got = guarded.Digest();
  if (!info.sha256.empty() && got != info.sha256) {
    return DataLossError("reading " + UrlFor(key) + ": the bytes received hash to SHA-256 " + got +
                         " but the object records " + info.sha256 +
                         " (corrupted on the way); it will be fetched again");
  }
  if (options.offered) {
    // The other digests are the caller's to check: it holds the bytes.
    DC_RETURN_IF_ERROR(state_->LearnPartSizes(key, info));
    *options.offered = std::move(info.digests);
    if (!info.sha256.empty()) {
      std::string raw;
      crypto::HexDecode(info.sha256, &raw);
      options.offered->push_back(
          {"sha256", raw,
           info.metadata.count(kMetaSha256) ? "x-amz-meta-sha256" : "x-amz-checksum-sha256", 0, 0});
    }
  }
  if (options.whole_sha256) *options.whole_sha256 = std::move(got);
  return Status();
}

Result<ObjectInfo> S3Store::Put(std::string_view key_view, io::ByteSource& data,
                                const WriteOptions& options) {
  DC_RETURN_IF_ERROR(state_->CheckKey(key_view));
  DC_RETURN_IF_ERROR(state_->EnsureBucket());
  const std::string key(key_view);
  if (options.size && *options.size > kMaxSinglePutSize) {
    return InvalidArgumentError("writing " + UrlFor(key) +
                                ": one PUT holds at most 5 GiB; "
                                "larger objects are written as multipart uploads");
  }
  const bool need_md5 = state_->NeedMd5();
  const bool stream = options.size && crypto::IsSha256Hex(options.sha256) && !need_md5;

  S3Client::Call c = state_->MakeCall("PUT", key, "writing");
  UploadMetadata meta = MetadataFor(options);
  std::string sha256 = Lowercase(options.sha256);
  std::string& buffer = PutBuffer();
  if (stream) {
    c.stream = &data;
    c.request.content_length = *options.size;
  } else {
    DC_RETURN_IF_ERROR(BufferPutBody(key, data, options, need_md5, buffer, sha256, c));
    meta.meta[kMetaSha256] = sha256;
  }
  c.request.payload_sha256 = sha256;
  c.request.headers.emplace_back("x-amz-checksum-sha256", Sha256HexToBase64(sha256));
  AddMetadataHeaders(meta, c.request.headers);
  if (options.if_none_match) c.request.headers.emplace_back("if-none-match", "*");
  c.retry = false;  // the engine retries whole objects
  auto resp = state_->client.Send(c);
  const uint64_t size = c.request.content_length.value_or(0);
  ReleaseBuffer(buffer);
  if (!resp.ok()) {
    if (options.if_none_match && resp.status().code() == StatusCode::kFailedPrecondition) {
      return AlreadyExistsError("writing " + UrlFor(key) + ": the object already exists");
    }
    return resp.status();
  }
  state_->NoteUploadResponse(*resp);
  ObjectInfo info;
  info.key = key;
  info.size = size;
  info.etag = ResponseEtag(*resp);
  info.sha256 = sha256;
  info.mtime_ns = options.mtime_ns;
  info.metadata = meta.meta;
  return info;
}

Status S3Store::BufferPutBody(const std::string& key, io::ByteSource& data,
                              const WriteOptions& options, bool need_md5, std::string& buffer,
                              std::string& sha256, S3Client::Call& c) {
  DC_RETURN_IF_ERROR(ReadAll(data, options.size, buffer).WithContext("writing " + UrlFor(key)));
  std::span<const uint8_t> bytes = io::AsBytes(buffer);
  // A SHA-256 given by the caller is not recomputed: it is the signed payload hash, which the
  // server checks against the bytes it receives.
  if (!crypto::IsSha256Hex(sha256)) {
    sha256 = Sha256HexOf(bytes);
  } else if (state_->options().credentials.anonymous()) {
    std::string actual = Sha256HexOf(bytes);
    if (actual != sha256) {
      ReleaseBuffer(buffer);
      return DataLossError("writing " + UrlFor(key) + ": the source's bytes hash to " + actual +
                           ", not the expected " + sha256);
    }
  }
  c.body = bytes;
  c.request.content_length = bytes.size();
  if (need_md5) c.request.headers.emplace_back("content-md5", ContentMd5(bytes));
  return Status();
}

Status S3Store::DeleteMany(std::span<const std::string> keys, std::vector<Status>* per_key) {
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

Status S3Store::DeleteBatch(const std::vector<std::string>& keys, Status* per_key) {
  for (const auto& k : keys) DC_RETURN_IF_ERROR(state_->CheckKey(k));
  const std::string body = BuildDeleteXml(keys);
  S3Client::Call c = state_->MakeCall("POST", "", "deleting objects in");
  c.request.query = {{"delete", ""}};
  c.request.headers.emplace_back("content-type", "application/xml");
  // DeleteObjects requires a body checksum; Content-MD5 is the one every server knows.
  c.request.headers.emplace_back("content-md5", ContentMd5(io::AsBytes(body)));
  c.request.payload_sha256 = crypto::Sha256Hex(body);
  c.request.content_length = body.size();
  c.body = io::AsBytes(body);
  auto resp = state_->client.Send(c);
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
    Status s = S3ResponseToStatus(as_error, state_->client.Context("deleting", f.key));
    if (first.ok()) first = s;
    if (per_key) {
      auto it = std::find(keys.begin(), keys.end(), f.key);
      if (it != keys.end()) per_key[it - keys.begin()] = s;
    }
  }
  return first;
}

Result<std::string> S3Store::Presign(std::string_view key, std::string_view method,
                                     int64_t expires_seconds) {
  DC_RETURN_IF_ERROR(state_->CheckKey(key));
  if (method != "GET" && method != "PUT" && method != "HEAD" && method != "DELETE") {
    return InvalidArgumentError("cannot presign method \"" + std::string(method) +
                                "\"; use GET or PUT");
  }
  return BuildPresignedUrl(method, state_->bucket(), key, state_->client.endpoint(),
                           state_->options().credentials, state_->client.Now(), expires_seconds);
}

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
