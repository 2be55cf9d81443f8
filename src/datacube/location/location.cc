#include "datacube/location/location.h"

#include <cctype>

namespace datacube {
namespace {

struct UriParts {
  std::string_view scheme;     // without "://"
  std::string_view authority;  // up to the first '/', '?' or end
  std::string_view path;       // after the authority's '/', without it
  std::string_view query;      // after '?'
  bool has_query = false;
};

// The one generic splitter: "scheme://authority/path?query".
bool SplitUri(std::string_view text, UriParts& out) {
  size_t sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0) return false;
  out.scheme = text.substr(0, sep);
  std::string_view rest = text.substr(sep + 3);
  size_t end = rest.find_first_of("/?");
  out.authority = rest.substr(0, end);
  if (end == std::string_view::npos) return true;
  rest = rest.substr(end);
  if (rest[0] == '/') rest.remove_prefix(1);
  size_t q = rest.find('?');
  out.path = rest.substr(0, q);
  if (q != std::string_view::npos) {
    out.query = rest.substr(q + 1);
    out.has_query = true;
  }
  return true;
}

// Quotes `s` for an error message with control characters (NUL included) as \xHH.
std::string Quoted(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

Status Invalid(std::string_view text, std::string_view why) {
  return InvalidArgumentError("invalid location " + Quoted(text) + ": " + std::string(why));
}

Status RefuseCredentials(std::string_view scheme_text) {
  return InvalidArgumentError(
      "invalid location \"" + std::string(scheme_text) +
      "://***@…\": credentials do not belong in a location; pass them with --token, "
      "environment variables or a secrets directory");
}

bool IsPrintable(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

// Buckets: 1-255 printable characters without '/', spaces or '@'. Provider-specific rules
// (S3's 3-63 lowercase, CoreWeave's no-underscore) are checked by each backend's validator.
Status CheckBucket(std::string_view text, std::string_view bucket, std::string_view what) {
  if (bucket.empty()) return Invalid(text, std::string(what) + " name is missing");
  for (char c : bucket) {
    if (c == ' ' || c == '\\' || !IsPrintable(std::string_view(&c, 1))) {
      return Invalid(text, std::string(what) + " name \"" + std::string(bucket) +
                               "\" contains a character that is not allowed");
    }
  }
  return Status();
}

Result<Location> ParseBucketScheme(std::string_view text, Scheme scheme, const UriParts& u) {
  if (u.authority.find('@') != std::string_view::npos) return RefuseCredentials(u.scheme);
  if (u.has_query) return Invalid(text, "a query string is not allowed here");
  DC_RETURN_IF_ERROR(CheckBucket(text, u.authority, "bucket"));
  Location loc;
  loc.scheme = scheme;
  loc.authority = std::string(u.authority);
  loc.path = std::string(u.path);
  return loc;
}

Result<Location> ParseAzure(std::string_view text, const UriParts& u) {
  if (u.authority.find('@') != std::string_view::npos) return RefuseCredentials(u.scheme);
  DC_RETURN_IF_ERROR(CheckBucket(text, u.authority, "storage account"));
  Location loc;
  loc.scheme = Scheme::kAzure;
  loc.authority = std::string(u.authority);
  size_t slash = u.path.find('/');
  loc.container = std::string(u.path.substr(0, slash));
  if (loc.container.empty()) {
    return Invalid(text, "expected az://ACCOUNT/CONTAINER[/prefix]; the container is missing");
  }
  if (slash != std::string_view::npos) loc.path = std::string(u.path.substr(slash + 1));
  return loc;
}

Result<Location> ParsePvc(std::string_view text, const UriParts& u) {
  if (u.authority.empty()) return Invalid(text, "expected pvc://NAME[/subpath]");
  if (Status s = ValidatePvcName(u.authority); !s.ok()) return Invalid(text, s.message());
  if (Status s = ValidatePvcPath(u.path); !s.ok()) return Invalid(text, s.message());
  if (u.has_query) return Invalid(text, "a query string is not allowed here");
  Location loc;
  loc.scheme = Scheme::kPvc;
  loc.authority = std::string(u.authority);
  loc.path = std::string(u.path);
  return loc;
}

// Revisions may contain '/' only in the refs/pr/N and refs/convert/X forms; any other '/' must
// be written as %2F.
Result<Location> ParseHuggingFace(std::string_view text, const UriParts& u) {
  // Re-join authority and path: hf has no host part.
  std::string all(u.authority);
  if (!u.path.empty()) all += "/" + std::string(u.path);
  std::string_view s = all;
  Location loc;
  loc.scheme = Scheme::kHuggingFace;
  loc.repo_type = "model";
  for (auto [prefix, type] : {std::pair<std::string_view, std::string_view>{"models/", "model"},
                              {"datasets/", "dataset"},
                              {"spaces/", "space"}}) {
    if (s.substr(0, prefix.size()) == prefix) {
      loc.repo_type = std::string(type);
      s.remove_prefix(prefix.size());
      break;
    }
  }
  size_t slash = s.find('/');
  if (slash == std::string_view::npos || slash == 0) {
    return Invalid(text, "expected hf://[models/|datasets/|spaces/]ORG/NAME[@revision][/path]");
  }
  std::string_view org = s.substr(0, slash);
  s.remove_prefix(slash + 1);
  size_t name_end = s.find_first_of("@/");
  std::string_view name = s.substr(0, name_end);
  if (name.empty()) return Invalid(text, "the repository name is missing");
  loc.repo = std::string(org) + "/" + std::string(name);
  s.remove_prefix(name_end == std::string_view::npos ? s.size() : name_end);
  if (!s.empty() && s[0] == '@') {
    s.remove_prefix(1);
    size_t rev_end;
    if (s.substr(0, 8) == "refs/pr/" || s.substr(0, 13) == "refs/convert/") {
      size_t base = s.substr(0, 8) == "refs/pr/" ? 8 : 13;
      rev_end = s.find('/', base);
    } else {
      rev_end = s.find('/');
    }
    std::string_view raw = s.substr(0, rev_end);
    if (raw.empty()) return Invalid(text, "the revision after '@' is empty");
    DC_ASSIGN_OR_RETURN(loc.revision, PercentDecode(raw));
    s.remove_prefix(rev_end == std::string_view::npos ? s.size() : rev_end);
  }
  if (!s.empty() && s[0] == '/') s.remove_prefix(1);
  loc.path = std::string(s);
  return loc;
}

Result<Location> ParseGit(std::string_view text, const UriParts& u, bool tls) {
  if (u.authority.find('@') != std::string_view::npos) return RefuseCredentials(u.scheme);
  if (u.authority.empty()) return Invalid(text, "the host is missing");
  Location loc;
  loc.scheme = Scheme::kGit;
  loc.tls = tls;
  loc.authority = std::string(u.authority);
  std::string_view path = u.path;
  size_t at = path.rfind('@');
  if (at != std::string_view::npos) {
    loc.revision = std::string(path.substr(at + 1));
    path = path.substr(0, at);
    if (loc.revision.empty()) return Invalid(text, "the ref after '@' is empty");
  }
  if (path.empty()) return Invalid(text, "the repository path is missing");
  loc.repo = std::string(path);
  return loc;
}

Result<Location> ParseHttp(std::string_view text, const UriParts& u, bool tls) {
  if (u.authority.find('@') != std::string_view::npos) return RefuseCredentials(u.scheme);
  if (u.authority.empty()) return Invalid(text, "the host is missing");
  Location loc;
  loc.scheme = Scheme::kHttp;
  loc.tls = tls;
  loc.authority = std::string(u.authority);
  loc.path = std::string(u.path);
  loc.query = std::string(u.query);
  return loc;
}

}  // namespace

Status ValidatePvcName(std::string_view name) {
  auto bad = [&] {
    return InvalidArgumentError("PVC name " + Quoted(name) +
                                " must be a DNS-1123 name (lower-case letters, digits, '-' and "
                                "'.', starting and ending with a letter or digit)");
  };
  if (name.empty() || name.size() > 253) return bad();
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front()) || !alnum(name.back())) return bad();
  for (char c : name) {
    if (!alnum(c) && c != '-' && c != '.') return bad();
  }
  return Status();
}

