// What the S3 store and the multipart uploads it starts share: the client of the bucket, what
// was learnt about the server, and the requests both sides send (HEAD, DELETE, the bucket
// check). Internal to storage/s3; the public API is s3_store.h.
#pragma once

#include <atomic>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include "datacube/storage/object_store.h"
#include "datacube/storage/s3/s3_client.h"

namespace datacube::storage::s3 {

// Whether the server verifies flexible checksums (x-amz-checksum-sha256); learnt from the first
// upload's response, which echoes the header when it does.
enum FlexibleChecksums : int { kFlexUnknown = 0, kFlexYes = 1, kFlexNo = 2 };

// Base64 MD5 of `data`, the Content-MD5 header's form.
std::string ContentMd5(std::span<const uint8_t> data);
// Lower-case hex SHA-256 of `data`.
std::string Sha256HexOf(std::span<const uint8_t> data);
// The ETag a response carries, without the quotes servers put around it.
std::string ResponseEtag(const http::HttpResponse& response);

// State shared by the store and its multipart uploads (which may outlive a Stat or List call
// but never the transfer that holds the store).
struct S3StoreState {
  explicit S3StoreState(S3StoreOptions options) : client(std::move(options)) {}

  S3Client client;
  std::atomic<int> flexible{kFlexUnknown};
  std::mutex bucket_mu;  // serialises the one bucket check
  // Set once the bucket is known to be usable; read without the lock on every write.
  std::atomic<bool> bucket_ready{false};

  const S3StoreOptions& options() const { return client.options(); }
  const std::string& bucket() const { return client.options().bucket; }

  // Whether an upload must carry Content-MD5, the fallback proof of its bytes.
  bool NeedMd5() const;
  // Learns from an upload's response whether the server verifies flexible checksums.
  void NoteUploadResponse(const http::HttpResponse& r);

  S3Client::Call MakeCall(std::string method, std::string key, std::string action) const;

  // ValidateObjectKey, with the object's URL in the message.
  Status CheckKey(std::string_view key) const;
  Result<ObjectInfo> Head(const std::string& key);
  Status DeleteObject(const std::string& key);
  // Checks the bucket once before the first write, and creates it when missing (unless
  // s3-no-check-bucket). A bucket we may not HEAD is assumed to exist: the write will tell.
  Status EnsureBucket();
  // Composite checksums cover parts: learns their size (HEAD ?partNumber= of the first and the
  // last part) where no SHA-256 makes them unnecessary, and drops what cannot be checked.
  Status LearnPartSizes(const std::string& key, ObjectInfo& info);

 private:
  Result<uint64_t> PartSize(const std::string& key, uint32_t number);
};

}  // namespace datacube::storage::s3
