// YamlNode: a parsed YAML document as a plain value tree, with positions.
//
// yaml-cpp reports errors by throwing; this is the one place that calls it, because errors are
// Status values everywhere else and exceptions stay inside the module that wraps a throwing
// library. Everything downstream walks YamlNode and never sees an exception. A node remembers
// where it came from (line and column, 1-based) so that validation errors can point at the text,
// and whether a scalar was written plain or quoted, because Kubernetes decodes `value: true` as a
// boolean and `value: "true"` as a string, and we must reject the first where a string is
// required, as the API server would (docs/protocols/kubernetes.md#decoding-a-resource).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "datacube/base/result.h"

namespace datacube::cube {

struct YamlNode {
  enum class Kind { kNull, kScalar, kMap, kSeq };
  // What a plain (unquoted) scalar means under the YAML 1.2 core schema.
  enum class ScalarType { kString, kBool, kInt, kFloat, kNull };

  Kind kind = Kind::kNull;
  // kScalar: the text. Quoted and block scalars are always strings.
  std::string scalar;
  bool quoted = false;
  // kMap: entries in document order. Duplicate keys are kept so that the decoder can report them.
  std::vector<std::pair<std::string, YamlNode>> map;
  // kSeq: items in order.
  std::vector<YamlNode> seq;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based

  // Declared so that clang (the fuzz build) does not instantiate the map's element type while
  // YamlNode is still incomplete, which libstdc++ 12 refuses in C++20.
  YamlNode() = default;

  bool is_map() const { return kind == Kind::kMap; }
  bool is_seq() const { return kind == Kind::kSeq; }
  bool is_scalar() const { return kind == Kind::kScalar; }
  bool is_null() const { return kind == Kind::kNull; }

  // The type a scalar resolves to: quoted scalars are strings; plain ones follow the core schema
  // ("true" -> kBool, "12" -> kInt, "1.5" -> kFloat, "null"/"~" -> kNull, else kString).
  ScalarType scalar_type() const;
  // "a string", "a boolean", "an integer", "a map", "a list", "null": for error messages.
  std::string_view DescribeType() const;
};

// Parses every document in `text`. Syntax errors are kInvalidArgument and read
// "<source_name>:<line>:<column>: <what yaml-cpp reported>".
Result<std::vector<YamlNode>> ParseYamlDocuments(std::string_view text,
                                                 std::string_view source_name);

}  // namespace datacube::cube
