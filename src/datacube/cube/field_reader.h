// Typed reading of YAML fields with Kubernetes' rules, reporting every problem by field path.
//
// Used by the DataCube decoder: a map is read against the fixed set of fields its schema has;
// unknown and duplicate keys are errors (with a suggestion for near misses), and a scalar of the
// wrong type is an error naming what was expected. Null is treated as absent, as Kubernetes does.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "datacube/cube/diagnostics.h"
#include "datacube/cube/yaml_tree.h"

namespace datacube::cube {

// Field path -> position of the node in the source, for errors found after decoding.
using PositionIndex = std::map<std::string, std::pair<int, int>>;

// Everything a decoder threads through: where errors go and where positions are recorded.
struct DecodeContext {
  Diagnostics& diag;
  PositionIndex& positions;

  void Error(const std::string& path, std::string message, const YamlNode* at);
  void Record(const std::string& path, const YamlNode& node);
};

// One YAML map read against its schema's field names.
class MapFields {
 public:
  // Reports a non-map node (unless null), unknown keys and duplicate keys.
  MapFields(const YamlNode& node, std::string path, std::span<const std::string_view> known,
            DecodeContext& ctx);

  // The value of `key`, or nullptr when absent or null.
  const YamlNode* Get(std::string_view key) const;
  // Like Get, but reports "required field is missing" when absent.
  const YamlNode* Require(std::string_view key) const;
  // "<path>.<key>".
  std::string PathOf(std::string_view key) const;
  const std::string& path() const { return path_; }

 private:
  const YamlNode& node_;
  std::string path_;
  DecodeContext& ctx_;
};

// Which control characters a string may hold. Values travel on into HTTP headers, URLs, argv,
// file names and logs, so by default none may: a NUL would truncate, a CR/LF split a header or a
// log line, an ESC drive a terminal. Free text (annotations, a commit message) may have TAB and LF.
enum class TextRule { kSingleLine, kMultiLine };

// "" when `text` obeys `rule`, else what is wrong ("contains the control character U+0000 at
// byte 3"), never the text itself.
std::string ControlCharacterProblem(std::string_view text, TextRule rule);

// Scalars. Each returns nullopt (after reporting) when the node has the wrong type; a null
// `node` returns nullopt without an error. A string breaking `rule` is reported and nullopt.
std::optional<std::string> ReadString(const YamlNode* node, const std::string& path,
                                      DecodeContext& ctx, TextRule rule = TextRule::kSingleLine);
std::optional<int64_t> ReadInt(const YamlNode* node, const std::string& path, DecodeContext& ctx);
std::optional<bool> ReadBool(const YamlNode* node, const std::string& path, DecodeContext& ctx);

// A map of strings (labels, annotations); keys are single-line, values follow `rule`.
std::map<std::string, std::string> ReadStringMap(const YamlNode* node, const std::string& path,
                                                 DecodeContext& ctx,
                                                 TextRule rule = TextRule::kSingleLine);
// A list of strings; items are reported as "<path>[i]".
std::vector<std::string> ReadStringList(const YamlNode* node, const std::string& path,
                                        DecodeContext& ctx);

// True when `node` is a list (or null); reports otherwise.
bool ExpectList(const YamlNode* node, const std::string& path, DecodeContext& ctx);

// "<path>[<index>]".
std::string IndexPath(const std::string& path, size_t index);

}  // namespace datacube::cube
