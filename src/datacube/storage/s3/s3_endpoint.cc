#include "datacube/storage/s3/s3_endpoint.h"

#include "datacube/http/http_transport.h"
#include "datacube/storage/s3/sigv4_signer.h"
#include "datacube/storage/s3/validate.h"

namespace datacube::storage::s3 {
namespace {

bool EndsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

// The host itself or any subdomain of it.
bool IsHostOrSubdomain(std::string_view host, std::string_view domain) {
  return host == domain || EndsWith(host, "." + std::string(domain));
}

bool IsAwsHost(std::string_view host) { return IsHostOrSubdomain(host, "amazonaws.com"); }
bool IsCoreWeaveHost(std::string_view host) {
  return IsHostOrSubdomain(host, "cwobject.com") || IsHostOrSubdomain(host, "cwlota.com");
}

Result<S3Endpoint> ParseEndpointUrl(const std::string& url, std::string_view what) {
  http::UrlParts parts;
  if (!http::ParseUrl(url, &parts) || (parts.scheme != "http" && parts.scheme != "https")) {
    return InvalidArgumentError(std::string(what) + " \"" + url +
                                "\" is not an endpoint URL; expected http(s)://host[:port]");
  }
  if (parts.path != "/" || !parts.query.empty()) {
    return InvalidArgumentError(std::string(what) + " \"" + url +
                                "\" must not contain a path or query; give only "
                                "http(s)://host[:port] (the bucket comes from the location)");
  }
  S3Endpoint e;
  e.scheme = parts.scheme;
  e.host = parts.host;
  for (auto& c : e.host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  e.port = parts.port;
  if ((e.scheme == "https" && e.port == 443) || (e.scheme == "http" && e.port == 80)) e.port = 0;
  return e;
}

}  // namespace

Result<Addressing> ParseAddressing(std::string_view text, std::string_view option) {
  if (text.empty() || text == "auto") return Addressing::kAuto;
  if (text == "path") return Addressing::kPath;
  if (text == "virtual" || text == "virtual-hosted") return Addressing::kVirtual;
  return InvalidArgumentError(std::string(option) + ": \"" + std::string(text) +
                              "\" is not one of auto, path, virtual");
}

std::string S3Endpoint::Display() const {
  std::string out = scheme + "://" + host;
  if (port != 0) out += ":" + std::to_string(port);
  return out;
}

std::string S3Endpoint::HostFor(std::string_view bucket) const {
  std::string h = virtual_hosted && !bucket.empty() ? std::string(bucket) + "." + host : host;
  if (port != 0) h += ":" + std::to_string(port);
  return h;
}

std::string S3Endpoint::PathFor(std::string_view bucket, std::string_view key) const {
  std::string path;
  if (!virtual_hosted && !bucket.empty()) {
    path = "/" + UriEncode(bucket, false);
    if (key.empty()) return path;
  }
  // "." and ".." segments are valid in S3 keys, but HTTP clients (curl among them) remove them
  // from URLs as RFC 3986 dot segments. Percent-encoded dots reach the server unchanged; it
  // decodes them, so the key and the signature (computed on the decoded path) still match.
  std::string encoded = UriEncode(key, true);
  std::string out = path;
  size_t pos = 0;
  while (pos <= encoded.size()) {
    size_t slash = encoded.find('/', pos);
    if (slash == std::string::npos) slash = encoded.size();
    std::string_view seg = std::string_view(encoded).substr(pos, slash - pos);
    out += '/';
    out += seg == "." ? "%2E" : seg == ".." ? "%2E%2E" : std::string(seg);
    pos = slash + 1;
  }
  return out;
}

std::string S3Endpoint::UrlFor(std::string_view bucket, std::string_view key,
                               std::string_view query) const {
  std::string url = scheme + "://" + HostFor(bucket) + PathFor(bucket, key);
  if (!query.empty()) url += "?" + std::string(query);
  return url;
}

Result<S3Endpoint> ResolveEndpoint(const EndpointSettings& s) {
  S3Endpoint e;
  BucketRules rules = BucketRules::kCustom;
  switch (s.scheme) {
    case Scheme::kCoreWeave: {
      std::string url = s.endpoint;
      if (url.empty() || url == "public") url = std::string(kCoreWeavePublicEndpoint);
      if (url == "lota") url = std::string(kCoreWeaveLotaEndpoint);
      DC_ASSIGN_OR_RETURN(e, ParseEndpointUrl(url, "CoreWeave endpoint"));
      if (s.region.empty()) {
        return InvalidArgumentError(
            "cw://" + s.bucket +
            ": CoreWeave signs requests with the bucket's availability zone as the region; set "
            "it with --region (e.g. --region US-EAST-04A), AWS_REGION or the profile's region");
      }
      e.region = s.region;
      // CoreWeave refuses path-style requests; only an explicit choice overrides that.
      e.virtual_hosted = s.addressing != Addressing::kPath;
      rules = BucketRules::kCoreWeave;
      break;
    }
    case Scheme::kGcs: {
      std::string url = s.endpoint.empty() ? std::string(kGcsEndpoint) : s.endpoint;
      DC_ASSIGN_OR_RETURN(e, ParseEndpointUrl(url, "GCS endpoint"));
      e.region = s.region.empty() ? std::string(kGcsRegion) : s.region;
      // Path-style works for every GCS bucket name, dotted ones included.
      e.virtual_hosted = s.addressing == Addressing::kVirtual;
      rules = e.host == "storage.googleapis.com" ? BucketRules::kGcs : BucketRules::kCustom;
      break;
    }
    default: {
      e.region = s.region.empty() ? std::string(kDefaultAwsRegion) : s.region;
      if (s.endpoint.empty()) {
        e.scheme = "https";
        e.host = "s3." + e.region + ".amazonaws.com";
        e.aws_default = true;
      } else {
        DC_ASSIGN_OR_RETURN(e, ParseEndpointUrl(s.endpoint, "S3 endpoint"));
        e.region = s.region.empty() ? std::string(kDefaultAwsRegion) : s.region;
      }
      if (s.addressing == Addressing::kAuto) {
        // AWS and CoreWeave want virtual-hosted requests; a dotted bucket name cannot match
        // AWS's wildcard certificate, so it stays path-style over TLS. Custom servers (RGW,
        // MinIO, an IP or localhost) usually have no wildcard DNS: path-style.
        bool dotted_tls = e.scheme == "https" && s.bucket.find('.') != std::string::npos;
        e.virtual_hosted = (IsAwsHost(e.host) && !dotted_tls) || IsCoreWeaveHost(e.host);
      } else {
        e.virtual_hosted = s.addressing == Addressing::kVirtual;
      }
      rules = IsAwsHost(e.host)         ? BucketRules::kAws
              : IsCoreWeaveHost(e.host) ? BucketRules::kCoreWeave
                                        : BucketRules::kCustom;
      break;
    }
  }
  DC_RETURN_IF_ERROR(ValidateBucketName(s.bucket, rules));
  return e;
}

S3Endpoint AwsEndpointForRegion(const S3Endpoint& current, std::string_view region) {
  S3Endpoint e = current;
  e.region = std::string(region);
  if (current.aws_default) e.host = "s3." + e.region + ".amazonaws.com";
  return e;
}

}  // namespace datacube::storage::s3
