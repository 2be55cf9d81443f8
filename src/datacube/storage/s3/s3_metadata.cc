#include "datacube/storage/s3/s3_metadata.h"

#include <cstdint>
#include <ctime>
#include <optional>

#include "datacube/crypto/sha256.h"

namespace datacube::storage::s3 {

std::string Sha256HexToBase64(std::string_view hex) {
  std::string raw;
  if (!crypto::IsSha256Hex(hex) || !crypto::HexDecode(hex, &raw)) return "";
  return crypto::Base64Encode(raw);
}

std::string Sha256Base64ToHex(std::string_view b64) {
  std::string raw;
  if (!crypto::Base64Decode(b64, &raw) || raw.size() != 32) return "";
  return crypto::HexEncode(raw);
}

std::string FormatMtime(int64_t ns) {
  int64_t secs = ns / 1'000'000'000;
  int64_t frac = ns % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    --secs;
  }
  char buf[48];
  std::snprintf(buf, sizeof buf, "%lld.%09lld", static_cast<long long>(secs),
                static_cast<long long>(frac));
  return buf;
}

std::optional<int64_t> ParseMtime(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::string s(text);
  size_t dot = s.find('.');
  char* end = nullptr;
  long long secs = std::strtoll(s.c_str(), &end, 10);
  if (end == s.c_str() || (*end != '\0' && *end != '.')) return std::nullopt;
  int64_t nanos = 0;
  if (dot != std::string::npos) {
    int64_t scale = 100'000'000;
    for (size_t i = dot + 1; i < s.size(); ++i) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
      nanos += (s[i] - '0') * scale;
      scale /= 10;
    }
  }
  return static_cast<int64_t>(secs) * 1'000'000'000 + nanos;
}

std::optional<int64_t> ParseHttpDate(std::string_view text) {
  std::tm tm{};
  std::string s(text);
  const char* end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S", &tm);
  if (end == nullptr) return std::nullopt;
  return static_cast<int64_t>(timegm(&tm)) * 1'000'000'000;
}

