#include "datacube/storage/s3/s3_metadata.h"

#include <ctime>

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

ObjectInfo ObjectInfoFromHeaders(std::string key, const http::HttpResponse& r) {
  ObjectInfo info;
  info.key = std::move(key);
  auto range = r.Header("content-range");
  size_t slash = range ? range->rfind('/') : std::string::npos;
  if (slash != std::string::npos && range->substr(slash + 1) != "*") {
    info.size = std::strtoull(range->c_str() + slash + 1, nullptr, 10);
  } else if (auto len = r.Header("content-length")) {
    info.size = std::strtoull(len->c_str(), nullptr, 10);
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
  if (auto it = info.metadata.find(kMetaSha256);
      it != info.metadata.end() && crypto::IsSha256Hex(it->second)) {
    info.sha256 = it->second;
    for (auto& c : info.sha256) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  } else if (auto sum = r.Header("x-amz-checksum-sha256")) {
    auto type = r.Header("x-amz-checksum-type");
    bool full_object = type ? *type == "FULL_OBJECT" : sum->find('-') == std::string::npos;
    if (full_object) info.sha256 = Sha256Base64ToHex(*sum);
  }
  return info;
}

}  // namespace datacube::storage::s3
