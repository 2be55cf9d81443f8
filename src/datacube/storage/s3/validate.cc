#include "datacube/storage/s3/validate.h"

#include <string>

namespace datacube::storage::s3 {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool EndsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

bool LooksLikeIpv4(std::string_view s) {
  int dots = 0;
  for (char c : s) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

Status Bad(std::string_view bucket, std::string_view rule) {
  return InvalidArgumentError("invalid bucket name \"" + std::string(bucket) +
                              "\": " + std::string(rule));
}

// Custom servers: only what could break a URL or a request line is refused.
Status CheckCustomName(std::string_view b) {
  if (b.size() > 255) return Bad(b, "longer than 255 characters");
  for (unsigned char c : b) {
    if (c <= ' ' || c == '/' || c == 0x7f) {
      return Bad(b, "contains '/', a space or a control character");
    }
  }
  return Status();
}

// The length (GCS allows longer names when they hold dots) and the alphabet of each provider.
Status CheckLengthAndCharacters(std::string_view b, BucketRules rules) {
  const bool gcs = rules == BucketRules::kGcs;
  const size_t max = gcs && b.find('.') != std::string_view::npos ? 222 : 63;
  if (b.size() < 3 || b.size() > max) {
    return Bad(b, "must be 3 to " + std::to_string(max) + " characters long");
  }
  for (char c : b) {
    bool ok = IsLowerAlnum(c) || c == '-' || (c == '.' && rules != BucketRules::kCoreWeave) ||
              (c == '_' && gcs);
    if (!ok) {
      std::string allowed = rules == BucketRules::kCoreWeave ? "a-z 0-9 and '-' (no dots, no "
                                                               "underscores, no capitals)"
                            : gcs                            ? "a-z 0-9 '-', '_' and '.'"
                                  : "a-z 0-9 '-' and '.' (no underscores, no capitals)";
      return Bad(b, "may contain only " + allowed);
    }
  }
  return Status();
}

// Rules every provider shares: the name must read as one DNS label or dotted host name, not an
// address or an internationalised (punycode) name.
Status CheckShape(std::string_view b) {
  if (!IsLowerAlnum(b.front()) || !IsLowerAlnum(b.back())) {
    return Bad(b, "must start and end with a letter or a digit");
  }
  if (b.find("..") != std::string_view::npos) return Bad(b, "must not contain \"..\"");
  if (LooksLikeIpv4(b)) return Bad(b, "must not look like an IP address");
  if (StartsWith(b, "xn--")) return Bad(b, "must not start with \"xn--\"");
  return Status();
}

// AWS reserves these for its own access points and aliases.
Status CheckAwsReserved(std::string_view b) {
  if (StartsWith(b, "sthree-")) return Bad(b, "must not start with \"sthree-\"");
  if (EndsWith(b, "-s3alias") || EndsWith(b, "--ol-s3")) {
    return Bad(b, "must not end with \"-s3alias\" or \"--ol-s3\"");
  }
  return Status();
}

Status CheckCoreWeaveReserved(std::string_view b) {
  for (std::string_view reserved : {"cw-", "vip-", "log-stitcher-ch-"}) {
    if (StartsWith(b, reserved)) {
      return Bad(b, "the prefix \"" + std::string(reserved) + "\" is reserved by CoreWeave");
    }
  }
  if (b == "int") return Bad(b, "\"int\" is reserved by CoreWeave");
  return Status();
}

// GCS: not "goog...", and each dot-separated part at most 63 characters (a DNS label).
Status CheckGcsNameParts(std::string_view b) {
  if (StartsWith(b, "goog")) return Bad(b, "must not start with \"goog\"");
  size_t start = 0;
  while (start <= b.size()) {
    size_t dot = b.find('.', start);
    if (dot == std::string_view::npos) dot = b.size();
    if (dot - start > 63) return Bad(b, "each dot-separated part must be at most 63 characters");
    start = dot + 1;
  }
  return Status();
}

}  // namespace

Status ValidateBucketName(std::string_view b, BucketRules rules) {
  if (b.empty()) return Bad(b, "the bucket name is empty");
  if (rules == BucketRules::kCustom) return CheckCustomName(b);
  DC_RETURN_IF_ERROR(CheckLengthAndCharacters(b, rules));
  DC_RETURN_IF_ERROR(CheckShape(b));
  switch (rules) {
    case BucketRules::kAws:
      return CheckAwsReserved(b);
    case BucketRules::kCoreWeave:
      return CheckCoreWeaveReserved(b);
    case BucketRules::kGcs:
      return CheckGcsNameParts(b);
    case BucketRules::kCustom:
      break;
  }
  return Status();
}

Status ValidateObjectKey(std::string_view key) {
  if (key.empty()) return InvalidArgumentError("an object key must not be empty");
  if (key.size() > kMaxObjectKeyBytes) {
    return InvalidArgumentError("object key \"" + std::string(key.substr(0, 64)) + "...\" is " +
                                std::to_string(key.size()) + " bytes; S3 allows at most " +
                                std::to_string(kMaxObjectKeyBytes));
  }
  return Status();
}

}  // namespace datacube::storage::s3
