// Decoding: a parsed YAML document -> DataCube, checking the document's shape (field names,
// types, required fields, enumerations). Rules that relate several fields (exactly one PVC side,
// per-type options, env clashes, ...) are in validate.h.
#pragma once

#include "datacube/cube/cube.h"
#include "datacube/cube/diagnostics.h"
#include "datacube/cube/field_reader.h"
#include "datacube/cube/yaml_tree.h"

namespace datacube::cube {

struct DecodedCube {
  DataCube cube;
  // Positions of every field seen, so later checks can point at the source text.
  PositionIndex positions;
};

// Decodes `doc`, adding every problem to `diag`. The returned cube holds whatever could be read;
// use it only when `diag` stays ok() or for further checks that tolerate gaps.
DecodedCube DecodeDataCube(const YamlNode& doc, Diagnostics& diag);

// Internal pieces, shared by decode.cc and decode_endpoint.cc.
Endpoint DecodeEndpoint(const YamlNode* node, const std::string& path, bool is_sink,
                        DecodeContext& ctx);
// Decodes a list of {name, value | valueFrom} (options or env).
std::vector<NamedValue> DecodeNamedValues(const YamlNode* node, const std::string& path,
                                          DecodeContext& ctx);

}  // namespace datacube::cube
