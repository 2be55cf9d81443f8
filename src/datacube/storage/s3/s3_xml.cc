#include "datacube/storage/s3/s3_xml.h"

#include <cctype>
#include <cstdlib>
#include <ctime>
#include <pugixml.hpp>

#include "datacube/storage/s3/s3_listing.h"

namespace datacube::storage::s3 {
namespace {

Status Load(pugi::xml_document& doc, std::string_view xml, std::string_view what) {
  pugi::xml_parse_result r = doc.load_buffer(xml.data(), xml.size());
  if (!r) {
    return MalformedResponseError("malformed " + std::string(what) + " response from the server (" +
                                  r.description() + " at byte " + std::to_string(r.offset) + ")");
  }
  return Status();
}

Result<pugi::xml_node> Root(pugi::xml_document& doc, std::string_view xml, std::string_view name) {
  DC_RETURN_IF_ERROR(Load(doc, xml, name));
  pugi::xml_node root = doc.child(std::string(name).c_str());
  if (!root) {
    return MalformedResponseError("expected a <" + std::string(name) +
                                  "> document from the server, got <" +
                                  std::string(doc.first_child().name()) + ">");
  }
  return root;
}

std::string Text(const pugi::xml_node& node, const char* child) {
  return node.child(child).text().as_string();
}

std::string Unquote(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// encoding-type=url: AWS encodes like an HTML form ('+' for a space); others use %20. Both
// decode the same way because a literal '+' is always sent as %2B.
std::string UrlDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 &&
               HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// A byte count or part number exactly as S3 writes it: decimal digits only, at most 2^63 - 1.
// pugixml's as_ullong() reads "-5", "abc" and "" as 0 and wraps large values: an empty file
// would land where the server promised something else.
Result<uint64_t> Count(const pugi::xml_node& node, const char* child, std::string_view entry) {
  const std::string text = Text(node, child);
  auto bad = [&](std::string_view why) -> Status {
    return MalformedResponseError("<" + std::string(child) + "> of " + std::string(entry) + " is " +
                                  QuoteKey(text.substr(0, 40)) + (text.size() > 40 ? "..." : "") +
                                  ": " + std::string(why));
  };
  if (text.empty()) return bad("empty, not a number");
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return bad("not a decimal number");
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (v > (static_cast<uint64_t>(INT64_MAX) - digit) / 10) return bad("too large");
    v = v * 10 + digit;
  }
  return v;
}

bool IsTrue(const pugi::xml_node& node, const char* child) {
  std::string v = Text(node, child);
  return v == "true" || v == "True" || v == "TRUE";
}

class StringWriter final : public pugi::xml_writer {
 public:
  void write(const void* data, size_t size) override {
    out.append(static_cast<const char*>(data), size);
  }
  std::string out;
};

std::string Print(const pugi::xml_document& doc) {
  StringWriter w;
  doc.save(w, "", pugi::format_raw | pugi::format_no_declaration, pugi::encoding_utf8);
  return w.out;
}

}  // namespace

std::optional<S3ErrorDocument> ParseErrorDocument(std::string_view xml) {
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size())) return std::nullopt;
  pugi::xml_node e = doc.child("Error");
  if (!e) return std::nullopt;
  S3ErrorDocument d;
  d.code = Text(e, "Code");
  d.message = Text(e, "Message");
  d.request_id = Text(e, "RequestId");
  d.host_id = Text(e, "HostId");
  d.bucket = Text(e, "BucketName");
  if (d.bucket.empty()) d.bucket = Text(e, "Bucket");
  d.key = Text(e, "Key");
  d.region = Text(e, "Region");
  d.endpoint = Text(e, "Endpoint");
  return d;
}

Result<ListObjectsPage> ParseListObjectsV2(std::string_view xml) {
  pugi::xml_document doc;
  DC_ASSIGN_OR_RETURN(pugi::xml_node root, Root(doc, xml, "ListBucketResult"));
  const bool url_encoded = Text(root, "EncodingType") == "url";
  auto decode = [&](std::string s) { return url_encoded ? UrlDecode(s) : s; };
  ListObjectsPage page;
  for (pugi::xml_node c : root.children("Contents")) {
    ListedObject o;
    o.key = decode(Text(c, "Key"));
    auto size = Count(c, "Size", "key " + QuoteKey(o.key.substr(0, 200)));
    if (!size.ok()) return size.status();
    o.size = *size;
    o.etag = Unquote(Text(c, "ETag"));
    o.last_modified_ns = ParseIso8601(Text(c, "LastModified"));
    page.objects.push_back(std::move(o));
  }
  for (pugi::xml_node p : root.children("CommonPrefixes")) {
    page.common_prefixes.push_back(decode(Text(p, "Prefix")));
  }
  page.truncated = IsTrue(root, "IsTruncated");
  page.next_continuation_token = Text(root, "NextContinuationToken");
  if (page.truncated && page.next_continuation_token.empty()) {
    return MalformedResponseError(
        "the server said the listing continues but sent no continuation token");
  }
  return page;
}

Result<std::string> ParseInitiateMultipartUpload(std::string_view xml) {
  pugi::xml_document doc;
  DC_ASSIGN_OR_RETURN(pugi::xml_node root, Root(doc, xml, "InitiateMultipartUploadResult"));
  std::string id = Text(root, "UploadId");
  if (id.empty())
    return MalformedResponseError("the server started a multipart upload without an id");
  return id;
}

