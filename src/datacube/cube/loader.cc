#include "datacube/cube/loader.h"

#include <unistd.h>

#include <algorithm>
#include <climits>

#include "datacube/cube/decode.h"
#include "datacube/io/small_file.h"

namespace datacube::cube {
namespace {

// A cube is a few kilobytes; refuse anything that is clearly not one before parsing it.
constexpr size_t kMaxCubeBytes = 4 << 20;

// Errors found after decoding carry a field path only; give them the position of the closest
// field that was seen ("spec.source.options[2].name" -> that node, or its parent).
// Errors are then listed in the order of the document, as a reader goes through it.
Diagnostics WithPositions(const Diagnostics& in, const PositionIndex& positions) {
  std::vector<FieldError> placed;
  for (const FieldError& e : in.errors()) {
    int line = e.line;
    int column = e.column;
    std::string path = e.path;
    while (line == 0 && !path.empty()) {
      if (auto it = positions.find(path); it != positions.end()) {
        line = it->second.first;
        column = it->second.second;
        break;
      }
      size_t cut = path.find_last_of(".[");
      path = cut == std::string::npos ? "" : path.substr(0, cut);
    }
    placed.push_back({e.path, e.message, line, column});
  }
  auto key = [](const FieldError& e) {
    return std::pair(e.line == 0 ? INT_MAX : e.line, e.column);
  };
  std::stable_sort(placed.begin(), placed.end(),
                   [&](const FieldError& a, const FieldError& b) { return key(a) < key(b); });
  Diagnostics out;
  for (auto& e : placed) out.Add(std::move(e.path), std::move(e.message), e.line, e.column);
  return out;
}

}  // namespace

Status LoadResult::status() const {
  if (!parse_error.ok()) return parse_error;
  return diagnostics.ToStatus(source_name);
}

LoadResult LoadCube(std::string_view text, std::string_view source_name,
                    const ValidateOptions& options) {
  LoadResult out;
  out.source_name = std::string(source_name);
  auto docs = ParseYamlDocuments(text, source_name);
  if (!docs.ok()) {
    out.parse_error = docs.status();
    return out;
  }
  std::vector<YamlNode> non_empty;
  for (auto& d : *docs) {
    if (!d.is_null()) non_empty.push_back(std::move(d));
  }
  if (non_empty.size() != 1) {
    out.parse_error = InvalidArgumentError(std::string(source_name) +
                                           ": expected exactly one DataCube document, found " +
                                           std::to_string(non_empty.size()));
    return out;
  }
  Diagnostics diag;
  DecodedCube decoded = DecodeDataCube(non_empty[0], diag);
  out.cube = std::move(decoded.cube);
  // Whole-cube rules need the decoded shape; run them even after shape errors so that the user
  // sees everything at once, but they tolerate missing pieces.
  out.extra_args = ValidateDataCube(out.cube, options, diag);
  out.diagnostics = WithPositions(diag, decoded.positions);
  return out;
}

LoadResult UnreadableCube(const Status& error, std::string_view source_name) {
  LoadResult out;
  out.source_name = std::string(source_name);
  out.parse_error = error.ok() ? InternalError("no error") : error;
  return out;
}

Result<std::string> ReadCubeFile(const std::string& path) {
  // A cube file that cannot be read is an input error (exit 2), like a bad flag. Only standard
  // input may be a pipe; a path must name a regular file, so a FIFO without a writer cannot hang
  // the run and /dev/zero cannot exhaust memory.
  Result<std::string> text = path == "-"
                                 ? io::ReadSmallFd(STDIN_FILENO, kMaxCubeBytes, "standard input")
                                 : io::ReadSmallFile(path, kMaxCubeBytes, "DataCube file");
  if (text.ok()) return text;
  std::string message(text.status().message());
  if (message.rfind("reading ", 0) == 0) message = "cannot read " + message.substr(8);
  return InvalidArgumentError(message);
}

}  // namespace datacube::cube