Status ValidatePvcPath(std::string_view path) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError("the path " + Quoted(path) + " inside the PVC " + std::string(why));
  };
  for (unsigned char c : path) {
    if (c == 0) return bad("contains a NUL byte");
    if (c < 0x20 || c == 0x7f) return bad("contains a control character");
  }
  if (path.empty()) return Status();
  if (path.front() == '/') return bad("must be relative to the volume (it starts with '/')");
  std::string_view rest = path;
  if (rest.back() == '/') rest.remove_suffix(1);  // "dir/" names the directory
  size_t i = 0;
  while (i <= rest.size()) {
    size_t slash = rest.find('/', i);
    if (slash == std::string_view::npos) slash = rest.size();
    std::string_view seg = rest.substr(i, slash - i);
    if (seg == "..") return bad("must not contain \"..\": it would leave the volume");
    if (seg == ".") return bad("must not contain \".\" segments");
    if (seg.empty()) return bad("must not contain empty segments (\"//\")");
    i = slash + 1;
  }
  return Status();
}

std::string_view SchemeName(Scheme scheme) {
  switch (scheme) {
    case Scheme::kFile:
      return "file";
    case Scheme::kPvc:
      return "pvc";
    case Scheme::kS3:
      return "s3";
    case Scheme::kCoreWeave:
      return "cw";
    case Scheme::kGcs:
      return "gs";
    case Scheme::kAzure:
      return "az";
    case Scheme::kHuggingFace:
      return "hf";
    case Scheme::kGit:
      return "git+https";
    case Scheme::kHttp:
      return "https";
  }
  return "?";
}

