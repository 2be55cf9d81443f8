#include "datacube/storage/registry.h"

#include <sys/stat.h>

#include <cstdlib>

#include "datacube/storage/hf/hf_open.h"
#include "datacube/storage/http/http_store.h"
#include "datacube/storage/local/local_store.h"
#include "datacube/storage/s3/s3_store.h"

namespace datacube::storage {

std::optional<std::string> StoreConfig::Env(const std::string& name) const {
  if (getenv) return getenv(name);
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

std::string StoreConfig::Option(const std::string& name) const {
  auto it = options.find(name);
  return it == options.end() ? std::string() : it->second;
}

Result<std::string> PvcLocalPath(const Location& location, const StoreConfig& config) {
  std::string root = config.pvc_root;
  if (root.empty()) root = config.Env("DATACUBE_PVC_ROOT").value_or("");
  if (root.empty()) {
    return InvalidArgumentError("cannot resolve " + location.ToString() +
                                ": set --pvc-root or DATACUBE_PVC_ROOT to the directory where "
                                "PVCs are mounted");
  }
  std::string path = root + "/" + location.authority;
  if (!location.path.empty()) path += "/" + location.path;
  return path;
}

namespace {

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::pair<std::string, std::string> SplitParent(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

Result<StoreRef> OpenLocal(const Location& location, std::string path, std::string display,
                           OpenMode mode) {
  if (path.empty()) path = ".";
  LocalStoreOptions opts;
  StoreRef ref;
  ref.location = location;
  bool tree = mode == OpenMode::kWriteTree || (mode == OpenMode::kRead && IsDirectory(path));
  if (tree) {
    opts.root = path;
    opts.create_root = mode == OpenMode::kWriteTree;
    opts.display_prefix = display;
  } else {
    auto [parent, base] = SplitParent(path);
    if (base.empty() || base == "." || base == "..") {
      return InvalidArgumentError("\"" + display + "\" does not name a file");
    }
    opts.root = parent;
    opts.create_root = mode != OpenMode::kRead;
    auto [dparent, dbase] = SplitParent(display);
    opts.display_prefix = dparent;
    ref.key = base;
  }
  DC_ASSIGN_OR_RETURN(ref.store, LocalStore::Open(opts));
  return ref;
}

}  // namespace

Result<StoreRef> OpenLocation(const Location& location, const StoreConfig& config, OpenMode mode) {
  switch (location.scheme) {
    case Scheme::kFile:
      return OpenLocal(location, location.path, location.path, mode);
    case Scheme::kPvc: {
      DC_ASSIGN_OR_RETURN(std::string path, PvcLocalPath(location, config));
      std::string pvc_dir = path.substr(0, path.size() - (location.path.empty()
                                                              ? 0
                                                              : location.path.size() + 1));
      if (mode == OpenMode::kRead && !IsDirectory(pvc_dir)) {
        return NotFoundError("PVC \"" + location.authority + "\" is not mounted (no directory " +
                             pvc_dir + ")");
      }
      return OpenLocal(location, path, location.ToString(), mode);
    }
    case Scheme::kS3:
    case Scheme::kCoreWeave:
    case Scheme::kGcs:
      return s3::OpenS3Location(location, config, mode);
    case Scheme::kHuggingFace:
      return hf::OpenHfLocation(location, config, mode);
    case Scheme::kHttp:
      return OpenHttpLocation(location, config, mode);
    case Scheme::kAzure:
    case Scheme::kGit:
      break;
  }
  // The location's text may hold a pre-signed query; print only up to the '?'.
  std::string text = location.ToString();
  return UnimplementedError(std::string(SchemeName(location.scheme)) +
                            ":// is not supported yet in this build (" +
                            text.substr(0, text.find('?')) + ")");
}

}  // namespace datacube::storage
