// Which DataCube types this build can move data for.
//
// A cube whose type has no backend in this build must fail validation with "not supported yet"
// rather than at run time. The answer comes from the transfer layer, whose registry lists every
// backend explicitly, so there is no second list here to drift from it.
#pragma once

#include "datacube/base/status.h"
#include "datacube/cube/cube.h"

namespace datacube::cube {

// OK, or kUnimplemented naming the type. pvc is always supported. Thread-safe.
Status TypeSupportedInThisBuild(EndpointType type);

}  // namespace datacube::cube
