#include "datacube/spec/yaml_tree.h"

#include <yaml-cpp/yaml.h>

#include <regex>

namespace datacube::spec {
namespace {

// Aliases are expanded while converting, so "billion laughs" documents (aliases of aliases)
// would grow without bound; a DataCube has a few dozen nodes, so this limit is generous.
constexpr size_t kMaxNodes = 100'000;
constexpr int kMaxDepth = 64;

class Converter {
 public:
  Status Convert(const YAML::Node& in, YamlNode& out, int depth) {
    if (++nodes_ > kMaxNodes) {
      return InvalidArgumentError("document too large (more than " + std::to_string(kMaxNodes) +
                                  " nodes after expanding aliases)");
    }
    if (depth > kMaxDepth) return InvalidArgumentError("document nested too deeply");
    YAML::Mark mark = in.Mark();
    if (!mark.is_null()) {
      out.line = mark.line + 1;
      out.column = mark.column + 1;
    }
    switch (in.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        out.kind = YamlNode::Kind::kNull;
        return Status();
      case YAML::NodeType::Scalar:
        out.kind = YamlNode::Kind::kScalar;
        out.scalar = in.Scalar();
        // yaml-cpp tags plain scalars "?" and quoted or block scalars "!"; an explicit tag such
        // as !!str also makes the value a string.
        out.quoted = in.Tag() != "?";
        return Status();
      case YAML::NodeType::Sequence:
        out.kind = YamlNode::Kind::kSeq;
        for (const auto& item : in) {
          YamlNode child;
          DC_RETURN_IF_ERROR(Convert(item, child, depth + 1));
          out.seq.push_back(std::move(child));
        }
        return Status();
      case YAML::NodeType::Map:
        out.kind = YamlNode::Kind::kMap;
        for (auto it = in.begin(); it != in.end(); ++it) {
          if (!it->first.IsScalar()) {
            return InvalidArgumentError("line " + std::to_string(it->first.Mark().line + 1) +
                                        ": map keys must be plain strings");
          }
          YamlNode child;
          DC_RETURN_IF_ERROR(Convert(it->second, child, depth + 1));
          if (child.line == 0 || child.is_null()) {
            // yaml-cpp marks an empty value at the next token; the key's position is clearer.
            child.line = it->first.Mark().line + 1;
            child.column = it->first.Mark().column + 1;
          }
          out.map.emplace_back(it->first.Scalar(), std::move(child));
        }
        return Status();
    }
    return InternalError("unknown YAML node type");
  }

 private:
  size_t nodes_ = 0;
};

}  // namespace

YamlNode::ScalarType YamlNode::scalar_type() const {
  if (kind == Kind::kNull) return ScalarType::kNull;
  if (kind != Kind::kScalar || quoted) return ScalarType::kString;
  const std::string& s = scalar;
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return ScalarType::kNull;
  if (s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" || s == "FALSE") {
    return ScalarType::kBool;
  }
  static const std::regex kInt("[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+");
  static const std::regex kFloat(
      "[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|"
      "NAN)");
  if (std::regex_match(s, kInt)) return ScalarType::kInt;
  if (std::regex_match(s, kFloat)) return ScalarType::kFloat;
  return ScalarType::kString;
}

std::string_view YamlNode::DescribeType() const {
  switch (kind) {
    case Kind::kNull:
      return "null";
    case Kind::kMap:
      return "a map";
    case Kind::kSeq:
      return "a list";
    case Kind::kScalar:
      break;
  }
  switch (scalar_type()) {
    case ScalarType::kString:
      return "a string";
    case ScalarType::kBool:
      return "a boolean";
    case ScalarType::kInt:
      return "an integer";
    case ScalarType::kFloat:
      return "a number";
    case ScalarType::kNull:
      return "null";
  }
  return "a value";
}

Result<std::vector<YamlNode>> ParseYamlDocuments(std::string_view text,
                                                 std::string_view source_name) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    std::string where(source_name);
    if (!e.mark.is_null()) {
      where += ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1);
    }
    return InvalidArgumentError(where + ": invalid YAML: " + e.msg);
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string(source_name) + ": invalid YAML: " + e.what());
  }
  std::vector<YamlNode> out;
  for (const auto& doc : docs) {
    YamlNode node;
    Converter converter;
    Status s;
    try {
      s = converter.Convert(doc, node, 0);
    } catch (const YAML::Exception& e) {
      s = InvalidArgumentError(std::string("invalid YAML: ") + e.msg);
    }
    if (!s.ok())
      return InvalidArgumentError(std::string(source_name) + ": " + std::string(s.message()));
    out.push_back(std::move(node));
  }
  return out;
}

}  // namespace datacube::spec
