#include "datacube/transfer/endpoints.h"

#include <sys/stat.h>

#include "datacube/transfer/registry.h"

namespace datacube::transfer {
namespace {

std::string Basename(std::string_view key) {
  while (!key.empty() && key.back() == '/') key.remove_suffix(1);
  size_t slash = key.rfind('/');
  return std::string(slash == std::string_view::npos ? key : key.substr(slash + 1));
}

std::string WithSlash(std::string s) {
  if (!s.empty() && s.back() != '/') s += '/';
  return s;
}

// True when the location is a local directory that exists.
bool IsLocalDirectory(const Location& loc, const storage::StoreConfig& config) {
  std::string path;
  if (loc.scheme == Scheme::kFile) {
    path = loc.path;
  } else if (loc.scheme == Scheme::kPvc) {
    auto p = PvcLocalPath(loc, config);
    if (!p.ok()) return false;
    path = *p;
  } else {
    return false;
  }
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool EndsWithSlash(const Location& loc) {
  std::string text = loc.ToString();
  return !text.empty() && text.back() == '/';
}

// A bucket, container or repository root ("s3://bucket", "hf://org/name"): a file copied there
// keeps its name.
bool IsStoreRoot(const Location& loc) {
  switch (loc.scheme) {
    case Scheme::kS3:
    case Scheme::kCoreWeave:
    case Scheme::kGcs:
    case Scheme::kAzure:
    case Scheme::kHuggingFace:
      return loc.path.empty();
    default:
      return false;
  }
}

}  // namespace

Result<engine::TransferEndpoints> ResolveEndpoints(const Location& src, const Location& dst,
                                                   const storage::StoreConfig& src_config,
                                                   const storage::StoreConfig& dst_config) {
  engine::TransferEndpoints ends;
  DC_ASSIGN_OR_RETURN(ends.src, OpenLocation(src, src_config, storage::OpenMode::kRead));
  const std::string& key = ends.src.key;
  bool tree = key.empty() || key.back() == '/';
  if (!tree) {
    auto st = ends.src.store->Stat(key);
    if (st.ok()) {
      ends.single = true;
      ends.single_info = *st;
    } else if (st.status().code() != StatusCode::kNotFound) {
      return st.status();
    } else {
      storage::ListRequest probe;
      probe.prefix = key + "/";
      probe.max_keys = 1;
      DC_ASSIGN_OR_RETURN(storage::ListPage page, ends.src.store->List(probe));
      if (page.objects.empty() && page.common_prefixes.empty()) {
        return NotFoundError("nothing to copy: no file or directory at " + src.ToString());
      }
      tree = true;
    }
  }
  if (ends.single) {
    bool into_dir = EndsWithSlash(dst) || IsStoreRoot(dst) || IsLocalDirectory(dst, dst_config);
    if (into_dir) {
      DC_ASSIGN_OR_RETURN(ends.dst, OpenLocation(dst, dst_config, storage::OpenMode::kWriteTree));
      ends.dst.key = WithSlash(ends.dst.key) + Basename(key);
    } else {
      DC_ASSIGN_OR_RETURN(ends.dst, OpenLocation(dst, dst_config, storage::OpenMode::kWriteFile));
    }
    return ends;
  }
  ends.src_prefix = WithSlash(key);
  DC_ASSIGN_OR_RETURN(ends.dst, OpenLocation(dst, dst_config, storage::OpenMode::kWriteTree));
  ends.dst_prefix = WithSlash(ends.dst.key);
  return ends;
}

}  // namespace datacube::transfer
