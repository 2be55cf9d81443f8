#include "datacube/cube/field_reader.h"

#include <cstdio>
#include <set>

namespace datacube::cube {

void DecodeContext::Error(const std::string& path, std::string message, const YamlNode* at) {
  diag.Add(path, std::move(message), at ? at->line : 0, at ? at->column : 0);
}

void DecodeContext::Record(const std::string& path, const YamlNode& node) {
  if (node.line > 0) positions[path] = {node.line, node.column};
}

MapFields::MapFields(const YamlNode& node, std::string path,
                     std::span<const std::string_view> known, DecodeContext& ctx)
    : node_(node), path_(std::move(path)), ctx_(ctx) {
  ctx_.Record(path_, node_);
  if (node_.is_null()) return;
  if (!node_.is_map()) {
    ctx_.Error(path_, "expected a map, got " + std::string(node_.DescribeType()), &node_);
    return;
  }
  std::set<std::string> seen;
  for (const auto& [key, value] : node_.map) {
    std::string field_path = PathOf(key);
    ctx_.Record(field_path, value);
    if (!seen.insert(key).second) {
      ctx_.Error(field_path, "duplicate field", &value);
      continue;
    }
    bool is_known = false;
    for (std::string_view k : known) is_known = is_known || k == key;
    if (!is_known) {
      ctx_.Error(field_path, "unknown field" + DidYouMean(key, known), &value);
    }
  }
}

const YamlNode* MapFields::Get(std::string_view key) const {
  if (!node_.is_map()) return nullptr;
  for (const auto& [k, value] : node_.map) {
    if (k == key) return value.is_null() ? nullptr : &value;
  }
  return nullptr;
}

const YamlNode* MapFields::Require(std::string_view key) const {
  const YamlNode* value = Get(key);
  // A wrong-typed parent was reported already; a missing child of it would only add noise.
  if (value == nullptr && (node_.is_map() || node_.is_null())) {
    ctx_.Error(PathOf(key), "required field is missing", &node_);
  }
  return value;
}

std::string MapFields::PathOf(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

std::string IndexPath(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

std::string ControlCharacterProblem(std::string_view text, TextRule rule) {
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    unsigned code = c;
    bool control = c < 0x20 || c == 0x7f;
    // C1 controls (CSI is U+009B) are C2 80..C2 9F in UTF-8; other bytes from 0x80 up belong to
    // multi-byte characters ("ğ" is C4 9F) and are not controls.
    if (c == 0xc2 && i + 1 < text.size()) {
      unsigned char next = static_cast<unsigned char>(text[i + 1]);
      if (next >= 0x80 && next <= 0x9f) {
        code = next;
        control = true;
      }
    }
    if (!control) continue;
    if (rule == TextRule::kMultiLine && (code == '\t' || code == '\n')) continue;
    char hex[16];
    std::snprintf(hex, sizeof hex, "U+%04X", code);
    return std::string("contains the control character ") + hex + " at byte " + std::to_string(i) +
           "; control characters are not allowed" +
           (rule == TextRule::kMultiLine ? " (except TAB and newline)" : "");
  }
  return "";
}

std::optional<std::string> ReadString(const YamlNode* node, const std::string& path,
                                      DecodeContext& ctx, TextRule rule) {
  if (node == nullptr) return std::nullopt;
  if (node->is_scalar() && node->scalar_type() == YamlNode::ScalarType::kString) {
    std::string problem = ControlCharacterProblem(node->scalar, rule);
    if (!problem.empty()) {
      ctx.Error(path, problem, node);
      return std::nullopt;
    }
    return node->scalar;
  }
  std::string hint;
  if (node->is_scalar() && node->scalar.size() <= 200) {
    hint = "; quote it if you mean the text: \"" + node->scalar + "\"";
  } else if (node->is_scalar()) {
    hint = "; quote it if you mean the text";
  }
  ctx.Error(path, "expected a string, got " + std::string(node->DescribeType()) + hint, node);
  return std::nullopt;
}

std::optional<int64_t> ReadInt(const YamlNode* node, const std::string& path, DecodeContext& ctx) {
  if (node == nullptr) return std::nullopt;
  if (node->is_scalar() && node->scalar_type() == YamlNode::ScalarType::kInt) {
    // stoll's own prefixes (0x, a leading 0), plus the core schema's 0o for octal.
    const std::string& text = node->scalar;
    int base = 0;
    size_t skip = 0;
    if (text.size() > 2 && text[0] == '0' && text[1] == 'o') {
      base = 8;
      skip = 2;
    }
    try {
      size_t used = 0;
      int64_t v = std::stoll(text.substr(skip), &used, base);
      if (used + skip == text.size()) return v;
    } catch (...) {
    }
    std::string shown = text.size() > 40 ? text.substr(0, 40) + "..." : text;
    ctx.Error(path, "integer \"" + shown + "\" is out of range", node);
    return std::nullopt;
  }
  ctx.Error(path, "expected an integer, got " + std::string(node->DescribeType()), node);
  return std::nullopt;
}

std::optional<bool> ReadBool(const YamlNode* node, const std::string& path, DecodeContext& ctx) {
  if (node == nullptr) return std::nullopt;
  if (node->is_scalar() && node->scalar_type() == YamlNode::ScalarType::kBool) {
    return node->scalar[0] == 't' || node->scalar[0] == 'T';
  }
  ctx.Error(path, "expected true or false, got " + std::string(node->DescribeType()), node);
  return std::nullopt;
}

std::map<std::string, std::string> ReadStringMap(const YamlNode* node, const std::string& path,
                                                 DecodeContext& ctx, TextRule rule) {
  std::map<std::string, std::string> out;
  if (node == nullptr) return out;
  if (!node->is_map()) {
    ctx.Error(path, "expected a map of strings, got " + std::string(node->DescribeType()), node);
    return out;
  }
  for (const auto& [key, value] : node->map) {
    std::string p = path + "." + key;
    ctx.Record(p, value);
    if (out.count(key)) {
      ctx.Error(p, "duplicate key", &value);
      continue;
    }
    if (std::string problem = ControlCharacterProblem(key, TextRule::kSingleLine);
        !problem.empty()) {
      ctx.Error(path, "a key " + problem, &value);
      continue;
    }
    auto s = ReadString(&value, p, ctx, rule);
    if (s) out[key] = *s;
  }
  return out;
}

bool ExpectList(const YamlNode* node, const std::string& path, DecodeContext& ctx) {
  if (node == nullptr || node->is_seq()) return true;
  ctx.Error(path, "expected a list, got " + std::string(node->DescribeType()), node);
  return false;
}

std::vector<std::string> ReadStringList(const YamlNode* node, const std::string& path,
                                        DecodeContext& ctx) {
  std::vector<std::string> out;
  if (!ExpectList(node, path, ctx) || node == nullptr) return out;
  for (size_t i = 0; i < node->seq.size(); ++i) {
    std::string p = IndexPath(path, i);
    ctx.Record(p, node->seq[i]);
    auto s = ReadString(&node->seq[i], p, ctx);
    if (s) out.push_back(*s);
  }
  return out;
}

}  // namespace datacube::cube
