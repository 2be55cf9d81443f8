#include "datacube/cube/cube.h"

#include <cctype>

namespace datacube::cube {

std::string_view EndpointTypeName(EndpointType type) {
  switch (type) {
    case EndpointType::kPvc:
      return "pvc";
    case EndpointType::kGit:
      return "git";
    case EndpointType::kHuggingFace:
      return "huggingface";
    case EndpointType::kS3:
      return "s3";
  }
  return "?";
}

std::optional<EndpointType> ParseEndpointType(std::string_view name) {
  for (EndpointType t :
       {EndpointType::kPvc, EndpointType::kGit, EndpointType::kHuggingFace, EndpointType::kS3}) {
    if (EndpointTypeName(t) == name) return t;
  }
  return std::nullopt;
}

const Endpoint* DataCube::service() const {
  bool src_pvc = source.type == EndpointType::kPvc;
  bool dst_pvc = sink.type == EndpointType::kPvc;
  if (src_pvc == dst_pvc) return nullptr;
  return src_pvc ? &sink : &source;
}

const Endpoint* DataCube::pvc_side() const {
  bool src_pvc = source.type == EndpointType::kPvc;
  bool dst_pvc = sink.type == EndpointType::kPvc;
  if (src_pvc == dst_pvc) return nullptr;
  return src_pvc ? &source : &sink;
}

std::string OptionVariableName(std::string_view option_name) {
  std::string out;
  out.reserve(option_name.size());
  for (char c : option_name) {
    out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace datacube::cube
