#include "datacube/storage/s3/sigv4_signer.h"

#include <algorithm>
#include <ctime>
#include <map>

#include "datacube/crypto/hmac.h"
#include "datacube/crypto/sha256.h"
#include "datacube/location/location.h"

namespace datacube::storage::s3 {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes; a malformed escape is kept literally (it is then encoded as "%25..."),
// so signing never fails on odd input and the server sees the same bytes we signed.
std::string LenientPercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]);
      int lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// Removes "." and ".." segments and empty segments (duplicate slashes), keeping a trailing '/'.
std::string NormalizePath(std::string_view path) {
  std::vector<std::string_view> segments;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view seg = path.substr(pos, slash - pos);
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
    }
    pos = slash + 1;
  }
  std::string out;
  for (auto seg : segments) {
    out += '/';
    out += seg;
  }
  bool trailing = !path.empty() && (path.back() == '/' ||
                                    (path.size() >= 2 && path.substr(path.size() - 2) == "/.") ||
                                    (path.size() >= 3 && path.substr(path.size() - 3) == "/.."));
  if (out.empty() || trailing) out += '/';
  return out;
}

std::string HmacHex(std::string_view key, std::string_view data) {
  return crypto::HexEncode(crypto::HmacSha256(key, data));
}

// Trims the value and collapses every run of whitespace (including folded line breaks) into one
// space, as SigV4 requires.
std::string NormalizeHeaderValue(std::string_view v) {
  std::string out;
  bool pending_space = false;
  for (char c : v) {
    bool space = c == ' ' || c == '\t' || c == '\r' || c == '\n';
    if (space) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string FormatAmzDate(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[20];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string UriEncode(std::string_view s, bool keep_slash) {
  // SigV4's encoding is RFC 3986 with upper-case hex: exactly location's PercentEncode.
  return PercentEncode(s, keep_slash);
}

std::string CanonicalUri(std::string_view wire_path, const SigV4Config& config) {
  std::string path = wire_path.empty() ? std::string("/") : std::string(wire_path);
  if (config.normalize_path) path = NormalizePath(path);
  // Without double encoding, the canonical form is the single encoding of the decoded path,
  // which equals a correctly encoded wire path and repairs raw characters.
  if (!config.double_encode) return UriEncode(LenientPercentDecode(path), true);
  return UriEncode(path, true);
}

std::string CanonicalQuery(std::string_view wire_query) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t pos = 0;
  while (pos <= wire_query.size() && !wire_query.empty()) {
    size_t amp = wire_query.find('&', pos);
    if (amp == std::string_view::npos) amp = wire_query.size();
    std::string_view item = wire_query.substr(pos, amp - pos);
    if (!item.empty()) {
      size_t eq = item.find('=');
      std::string_view name = item.substr(0, eq);
      std::string_view value = eq == std::string_view::npos ? "" : item.substr(eq + 1);
      params.emplace_back(UriEncode(LenientPercentDecode(name), false),
                          UriEncode(LenientPercentDecode(value), false));
    }
    pos = amp + 1;
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

std::pair<std::string, std::string> CanonicalHeaders(const HeaderList& headers) {
  std::map<std::string, std::string> merged;  // sorted by lower-case name
  for (const auto& [name, value] : headers) {
    std::string key = Lower(name);
    std::string v = NormalizeHeaderValue(value);
    auto [it, inserted] = merged.emplace(key, v);
    if (!inserted) it->second += "," + v;
  }
  std::string block, signed_headers;
  for (const auto& [name, value] : merged) {
    block += name + ":" + value + "\n";
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += name;
  }
  return {block, signed_headers};
}

SigV4Signature ComputeSignature(const SigV4Request& request, const AwsCredentials& credentials,
                                const SigV4Config& config, std::string_view amz_date) {
  SigV4Signature sig;
  auto [header_block, signed_headers] = CanonicalHeaders(request.headers);
  sig.signed_headers = signed_headers;
  sig.canonical_request = request.method + "\n" + CanonicalUri(request.path, config) + "\n" +
                          CanonicalQuery(request.query) + "\n" + header_block + "\n" +
                          signed_headers + "\n" + request.payload_hash;
  std::string_view date = amz_date.substr(0, 8);
  sig.credential_scope =
      std::string(date) + "/" + config.region + "/" + config.service + "/aws4_request";
  sig.string_to_sign = std::string(kAlgorithm) + "\n" + std::string(amz_date) + "\n" +
                       sig.credential_scope + "\n" + crypto::Sha256Hex(sig.canonical_request);
  std::string key = crypto::HmacSha256("AWS4" + credentials.secret_access_key.reveal(), date);
  key = crypto::HmacSha256(key, config.region);
  key = crypto::HmacSha256(key, config.service);
  key = crypto::HmacSha256(key, "aws4_request");
  sig.signature = HmacHex(key, sig.string_to_sign);
  return sig;
}

SigV4Signature SignHeaders(SigV4Request& request, const AwsCredentials& credentials,
                           const SigV4Config& config, std::string_view amz_date) {
  request.headers.emplace_back("x-amz-date", std::string(amz_date));
  const bool token = !credentials.session_token.empty();
  if (token && config.sign_session_token) {
    request.headers.emplace_back("x-amz-security-token", credentials.session_token.reveal());
  }
  SigV4Signature sig = ComputeSignature(request, credentials, config, amz_date);
  if (token && !config.sign_session_token) {
    request.headers.emplace_back("x-amz-security-token", credentials.session_token.reveal());
  }
  return sig;
}

std::string AuthorizationHeader(const SigV4Signature& signature, std::string_view access_key_id) {
  return std::string(kAlgorithm) + " Credential=" + std::string(access_key_id) + "/" +
         signature.credential_scope + ", SignedHeaders=" + signature.signed_headers +
         ", Signature=" + signature.signature;
}

Result<std::string> PresignQuery(const SigV4Request& request, const AwsCredentials& credentials,
                                 const SigV4Config& config, std::string_view amz_date,
                                 int64_t expires_seconds, SigV4Signature* signature) {
  if (expires_seconds < 1 || expires_seconds > kMaxPresignSeconds) {
    return InvalidArgumentError("a presigned URL must expire in 1 to " +
                                std::to_string(kMaxPresignSeconds) + " seconds (7 days), not " +
                                std::to_string(expires_seconds));
  }
  const std::string signed_headers = CanonicalHeaders(request.headers).second;
  const std::string scope = std::string(amz_date.substr(0, 8)) + "/" + config.region + "/" +
                            config.service + "/aws4_request";
  std::string query = request.query;
  auto add = [&](std::string_view name, std::string_view value) {
    if (!query.empty()) query += '&';
    query += std::string(name) + "=" + UriEncode(value, false);
  };
  add("X-Amz-Algorithm", kAlgorithm);
  add("X-Amz-Credential", credentials.access_key_id + "/" + scope);
  add("X-Amz-Date", amz_date);
  add("X-Amz-Expires", std::to_string(expires_seconds));
  add("X-Amz-SignedHeaders", signed_headers);
  const bool token = !credentials.session_token.empty();
  if (token && config.sign_session_token) {
    add("X-Amz-Security-Token", credentials.session_token.reveal());
  }
  SigV4Request to_sign = request;
  to_sign.query = query;
  SigV4Signature sig = ComputeSignature(to_sign, credentials, config, amz_date);
  std::string out = CanonicalQuery(query) + "&X-Amz-Signature=" + sig.signature;
  if (token && !config.sign_session_token) {
    out += "&X-Amz-Security-Token=" + UriEncode(credentials.session_token.reveal(), false);
  }
  if (signature != nullptr) *signature = std::move(sig);
  return out;
}

}  // namespace datacube::storage::s3