namespace {

// A decimal byte count from a header: digits only, at most 2^63 - 1.
std::optional<uint64_t> StrictCount(std::string_view text) {
  if (text.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (v > (static_cast<uint64_t>(INT64_MAX) - digit) / 10) return std::nullopt;
    v = v * 10 + digit;
  }
  return v;
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return !s.empty();
}

// The flexible checksums S3 may send (with x-amz-checksum-mode: ENABLED).
constexpr std::pair<const char*, const char*> kChecksumHeaders[] = {
    {"x-amz-checksum-crc32", "crc32"},         {"x-amz-checksum-crc32c", "crc32c"},
    {"x-amz-checksum-crc64nvme", "crc64nvme"}, {"x-amz-checksum-sha1", "sha1"},
    {"x-amz-checksum-sha256", "sha256"},
};

size_t DigestBytes(std::string_view algorithm) {
  if (algorithm == "md5") return 16;
  if (algorithm == "sha1") return 20;
  if (algorithm == "sha256") return 32;
  if (algorithm == "crc32" || algorithm == "crc32c") return 4;
  if (algorithm == "crc64nvme") return 8;
  return 0;
}

// The ETag of a single-part upload is the MD5 of the bytes, except for objects encrypted with
// SSE-KMS or SSE-C (AWS, Ceph RGW), or GCS customer-supplied keys: then it is something else.
bool EtagIsMd5(const http::HttpResponse& r, std::string_view etag) {
  if (etag.size() != 32 || !IsHex(etag)) return false;  // "-N": a multipart ETag
  auto sse = r.Header("x-amz-server-side-encryption");
  if (sse && Lower(*sse).rfind("aws:kms", 0) == 0) return false;
  if (r.Header("x-amz-server-side-encryption-customer-algorithm")) return false;
  if (r.Header("x-goog-encryption-algorithm")) return false;
  return true;
}

// x-amz-checksum-<alg>: base64, "-N" when composite. Malformed values are errors: a server
// that sends a checksum must send one that can be checked.
Status AddFlexibleChecksums(const http::HttpResponse& r, ObjectInfo& info,
                            std::optional<std::string>* full_sha256) {
  auto type = r.Header("x-amz-checksum-type");
  for (const auto& [header, algorithm] : kChecksumHeaders) {
    auto value = r.Header(header);
    if (!value || value->empty()) continue;
    std::string b64 = *value;
    uint32_t parts = 0;
    if (size_t dash = b64.rfind('-'); dash != std::string::npos) {
      auto n = StrictCount(std::string_view(b64).substr(dash + 1));
      if (!n || *n < 1 || *n > 10'000) {
        return MalformedResponseError(std::string(header) + " \"" + b64.substr(0, 80) +
                                      "\" has a malformed part count");
      }
      parts = static_cast<uint32_t>(*n);
      b64.resize(dash);
    }
    const bool composite = type ? Lower(*type) == "composite" : parts > 0;
    if (composite && parts == 0) {
      auto mp = r.Header("x-amz-mp-parts-count");
      auto n = mp ? StrictCount(*mp) : std::nullopt;
      if (!n || *n < 1 || *n > 10'000) continue;  // a composite we cannot split: not offered
      parts = static_cast<uint32_t>(*n);
    }
    std::string raw;
    if (!crypto::Base64Decode(b64, &raw) || raw.size() != DigestBytes(algorithm)) {
      return MalformedResponseError(std::string(header) + " \"" + b64.substr(0, 80) +
                                    "\" is not a base64 " + algorithm + " digest");
    }
    if (!composite && std::string_view(algorithm) == "sha256") {
      *full_sha256 = crypto::HexEncode(raw);
      continue;
    }
    OfferedDigest d;
    d.algorithm = algorithm;
    d.value = std::move(raw);
    d.origin = header;
    d.part_count = composite ? parts : 0;
    info.digests.push_back(std::move(d));
  }
  return Status();
}

// x-goog-hash: "crc32c=<base64>,md5=<base64>" (GCS).
void AddGoogHash(const http::HttpResponse& r, ObjectInfo& info) {
  for (const auto& [name, value] : r.headers) {
    if (name != "x-goog-hash") continue;
    size_t start = 0;
    while (start < value.size()) {
      size_t comma = value.find(',', start);
      if (comma == std::string::npos) comma = value.size();
      std::string item = value.substr(start, comma - start);
      start = comma + 1;
      while (!item.empty() && item.front() == ' ') item.erase(0, 1);
      size_t eq = item.find('=');
      if (eq == std::string::npos) continue;
      std::string algorithm = Lower(item.substr(0, eq));
      std::string raw;
      if ((algorithm != "crc32c" && algorithm != "md5") ||
          !crypto::Base64Decode(item.substr(eq + 1), &raw) ||
          raw.size() != DigestBytes(algorithm)) {
        continue;
      }
      info.digests.push_back({algorithm, raw, "x-goog-hash " + algorithm, 0, 0});
    }
  }
}

}  // namespace

Result<ObjectInfo> ObjectInfoFromHeaders(std::string key, const http::HttpResponse& r) {
  ObjectInfo info;
  info.key = std::move(key);
  auto range = r.Header("content-range");
  size_t slash = range ? range->rfind('/') : std::string::npos;
  if (slash != std::string::npos && range->substr(slash + 1) != "*") {
    auto total = StrictCount(std::string_view(*range).substr(slash + 1));
    if (!total)
      return MalformedResponseError("malformed Content-Range \"" + range->substr(0, 80) + "\"");
    info.size = *total;
  } else if (auto len = r.Header("content-length")) {
    auto n = StrictCount(*len);
    if (!n)
      return MalformedResponseError("malformed Content-Length \"" + len->substr(0, 80) + "\"");
    info.size = *n;
  }
  if (auto etag = r.Header("etag")) {
    info.etag = *etag;
    if (info.etag.size() >= 2 && info.etag.front() == '"' && info.etag.back() == '"') {
      info.etag = info.etag.substr(1, info.etag.size() - 2);
    }
  }
  for (const auto& [name, value] : r.headers) {
    if (name.size() > kMetaHeaderPrefix.size() &&
        std::string_view(name).substr(0, kMetaHeaderPrefix.size()) == kMetaHeaderPrefix) {
      info.metadata[name.substr(kMetaHeaderPrefix.size())] = value;
    }
  }
  if (auto it = info.metadata.find(kMetaMtime); it != info.metadata.end()) {
    info.mtime_ns = ParseMtime(it->second);
  }
  if (!info.mtime_ns) {
    if (auto lm = r.Header("last-modified")) info.mtime_ns = ParseHttpDate(*lm);
  }
  std::optional<std::string> checksum_sha256;
  DC_RETURN_IF_ERROR(AddFlexibleChecksums(r, info, &checksum_sha256));
  if (checksum_sha256) {
    // Computed by the server as the bytes arrived: it wins over metadata anyone could set.
    info.sha256 = *checksum_sha256;
  } else if (auto it = info.metadata.find(kMetaSha256);
             it != info.metadata.end() && crypto::IsSha256Hex(it->second)) {
    info.sha256 = Lower(it->second);
  }
  if (EtagIsMd5(r, info.etag)) {
    std::string raw;
    crypto::HexDecode(Lower(info.etag), &raw);
    info.digests.push_back({"md5", raw, "ETag", 0, 0});
  }
  // rclone records the MD5 of objects it uploads in parts (whose ETag is no MD5).
  if (auto it = info.metadata.find(kMetaRcloneMd5); it != info.metadata.end()) {
    std::string raw;
    if (crypto::Base64Decode(it->second, &raw) && raw.size() == 16) {
      info.digests.push_back({"md5", raw, "x-amz-meta-md5chksum", 0, 0});
    }
  }
  AddGoogHash(r, info);
  return info;
}

}  // namespace datacube::storage::s3