Result<ListPartsPage> ParseListParts(std::string_view xml) {
  pugi::xml_document doc;
  DC_ASSIGN_OR_RETURN(pugi::xml_node root, Root(doc, xml, "ListPartsResult"));
  ListPartsPage page;
  for (pugi::xml_node p : root.children("Part")) {
    ListedPart part;
    DC_ASSIGN_OR_RETURN(uint64_t number, Count(p, "PartNumber", "a part"));
    if (number < 1 || number > 10'000) {
      return MalformedResponseError("<PartNumber> " + std::to_string(number) +
                                    " is outside 1..10000");
    }
    part.number = static_cast<uint32_t>(number);
    DC_ASSIGN_OR_RETURN(part.size, Count(p, "Size", "part " + std::to_string(number)));
    part.etag = Unquote(Text(p, "ETag"));
    part.checksum_sha256 = Text(p, "ChecksumSHA256");
    page.parts.push_back(std::move(part));
  }
  page.truncated = IsTrue(root, "IsTruncated");
  page.next_part_number_marker = Text(root, "NextPartNumberMarker");
  return page;
}

Result<ListUploadsPage> ParseListMultipartUploads(std::string_view xml) {
  pugi::xml_document doc;
  DC_ASSIGN_OR_RETURN(pugi::xml_node root, Root(doc, xml, "ListMultipartUploadsResult"));
  const bool url_encoded = Text(root, "EncodingType") == "url";
  auto decode = [&](std::string s) { return url_encoded ? UrlDecode(s) : s; };
  ListUploadsPage page;
  for (pugi::xml_node u : root.children("Upload")) {
    ListedUpload up;
    up.key = decode(Text(u, "Key"));
    up.upload_id = Text(u, "UploadId");
    up.initiated_ns = ParseIso8601(Text(u, "Initiated"));
    page.uploads.push_back(std::move(up));
  }
  page.truncated = IsTrue(root, "IsTruncated");
  page.next_key_marker = decode(Text(root, "NextKeyMarker"));
  page.next_upload_id_marker = Text(root, "NextUploadIdMarker");
  return page;
}

Result<std::vector<DeleteFailure>> ParseDeleteResult(std::string_view xml) {
  pugi::xml_document doc;
  DC_ASSIGN_OR_RETURN(pugi::xml_node root, Root(doc, xml, "DeleteResult"));
  std::vector<DeleteFailure> failures;
  for (pugi::xml_node e : root.children("Error")) {
    failures.push_back({Text(e, "Key"), Text(e, "Code"), Text(e, "Message")});
  }
  return failures;
}

Result<std::string> ParseResultEtag(std::string_view xml, std::string_view root_name) {
  pugi::xml_document doc;
  DC_ASSIGN_OR_RETURN(pugi::xml_node root, Root(doc, xml, root_name));
  return Unquote(Text(root, "ETag"));
}

std::string BuildCompleteMultipartUploadXml(const std::vector<CompletedPartXml>& parts) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("CompleteMultipartUpload");
  root.append_attribute("xmlns") = "http://s3.amazonaws.com/doc/2006-03-01/";
  for (const auto& p : parts) {
    pugi::xml_node part = root.append_child("Part");
    part.append_child("PartNumber").text().set(p.number);
    std::string etag = p.etag;
    if (etag.empty() || etag.front() != '"') etag = "\"" + etag + "\"";
    part.append_child("ETag").text().set(etag.c_str());
    if (!p.checksum_sha256.empty()) {
      part.append_child("ChecksumSHA256").text().set(p.checksum_sha256.c_str());
    }
  }
  return Print(doc);
}

std::string BuildDeleteXml(const std::vector<std::string>& keys) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("Delete");
  root.append_attribute("xmlns") = "http://s3.amazonaws.com/doc/2006-03-01/";
  root.append_child("Quiet").text().set("true");
  for (const auto& k : keys) {
    root.append_child("Object").append_child("Key").text().set(k.c_str());
  }
  return Print(doc);
}

std::string BuildCreateBucketXml(std::string_view region) {
  if (region.empty() || region == "us-east-1") return "";
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("CreateBucketConfiguration");
  root.append_attribute("xmlns") = "http://s3.amazonaws.com/doc/2006-03-01/";
  root.append_child("LocationConstraint").text().set(std::string(region).c_str());
  return Print(doc);
}

namespace {

// The fixed-width decimal field text[pos, pos + n); -1 unless every character is a digit.
int FixedDigits(std::string_view text, size_t pos, size_t n) {
  int value = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

}  // namespace

std::optional<int64_t> ParseIso8601(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fff...]Z, read strictly: the text comes from the server, and a sign,
  // a short field or an out-of-range value must not turn into a time (or overflow the
  // nanoseconds, which reach from 1677 to 2262 only).
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':') {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = FixedDigits(text, 0, 4);
  tm.tm_mon = FixedDigits(text, 5, 2);
  tm.tm_mday = FixedDigits(text, 8, 2);
  tm.tm_hour = FixedDigits(text, 11, 2);
  tm.tm_min = FixedDigits(text, 14, 2);
  tm.tm_sec = FixedDigits(text, 17, 2);
  if (tm.tm_year < 1678 || tm.tm_year > 2261 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
      tm.tm_mday > 31 || tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59 ||
      tm.tm_sec < 0 || tm.tm_sec > 60) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  int64_t secs = timegm(&tm);
  int64_t nanos = 0;
  if (text[19] == '.') {
    int64_t scale = 100'000'000;
    for (size_t i = 20; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
      nanos += (text[i] - '0') * scale;
      scale /= 10;
    }
  }
  return secs * 1'000'000'000 + nanos;
}

}  // namespace datacube::storage::s3
