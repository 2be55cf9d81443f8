// Which DataCube types this build can move data for.
//
// Backends land one by one (S3, Hugging Face, Git); until one is linked into the registry, a
// cube that uses its type must fail validation with "not supported yet" rather than at run time.
// Rather than keep a second list that could drift from storage/registry.cc, this asks the
// registry itself: it opens a probe location of the type and treats kUnimplemented as "not in
// this build". The probe runs under an already-cancelled stop token and points every endpoint at
// 127.0.0.1:1 (nothing listens there), so a backend that touches the network while opening gives
// up at once and stays local.
#pragma once

#include "datacube/base/status.h"
#include "datacube/cube/cube.h"

namespace datacube::cube {

// OK, or kUnimplemented naming the type. pvc and git (git_attempt.h) are always supported. The
// answer is computed once per type and cached; thread-safe.
Status TypeSupportedInThisBuild(EndpointType type);

}  // namespace datacube::cube
