// From a Location to an open ObjectStore and the key inside it.
//
// Every backend is listed explicitly in registry.cc: no registration from static initialisers,
// whose order across libraries is unspecified and which a static link may drop. Adding a backend
// = one case in OpenLocation and in SchemeHasBackend, plus its library in
// transfer/CMakeLists.txt (docs/architecture.md, "Adding a backend").
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "datacube/location/location.h"
#include "datacube/storage/object_store.h"
#include "datacube/storage/store_config.h"

namespace datacube::transfer {

using storage::OpenMode;
using storage::StoreConfig;
using storage::StoreRef;

// True when OpenLocation has a backend for `scheme` in this build.
bool SchemeHasBackend(Scheme scheme);

// Opens the backend for `location`. Schemes without a backend yet are kUnimplemented
// ("s3:// is not supported yet").
Result<StoreRef> OpenLocation(const Location& location, const StoreConfig& config, OpenMode mode);

// The directory a pvc:// location maps to ("<pvc_root>/<name>/<path>"); errors name the option
// to set when the root is unknown.
Result<std::string> PvcLocalPath(const Location& location, const StoreConfig& config);

}  // namespace datacube::transfer
