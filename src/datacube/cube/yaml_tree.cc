#include "datacube/cube/yaml_tree.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <sstream>

namespace datacube::cube {
namespace {

// Aliases are expanded while converting, so "billion laughs" documents (aliases of aliases)
// would grow without bound; a DataCube has a few dozen nodes, so this limit is generous.
constexpr size_t kMaxNodes = 100'000;
constexpr int kMaxDepth = 64;
// yaml-cpp recurses once per level while it parses (and stops itself only at 2000 levels, with
// the unhelpful "bad file"); the text is scanned first so that a document nested far deeper
// than any DataCube is refused before yaml-cpp sees it. The scan's estimate can be off by a
// factor of two either way for exotic layouts, hence the margin over kMaxDepth.
constexpr int kMaxScannedDepth = 2 * kMaxDepth;

Status TooDeep(int line) {
  return InvalidArgumentError((line > 0 ? "line " + std::to_string(line) + ": " : std::string()) +
                              "nesting too deep (more than " + std::to_string(kMaxDepth) +
                              " levels of maps and lists)");
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHexDigit(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Consumes one or more characters matching `pred` from the front of `s`.
template <typename Pred>
bool TakeRun(std::string_view& s, Pred pred) {
  size_t n = 0;
  while (n < s.size() && pred(s[n])) ++n;
  s.remove_prefix(n);
  return n > 0;
}

// YAML 1.2 core schema integers: [-+]?[0-9]+ | 0o[0-7]+ | 0x[0-9a-fA-F]+. Matched by hand, in
// one pass: these scalars come from untrusted files, and std::regex recurses per character.
bool IsCoreInt(std::string_view s) {
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
    bool octal = s[1] == 'o';
    s.remove_prefix(2);
    return TakeRun(s, [&](char c) { return octal ? c >= '0' && c <= '7' : IsHexDigit(c); }) &&
           s.empty();
  }
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  return TakeRun(s, IsDigit) && s.empty();
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? | [-+]?\.(inf|Inf|INF) | \.(nan|NaN|NAN)
bool IsCoreFloat(std::string_view s) {
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return true;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  if (s == ".inf" || s == ".Inf" || s == ".INF") return true;
  if (!s.empty() && s[0] == '.') {
    s.remove_prefix(1);
    if (!TakeRun(s, IsDigit)) return false;
  } else {
    if (!TakeRun(s, IsDigit)) return false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      TakeRun(s, IsDigit);
    }
  }
  if (!s.empty() && (s[0] == 'e' || s[0] == 'E')) {
    s.remove_prefix(1);
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
    if (!TakeRun(s, IsDigit)) return false;
  }
  return s.empty();
}

// YAML allows only printable characters in a stream: TAB, LF, CR and everything from the space
// up, except DEL (and the C1 controls U+0080..U+009F). A NUL or an escape byte in a spec is an
// attack on whatever prints or passes the value on, never content.
Status CheckCharacters(std::string_view text) {
  int line = 1;
  int column = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    bool c1 = c == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
              static_cast<unsigned char>(text[i + 1]) <= 0x9f;
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f || c1) {
      unsigned code = c1 ? static_cast<unsigned char>(text[i + 1]) : c;
      char hex[16];
      std::snprintf(hex, sizeof hex, "U+%04X", code);
      return InvalidArgumentError("line " + std::to_string(line) + ", column " +
                                  std::to_string(column) + ": control character " + hex +
                                  " is not allowed in a YAML document");
    }
    if (c == '\n') {
      ++line;
      column = 1;
    } else if ((c & 0xc0) != 0x80) {
      ++column;
    }
  }
  return Status();
}

// Estimates how deeply `text` nests maps and lists, without recursion: block nesting from the
// stack of indentations (a "- " item counts as one more level), flow nesting from unquoted
// brackets. Block scalars (| and >) and comments are skipped. Fails at the first line deeper
// than kMaxScannedDepth.
class NestingScanner {
 public:
  Status Scan(std::string_view text) {
    int line_no = 0;
    size_t pos = 0;
    while (pos <= text.size()) {
      size_t eol = text.find('\n', pos);
      std::string_view line =
          text.substr(pos, eol == std::string_view::npos ? text.npos : eol - pos);
      ++line_no;
      ScanLine(line);
      if (depth() > kMaxScannedDepth) return TooDeep(line_no);
      if (eol == std::string_view::npos) break;
      pos = eol + 1;
    }
    return Status();
  }

 private:
  int depth() const { return static_cast<int>(indents_.size()) + flow_; }

  void ScanLine(std::string_view line) {
    size_t indent = line.find_first_not_of(' ');
    if (block_scalar_parent_ >= 0) {
      if (indent == std::string_view::npos || line.find_first_not_of(" \t\r") == line.npos ||
          static_cast<int>(indent) > block_scalar_parent_) {
        return;  // content of a literal or folded scalar
      }
      block_scalar_parent_ = -1;
    }
    if (indent == std::string_view::npos) return;
    size_t i = indent;
    if (flow_ == 0 && quote_ == 0) {
      if (line[i] == '#' || line[i] == '\r') return;
      if (line.substr(i, 3) == "---" || line.substr(i, 3) == "...") {
        indents_.clear();
        i += 3;
      } else {
        Indent(static_cast<int>(indent));
      }
      // Compact nested items: "- - - x" and "- key: value".
      int last_column = static_cast<int>(indent);
      while (i + 1 < line.size() && (line[i] == '-' || line[i] == '?') && line[i + 1] == ' ') {
        size_t next = line.find_first_not_of(' ', i + 1);
        if (next == std::string_view::npos) break;
        indents_.push_back(static_cast<int>(next));
        last_column = static_cast<int>(next);
        i = next;
      }
      block_parent_column_ = last_column;
      content_start_ = i;
    } else {
      content_start_ = std::string_view::npos;
    }
    ScanContent(line, i);
  }