std::string PercentEncode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    // RFC 3986 unreserved characters, ASCII only (isalnum would depend on the locale).
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

Result<std::string> PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      return InvalidArgumentError("malformed percent-escape in \"" + std::string(s) + "\"");
    }
    out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
    i += 2;
  }
  return out;
}

Result<Location> ParseLocation(std::string_view text) {
  if (text.empty()) return InvalidArgumentError("location is empty");
  if (!IsPrintable(text)) return Invalid(text, "contains control characters");
  UriParts u;
  if (!SplitUri(text, u)) {
    // No "scheme://": a local path. "C:..." and "host:path" (scp style) are not supported.
    Location loc;
    loc.scheme = Scheme::kFile;
    loc.path = std::string(text);
    return loc;
  }
  std::string scheme;
  for (char c : u.scheme) scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme == "file") {
    if (!u.authority.empty() && u.authority != "localhost") {
      return Invalid(text, "file:// locations must be local (file:///abs/path)");
    }
    Location loc;
    loc.scheme = Scheme::kFile;
    DC_ASSIGN_OR_RETURN(std::string decoded, PercentDecode(u.path));
    // An escape must not smuggle in what the text itself may not hold (a NUL would cut the
    // path short at the first system call).
    if (!IsPrintable(decoded)) return Invalid(text, "contains control characters");
    loc.path = "/" + decoded;
    return loc;
  }
  if (scheme == "pvc") return ParsePvc(text, u);
  if (scheme == "s3") return ParseBucketScheme(text, Scheme::kS3, u);
  if (scheme == "cw") {
    // The virtual-hosted form "cw://BUCKET.cwobject.com/prefix" names the same bucket; the
    // path-style form "cw://cwobject.com/BUCKET" is the mistake CoreWeave's docs warn about.
    if (u.authority == "cwobject.com" || u.authority == "cwlota.com") {
      return Invalid(text,
                     "CoreWeave addresses are virtual-hosted: write cw://BUCKET/prefix "
                     "(or cw://BUCKET.cwobject.com/prefix), not cw://cwobject.com/BUCKET");
    }
    UriParts stripped = u;
    for (std::string_view suffix : {".cwobject.com", ".cwlota.com"}) {
      if (u.authority.size() > suffix.size() &&
          u.authority.substr(u.authority.size() - suffix.size()) == suffix) {
        stripped.authority = u.authority.substr(0, u.authority.size() - suffix.size());
      }
    }
    return ParseBucketScheme(text, Scheme::kCoreWeave, stripped);
  }
  if (scheme == "gs") return ParseBucketScheme(text, Scheme::kGcs, u);
  if (scheme == "az") return ParseAzure(text, u);
  if (scheme == "hf") return ParseHuggingFace(text, u);
  if (scheme == "git+https") return ParseGit(text, u, true);
  if (scheme == "git+http") return ParseGit(text, u, false);
  if (scheme == "https") return ParseHttp(text, u, true);
  if (scheme == "http") return ParseHttp(text, u, false);
  return Invalid(text, "unknown scheme \"" + std::string(u.scheme) +
                           "\"; expected a path or one of file, pvc, s3, cw, gs, az, hf, "
                           "git+https, https");
}

