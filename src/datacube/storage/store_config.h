// What a backend is opened with: the operator's PVC root, the backend's options by name, and the
// environment the transfer sees. Backends read these; the registry (transfer/registry.h) maps a
// Location to the backend that reads them.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "datacube/location/location.h"
#include "datacube/storage/object_store.h"

namespace datacube::storage {

struct StoreConfig {
  // Directory under which pvc://NAME is mounted as NAME (--pvc-root, DATACUBE_PVC_ROOT).
  std::string pvc_root;
  // Backend options by their documented names ("s3-endpoint", "token", ...), from command-line
  // flags or a DataCube's options. Values may be secrets; never log this map.
  std::map<std::string, std::string> options;
  // Environment lookup, so a DataCube's executor.env applies without changing the process
  // environment. Unset: the process environment.
  std::function<std::optional<std::string>(const std::string&)> getenv;

  std::optional<std::string> Env(const std::string& name) const;
  // The option `name`, or empty.
  std::string Option(const std::string& name) const;
};

enum class OpenMode {
  kRead,       // a source: a single object or a tree, decided later by the caller
  kWriteTree,  // a destination directory/prefix (created when missing)
  kWriteFile,  // a destination for exactly one object
};

// A store plus the key (or key prefix) the location points at inside it.
struct StoreRef {
  std::shared_ptr<ObjectStore> store;
  // For kRead: the object key or prefix as written. For kWriteTree: "" or a prefix ending in
  // '/'. For kWriteFile: the object key.
  std::string key;
  Location location;
};

}  // namespace datacube::storage
