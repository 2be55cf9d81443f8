#include "datacube/transfer/registry.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cstdlib>

#include "datacube/io/beneath.h"
#include "datacube/storage/hf/hf_open.h"
#include "datacube/storage/http/http_store.h"
#include "datacube/storage/local/local_store.h"
#include "datacube/storage/s3/s3_store.h"

namespace datacube::transfer {

using storage::LocalStore;
using storage::LocalStoreOptions;
using storage::OpenMode;
using storage::StoreConfig;
using storage::StoreRef;

namespace {

// The directory under which PVCs are mounted: the operator's --pvc-root, else DATACUBE_PVC_ROOT.
Result<std::string> PvcRoot(const Location& location, const StoreConfig& config) {
  std::string root = config.pvc_root;
  if (root.empty()) root = config.Env("DATACUBE_PVC_ROOT").value_or("");
  if (root.empty()) {
    return InvalidArgumentError("cannot resolve " + location.ToString() +
                                ": set --pvc-root or DATACUBE_PVC_ROOT to the directory where "
                                "PVCs are mounted");
  }
  return root;
}

// "NAME/path" without a trailing '/': the location relative to the PVC root, after checking
// every part (the Location may have been built without ParseLocation, e.g. from a spec).
Result<std::string> PvcRelativePath(const Location& location) {
  auto refuse = [&](const Status& s) {
    return InvalidArgumentError("refusing pvc://" + location.authority + ": " +
                                std::string(s.message()));
  };
  if (Status s = ValidatePvcName(location.authority); !s.ok()) return refuse(s);
  if (Status s = ValidatePvcPath(location.path); !s.ok()) return refuse(s);
  std::string rel = location.authority;
  std::string_view path = location.path;
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (!path.empty()) rel += "/" + std::string(path);
  return rel;
}

}  // namespace

Result<std::string> PvcLocalPath(const Location& location, const StoreConfig& config) {
  DC_ASSIGN_OR_RETURN(std::string root, PvcRoot(location, config));
  DC_ASSIGN_OR_RETURN(std::string rel, PvcRelativePath(location));
  DC_ASSIGN_OR_RETURN(io::File jail, io::File::Open(root, O_PATH | O_DIRECTORY));
  // The deepest part that exists must resolve beneath the PVC root; what is missing below it
  // cannot be a link. The answer is the real path, so tools that take paths start from it.
  std::string existing = rel;
  std::string missing;
  while (true) {
    auto dir = io::OpenBeneath(jail, existing, O_PATH, 0, location.ToString());
    if (dir.ok()) {
      DC_ASSIGN_OR_RETURN(std::string real, io::PathOfDescriptor(*dir));
      return missing.empty() ? real : real + "/" + missing;
    }
    if (dir.status().code() != StatusCode::kNotFound || existing.find('/') == std::string::npos) {
      if (dir.status().code() == StatusCode::kNotFound) return root + "/" + rel;  // no volume yet
      return dir.status();
    }
    size_t slash = existing.rfind('/');
    missing = existing.substr(slash + 1) + (missing.empty() ? "" : "/" + missing);
    existing.resize(slash);
  }
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

// `jail`: for pvc://, the PVC root; `path` is then relative to it and resolved beneath it.
Result<StoreRef> OpenLocal(const Location& location, std::string path, std::string display,
                           OpenMode mode, const std::string& jail = "") {
  if (path.empty() && jail.empty()) path = ".";
  LocalStoreOptions opts;
  opts.jail = jail;
  StoreRef ref;
  ref.location = location;
  bool is_dir = false;
  if (mode == OpenMode::kRead) {
    if (jail.empty()) {
      is_dir = IsDirectory(path);
    } else {
      DC_ASSIGN_OR_RETURN(io::File j, io::File::Open(jail, O_PATH | O_DIRECTORY));
      auto d = io::OpenBeneath(j, path, O_PATH | O_DIRECTORY, 0, display);
      if (!d.ok() && d.status().code() == StatusCode::kInvalidArgument) return d.status();
      is_dir = d.ok();
    }
  }
  bool tree = mode == OpenMode::kWriteTree || (mode == OpenMode::kRead && is_dir);
  if (tree) {
    opts.root = path;
    opts.create_root = mode == OpenMode::kWriteTree;
    opts.display_prefix = display;
  } else {
    auto [parent, base] = SplitParent(path);
    if (base.empty() || base == "." || base == "..") {
      return InvalidArgumentError("\"" + display + "\" does not name a file");
    }
    opts.root = jail.empty() || parent != "." ? parent : "";
    opts.create_root = mode != OpenMode::kRead;
    auto [dparent, dbase] = SplitParent(display);
    opts.display_prefix = dparent;
    ref.key = base;
  }
  DC_ASSIGN_OR_RETURN(ref.store, LocalStore::Open(opts));
  return ref;
}

}  // namespace

bool SchemeHasBackend(Scheme scheme) {
  switch (scheme) {
    case Scheme::kFile:
    case Scheme::kPvc:
    case Scheme::kS3:
    case Scheme::kCoreWeave:
    case Scheme::kGcs:
    case Scheme::kHuggingFace:
    case Scheme::kHttp:
      return true;
    case Scheme::kAzure:
    case Scheme::kGit:
      break;
  }
  return false;
}

Result<StoreRef> OpenLocation(const Location& location, const StoreConfig& config, OpenMode mode) {
  switch (location.scheme) {
    case Scheme::kFile:
      return OpenLocal(location, location.path, location.path, mode);
    case Scheme::kPvc: {
      DC_ASSIGN_OR_RETURN(std::string root, PvcRoot(location, config));
      DC_ASSIGN_OR_RETURN(std::string rel, PvcRelativePath(location));
      // The volume's own directory must itself stay beneath the PVC root (no link out).
      DC_ASSIGN_OR_RETURN(io::File jail, io::File::Open(root, O_PATH | O_DIRECTORY));
      auto volume = io::OpenBeneath(jail, location.authority, O_PATH | O_DIRECTORY, 0,
                                    "pvc://" + location.authority);
      if (!volume.ok() && volume.status().code() != StatusCode::kNotFound) {
        return volume.status();
      }
      if (mode == OpenMode::kRead && !volume.ok()) {
        return NotFoundError("PVC \"" + location.authority + "\" is not mounted (no directory " +
                             root + "/" + location.authority + ")");
      }
      return OpenLocal(location, rel, location.ToString(), mode, root);
    }
    case Scheme::kS3:
    case Scheme::kCoreWeave:
    case Scheme::kGcs:
      return storage::s3::OpenS3Location(location, config, mode);
    case Scheme::kHuggingFace:
      return storage::hf::OpenHfLocation(location, config, mode);
    case Scheme::kHttp:
      return storage::OpenHttpLocation(location, config, mode);
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

}  // namespace datacube::transfer