namespace {

// "base/path", or `base` alone when there is no path.
std::string WithPath(std::string base, const std::string& path) {
  if (!path.empty()) base += "/" + path;
  return base;
}

std::string FileToString(const Location& l) {
  // A path holding "://" reads back as a URL; only the file:// form says it is a path.
  if (l.path.find("://") != std::string::npos && l.path.front() == '/') {
    return "file://" + PercentEncode(l.path, /*keep_slash=*/true);
  }
  return l.path;
}

std::string CoreWeaveToString(const Location& l) {
  // A bucket that itself ends in a CoreWeave host suffix is printed in the virtual-hosted
  // form, so that reading it back strips exactly the suffix added here.
  const std::string& bucket = l.authority;
  for (std::string_view host : {"cwobject.com", "cwlota.com"}) {
    if (bucket == host || (bucket.size() > host.size() && bucket.ends_with(host) &&
                           bucket[bucket.size() - host.size() - 1] == '.')) {
      return WithPath("cw://" + bucket + ".cwobject.com", l.path);
    }
  }
  return WithPath("cw://" + bucket, l.path);
}

// The revision as written after '@': refs/pr/N and refs/convert/X stay as they are when their
// tail has no '/' (the parser reads such a ref up to the next '/') and nothing in it needs
// encoding; any other revision is percent-encoded, '/' included. A tail with '%' or a control
// character must be encoded too, or the canonical form would decode to another revision or
// not parse at all.
std::string HfRevisionText(const std::string& revision) {
  bool slashy = revision.rfind("refs/pr/", 0) == 0 || revision.rfind("refs/convert/", 0) == 0;
  if (slashy) {
    std::string_view tail =
        std::string_view(revision).substr(revision.rfind("refs/pr/", 0) == 0 ? 8 : 13);
    if (PercentEncode(tail, /*keep_slash=*/false) == tail) return revision;
  }
  return PercentEncode(revision, false);
}

std::string HuggingFaceToString(const Location& l) {
  std::string out = "hf://";
  if (l.repo_type == "dataset") out += "datasets/";
  if (l.repo_type == "space") out += "spaces/";
  // A model whose organisation is named like a type prefix keeps its explicit "models/".
  if (l.repo_type == "model" && (l.repo.starts_with("models/") || l.repo.starts_with("datasets/") ||
                                 l.repo.starts_with("spaces/"))) {
    out += "models/";
  }
  out += l.repo;
  if (!l.revision.empty()) out += "@" + HfRevisionText(l.revision);
  return WithPath(out, l.path);
}

std::string GitToString(const Location& l) {
  std::string out =
      std::string(l.tls ? "git+https://" : "git+http://") + l.authority + "/" + l.repo;
  if (!l.revision.empty()) out += "@" + l.revision;
  return out;
}

std::string HttpToString(const Location& l) {
  std::string out = WithPath(std::string(l.tls ? "https://" : "http://") + l.authority, l.path);
  if (!l.query.empty()) out += "?" + l.query;
  return out;
}

}  // namespace

std::string Location::ToString() const {
  switch (scheme) {
    case Scheme::kFile:
      return FileToString(*this);
    case Scheme::kCoreWeave:
      return CoreWeaveToString(*this);
    case Scheme::kPvc:
    case Scheme::kS3:
    case Scheme::kGcs:
      return WithPath(std::string(SchemeName(scheme)) + "://" + authority, path);
    case Scheme::kAzure:
      return WithPath("az://" + authority + "/" + container, path);
    case Scheme::kHuggingFace:
      return HuggingFaceToString(*this);
    case Scheme::kGit:
      return GitToString(*this);
    case Scheme::kHttp:
      return HttpToString(*this);
  }
  return path;
}

}  // namespace datacube
