#include "datacube/storage/s3/s3_resume.h"

#include <algorithm>
#include <cstdlib>

#include "datacube/crypto/sha256.h"
#include "datacube/storage/s3/s3_listing.h"
#include "datacube/storage/s3/s3_metadata.h"
#include "datacube/storage/s3/s3_store.h"
#include "datacube/storage/s3/s3_xml.h"

namespace datacube::storage::s3 {
namespace {

// ListParts and ListMultipartUploads return at most 1,000 entries per page.
constexpr int kMaxListEntries = 1'000;

// The uploads in progress for exactly `key`, newest first.
Result<std::vector<ListedUpload>> UploadsFor(S3StoreState& state, const std::string& key) {
  std::vector<ListedUpload> out;
  std::string key_marker, id_marker;
  while (true) {
    S3Client::Call c = state.MakeCall("GET", "", "listing uploads in");
    c.request.query = {{"uploads", ""},
                       {"prefix", key},
                       {"encoding-type", "url"},
                       {"max-uploads", std::to_string(kMaxListEntries)}};
    if (!key_marker.empty()) {
      c.request.query.emplace_back("key-marker", key_marker);
      c.request.query.emplace_back("upload-id-marker", id_marker);
    }
    DC_ASSIGN_OR_RETURN(http::HttpResponse resp, state.client.Send(c));
    DC_ASSIGN_OR_RETURN(ListUploadsPage page, ParseListMultipartUploads(resp.body));
    for (auto& u : page.uploads) {
      if (u.key == key) out.push_back(std::move(u));
    }
    if (!page.truncated || page.next_key_marker.empty()) break;
    if (page.next_key_marker == key_marker && page.next_upload_id_marker == id_marker) {
      return MalformedResponseError("malformed listing of uploads from " +
                                    state.client.UrlFor(key) +
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

// Every part upload `upload_id` of `key` holds.
Result<std::vector<ListedPart>> PartsOf(S3StoreState& state, const std::string& key,
                                        const std::string& upload_id) {
  std::vector<ListedPart> out;
  std::string marker;
  while (true) {
    S3Client::Call c = state.MakeCall("GET", key, "listing the parts of");
    c.request.query = {{"uploadId", upload_id}, {"max-parts", std::to_string(kMaxListEntries)}};
    if (!marker.empty()) c.request.query.emplace_back("part-number-marker", marker);
    DC_ASSIGN_OR_RETURN(http::HttpResponse resp, state.client.Send(c));
    DC_ASSIGN_OR_RETURN(ListPartsPage page, ParseListParts(resp.body));
    for (auto& p : page.parts) out.push_back(std::move(p));
    if (!page.truncated || page.next_part_number_marker.empty()) break;
    // Part number markers only grow (and stop at 10,000): anything else would loop.
    const long next = std::strtol(page.next_part_number_marker.c_str(), nullptr, 10);
    const long prev = marker.empty() ? 0 : std::strtol(marker.c_str(), nullptr, 10);
    if (next <= prev || next >= static_cast<long>(kMaxPartCount)) {
      return MalformedResponseError("malformed listing of parts from " + state.client.UrlFor(key) +
                                    ": part number marker " +
                                    QuoteKey(page.next_part_number_marker) + " does not advance");
    }
    marker = std::to_string(next);
  }
  return out;
}

// The listed parts as parts of the new layout, or nothing when one of them does not fit there
// (a number beyond the last part, or another size than that part has).
std::optional<std::vector<PartInfo>> PartsInLayout(const std::vector<ListedPart>& listed,
                                                   const MultipartOptions& o) {
  const uint64_t part_count = std::max<uint64_t>(1, (*o.size + o.part_size - 1) / o.part_size);
  std::vector<PartInfo> parts;
  for (const auto& p : listed) {
    const uint64_t offset = (static_cast<uint64_t>(p.number) - 1) * o.part_size;
    const uint64_t expect =
        p.number >= 1 && p.number <= part_count ? std::min(o.part_size, *o.size - offset) : 0;
    if (expect == 0 || p.size != expect) return std::nullopt;
    parts.push_back({p.number, offset, p.size, p.etag, Sha256Base64ToHex(p.checksum_sha256)});
  }
  return parts;
}

}  // namespace

std::string ResumeTag(const MultipartOptions& options) {
  return crypto::Sha256Hex(options.resume_fingerprint + "|" + std::to_string(options.part_size))
      .substr(0, 32);
}

Result<std::optional<ResumableUpload>> FindResumableUpload(S3StoreState& state,
                                                           const std::string& key,
                                                           const MultipartOptions& o) {
  if (!o.size || o.part_size == 0) return std::optional<ResumableUpload>();
  DC_ASSIGN_OR_RETURN(std::vector<ListedUpload> uploads, UploadsFor(state, key));
  for (const auto& u : uploads) {
    // An upload begun before the source last changed holds older bytes.
    if (o.mtime_ns && u.initiated_ns && *o.mtime_ns > *u.initiated_ns) continue;
    DC_ASSIGN_OR_RETURN(std::vector<ListedPart> listed, PartsOf(state, key, u.upload_id));
    std::optional<std::vector<PartInfo>> parts = PartsInLayout(listed, o);
    if (parts)
      return std::optional<ResumableUpload>(ResumableUpload{u.upload_id, std::move(*parts)});
  }
  return std::optional<ResumableUpload>();
}

}  // namespace datacube::storage::s3
