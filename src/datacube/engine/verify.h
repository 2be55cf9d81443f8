// Checks a file's bytes, fed in order as they move, against the digests its source offers
// besides SHA-256 (the engine hashes SHA-256 itself): an S3 single-part ETag's MD5, an
// x-amz-checksum-crc32c, rclone's md5chksum, ... (storage::OfferedDigest). Composite digests
// (S3 multipart checksums) are computed per part and then over the parts' digests.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "datacube/base/status.h"
#include "datacube/crypto/checksum.h"
#include "datacube/storage/object_store.h"

namespace datacube::engine {

// What to check for a source object. A SHA-256 the source offers proves the bytes on its own
// (the engine compares it, and the others are weaker): then nothing else is chosen. Otherwise
// every offered digest of a known algorithm whose parts are known. `read_offered`, when not
// empty, is what the source sent with the bytes (fresher than `src`).
struct VerifyPlan {
  std::string sha256;  // hex; empty when the source offers none
  std::string sha256_origin;
  std::vector<storage::OfferedDigest> others;
  bool empty() const { return sha256.empty() && others.empty(); }
};
VerifyPlan PlanVerification(const storage::ObjectInfo& src,
                            const std::vector<storage::OfferedDigest>& read_offered = {});

class DigestVerifier {
 public:
  explicit DigestVerifier(std::vector<storage::OfferedDigest> digests);
  ~DigestVerifier();
  DigestVerifier(DigestVerifier&&) noexcept;
  DigestVerifier& operator=(DigestVerifier&&) noexcept;

  bool empty() const { return checks_.empty(); }
  // The next bytes of the file, in order.
  void Update(std::span<const uint8_t> data);
  // OK when every digest matched; kDataLoss naming `url`, the digest's origin, what it says and
  // what the bytes hash to, otherwise. Call once, after the last byte.
  Status Finish(const std::string& url);

 private:
  struct Check;
  std::vector<std::unique_ptr<Check>> checks_;
};

}  // namespace datacube::engine