  void Indent(int column) {
    while (!indents_.empty() && indents_.back() > column) indents_.pop_back();
    if (indents_.empty() || indents_.back() < column) indents_.push_back(column);
  }

  // Quotes, brackets, comments and a trailing block scalar indicator in the rest of the line.
  void ScanContent(std::string_view line, size_t i) {
    char prev = ' ';  // last significant character before i on this line (' ' at a token start)
    bool at_token_start = true;
    for (; i < line.size(); ++i) {
      char c = line[i];
      if (quote_ != 0) {
        if (quote_ == '"' && c == '\\') {
          ++i;
        } else if (c == quote_) {
          if (quote_ == '\'' && i + 1 < line.size() && line[i + 1] == '\'') {
            ++i;
          } else {
            quote_ = 0;
          }
        }
        continue;
      }
      if (c == ' ' || c == '\t') {
        at_token_start = true;
        continue;
      }
      bool scalar_start = at_token_start &&
                          (prev == ' ' || prev == '-' || prev == ':' || prev == ',' ||
                           prev == '[' || prev == '{' || prev == '?' || prev == '&' || prev == '!');
      if (c == '#' && at_token_start) return;
      if ((c == '"' || c == '\'') && scalar_start) {
        quote_ = c;
      } else if ((c == '[' || c == '{') && (scalar_start || flow_ > 0)) {
        ++flow_;
      } else if ((c == ']' || c == '}') && flow_ > 0) {
        --flow_;
      } else if ((c == '|' || c == '>') && flow_ == 0 && scalar_start &&
                 line.find_first_not_of("-+0123456789 \t\r", i + 1) == std::string_view::npos) {
        // "key: |" belongs to the key's level; "- |" (or "|" alone on a line) to the level
        // below its own, whose content it may share the column of.
        if (i == content_start_) {
          block_scalar_parent_ = indents_.size() >= 2 ? indents_[indents_.size() - 2] : -1;
        } else {
          block_scalar_parent_ = block_parent_column_;
        }
        return;
      }
      // Anchors and tags ("&a [", "!!map {") do not end the "start of a scalar" position.
      if (at_token_start && (c == '&' || c == '!')) {
        prev = c;
        size_t end = line.find_first_of(" \t", i);
        if (end == std::string_view::npos) return;
        i = end - 1;
        at_token_start = true;
        continue;
      }
      prev = c;
      at_token_start = c == '[' || c == '{' || c == ',' || (c == ':' && flow_ > 0);
      if (at_token_start) prev = c;
    }
  }

  std::vector<int> indents_;
  int flow_ = 0;
  char quote_ = 0;
  int block_scalar_parent_ = -1;
  int block_parent_column_ = 0;
  size_t content_start_ = std::string_view::npos;  // where this line's node starts
};

class Converter {
 public:
  Status Convert(const YAML::Node& in, YamlNode& out, int depth) {
    if (++nodes_ > kMaxNodes) {
      return InvalidArgumentError("document too large (more than " + std::to_string(kMaxNodes) +
                                  " nodes after expanding aliases)");
    }
    YAML::Mark mark = in.Mark();
    if (depth > kMaxDepth) return TooDeep(mark.is_null() ? 0 : mark.line + 1);
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
  if (IsCoreInt(s)) return ScalarType::kInt;
  if (IsCoreFloat(s)) return ScalarType::kFloat;
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

namespace {

// Receives a document's parse events and keeps only where the document started.
class DocumentStart final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { mark_ = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  const YAML::Mark& mark() const { return mark_; }

 private:
  YAML::Mark mark_;
};

// yaml-cpp 0.7's LoadAll never returns on some malformed streams (a lone ',' is one): the
// parser reports an empty document without consuming the token, again and again, and LoadAll
// collects them until memory runs out. A first pass over the events stops at the first
// document that starts where the previous one did; LoadAll runs only on streams that end.
// Throws YAML::Exception like LoadAll.
std::vector<YAML::Node> LoadAllDocuments(const std::string& text) {
  std::istringstream stream(text);
  YAML::Parser parser(stream);
  DocumentStart start;
  int previous = -1;
  while (parser.HandleNextDocument(start)) {
    if (start.mark().pos == previous) {
      throw YAML::ParserException(start.mark(), "unexpected character; no document starts here");
    }
    previous = start.mark().pos;
  }
  return YAML::LoadAll(text);
}

}  // namespace

Result<std::vector<YamlNode>> ParseYamlDocuments(std::string_view text,
                                                 std::string_view source_name) {
  for (Status s : {CheckCharacters(text), NestingScanner().Scan(text)}) {
    if (!s.ok())
      return InvalidArgumentError(std::string(source_name) + ": " + std::string(s.message()));
  }
  std::vector<YAML::Node> docs;
  try {
    docs = LoadAllDocuments(std::string(text));
  } catch (const YAML::DeepRecursion& e) {
    return InvalidArgumentError(
        std::string(source_name) + ": " +
        std::string(TooDeep(e.mark.is_null() ? 0 : e.mark.line + 1).message()));
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

}  // namespace datacube::cube
