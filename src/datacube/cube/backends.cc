#include "datacube/cube/backends.h"

#include "datacube/transfer/job.h"

namespace datacube::cube {
namespace {

Scheme SchemeOf(EndpointType type) {
  switch (type) {
    case EndpointType::kS3:
      return Scheme::kS3;
    case EndpointType::kHuggingFace:
      return Scheme::kHuggingFace;
    case EndpointType::kGit:
      return Scheme::kGit;
    case EndpointType::kPvc:
      break;
  }
  return Scheme::kPvc;
}

}  // namespace

Status TypeSupportedInThisBuild(EndpointType type) {
  if (transfer::SchemeSupported(SchemeOf(type))) return Status();
  return UnimplementedError("\"" + std::string(EndpointTypeName(type)) +
                            "\" is not supported yet in this build");
}

}  // namespace datacube::cube
