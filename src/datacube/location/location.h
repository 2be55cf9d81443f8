// Location: where data lives, as the user wrote it on the command line (docs/cli.md#locations).
//
//   /abs/path, ./rel, rel, file:///abs      local directory or file
//   pvc://NAME/subpath                      a PVC mounted under the PVC root
//   s3://bucket/prefix                      S3 or S3-compatible
//   cw://bucket/prefix                      CoreWeave AI Object Storage
//   gs://bucket/prefix                      Google Cloud Storage
//   az://account/container/prefix           Azure Blob Storage
//   hf://[models/|datasets/|spaces/]org/name[@revision][/path]   Hugging Face repository
//   git+https://host/owner/repo.git[@ref]   Git repository (git+http:// for test servers)
//   https://host/path?query, http://...     one file over HTTP(S), read only
//
// A Location never holds credentials: "scheme://user:token@host" is refused with an error that
// says where credentials go instead.
#pragma once

#include <string>
#include <string_view>

#include "datacube/base/result.h"

namespace datacube {

enum class Scheme { kFile, kPvc, kS3, kCoreWeave, kGcs, kAzure, kHuggingFace, kGit, kHttp };

// "file", "pvc", "s3", "cw", "gs", "az", "hf", "git+https", "https".
std::string_view SchemeName(Scheme scheme);

struct Location {
  Scheme scheme = Scheme::kFile;
  // Bucket (s3, cw, gs), storage account (az), PVC name (pvc), host[:port] (git, http).
  std::string authority;
  // Azure container.
  std::string container;
  // Hugging Face: "org/name". Git: the repository path on the host, e.g. "owner/repo.git".
  std::string repo;
  // Hugging Face: "model", "dataset" or "space".
  std::string repo_type;
  // Hugging Face revision or Git ref; empty means the default.
  std::string revision;
  // Key prefix or path inside the location, without a leading '/', except for kFile where it is
  // the filesystem path exactly as given (absolute or relative).
  std::string path;
  // HTTP: the query string without '?'.
  std::string query;
  // git and http: false for plain http (loopback test servers only).
  bool tls = true;

  // Canonical text form; ParseLocation(ToString()) yields an equal Location.
  std::string ToString() const;
  bool is_local() const { return scheme == Scheme::kFile || scheme == Scheme::kPvc; }

  friend bool operator==(const Location&, const Location&) = default;
};

// Parses any form above. Errors are kInvalidArgument and quote the text and what was expected.
Result<Location> ParseLocation(std::string_view text);

// The parts of a pvc:// location, checked wherever one is built (ParseLocation, a DataCube's
// pvc.name and pvc.subPath): the name is a DNS-1123 subdomain (so never "." or ".."); the path
// inside the volume is relative, without "..", "." or empty segments (a trailing '/' is allowed)
// and without NUL or other control characters. Errors are kInvalidArgument and say what is wrong
// with the value (quoted with control characters escaped).
Status ValidatePvcName(std::string_view name);
Status ValidatePvcPath(std::string_view path);

// Percent-encoding for URL paths: keeps unreserved characters and '/' (when keep_slash).
std::string PercentEncode(std::string_view s, bool keep_slash);
// Decodes %XX sequences; fails on malformed escapes.
Result<std::string> PercentDecode(std::string_view s);

}  // namespace datacube
