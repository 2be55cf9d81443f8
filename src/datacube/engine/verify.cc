#include "datacube/engine/verify.h"

#include <algorithm>

#include "datacube/crypto/sha256.h"

namespace datacube::engine {

struct DigestVerifier::Check {
  storage::OfferedDigest digest;
  crypto::ChecksumAlgorithm algorithm;
  crypto::Checksum whole;
  // Composite: the digest of the part in progress, the bytes it has seen, and the finished
  // parts' digests concatenated.
  crypto::Checksum part;
  uint64_t in_part = 0;
  uint32_t parts_done = 0;
  std::string part_digests;

  Check(storage::OfferedDigest d, crypto::ChecksumAlgorithm a)
      : digest(std::move(d)), algorithm(a), whole(a), part(a) {}

  void EndPart() {
    part_digests += part.Finish();
    ++parts_done;
    in_part = 0;
  }

  void Update(std::span<const uint8_t> data) {
    if (digest.part_size == 0) {
      whole.Update(data);
      return;
    }
    while (!data.empty()) {
      const uint64_t room = digest.part_size - in_part;
      const size_t take = static_cast<size_t>(std::min<uint64_t>(room, data.size()));
      part.Update(data.subspan(0, take));
      in_part += take;
      data = data.subspan(take);
      if (in_part == digest.part_size) EndPart();
    }
  }

  std::string Result() {
    if (digest.part_size == 0) return whole.Finish();
    if (in_part > 0 || parts_done == 0) EndPart();
    return crypto::ChecksumOf(algorithm, part_digests);
  }
};

VerifyPlan PlanVerification(const storage::ObjectInfo& src,
                            const std::vector<storage::OfferedDigest>& read_offered) {
  VerifyPlan plan;
  const std::vector<storage::OfferedDigest>& offered =
      read_offered.empty() ? src.digests : read_offered;
  if (!src.sha256.empty()) {
    plan.sha256 = src.sha256;
    plan.sha256_origin = "the source";
  }
  for (const auto& d : offered) {
    if (d.algorithm == "sha256" && d.part_count == 0 && d.value.size() == 32 &&
        plan.sha256.empty()) {
      plan.sha256 = crypto::HexEncode(d.value);
      plan.sha256_origin = d.origin;
    }
  }
  if (!plan.sha256.empty()) return plan;
  for (const auto& d : offered) {
    auto algorithm = crypto::ChecksumAlgorithmFromName(d.algorithm);
    if (!algorithm || d.value.size() != crypto::ChecksumSize(*algorithm)) continue;
    if (d.part_count > 0 && d.part_size == 0) continue;  // parts unknown: cannot be split
    plan.others.push_back(d);
  }
  return plan;
}

DigestVerifier::DigestVerifier(std::vector<storage::OfferedDigest> digests) {
  for (auto& d : digests) {
    auto algorithm = crypto::ChecksumAlgorithmFromName(d.algorithm);
    if (!algorithm) continue;
    checks_.push_back(std::make_unique<Check>(std::move(d), *algorithm));
  }
}
DigestVerifier::~DigestVerifier() = default;
DigestVerifier::DigestVerifier(DigestVerifier&&) noexcept = default;
DigestVerifier& DigestVerifier::operator=(DigestVerifier&&) noexcept = default;

void DigestVerifier::Update(std::span<const uint8_t> data) {
  for (auto& c : checks_) c->Update(data);
}

Status DigestVerifier::Finish(const std::string& url) {
  for (auto& c : checks_) {
    const std::string got = c->Result();
    const auto& d = c->digest;
    std::string what = d.algorithm;
    std::transform(what.begin(), what.end(), what.begin(), ::toupper);
    if (d.part_count > 0) {
      if (c->parts_done != d.part_count) {
        return DataLossError("checksum mismatch for " + url + ": " + d.origin + " covers " +
                             std::to_string(d.part_count) + " parts, the bytes received make " +
                             std::to_string(c->parts_done) + " parts of " +
                             std::to_string(d.part_size) + " bytes");
      }
      what += " of " + std::to_string(d.part_count) + " parts";
    }
    if (got != d.value) {
      return DataLossError("checksum mismatch for " + url + ": " + d.origin + " says " + what +
                           " " + crypto::HexEncode(d.value) + ", the bytes received give " +
                           crypto::HexEncode(got));
    }
  }
  return Status();
}

}  // namespace datacube::engine
