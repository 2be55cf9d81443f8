// Loading a DataCube file: read, parse, decode, validate, with every error reported at once.
//
//   LoadResult r = LoadCube(text, "cube.yaml", {.type_supported = TypeSupportedInThisBuild});
//   if (!r.ok()) { print r.status(); exit 2; }
//   use r.cube, r.extra_args
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "datacube/cube/cube.h"
#include "datacube/cube/diagnostics.h"
#include "datacube/cube/extra_args.h"
#include "datacube/cube/validate.h"

namespace datacube::cube {

struct LoadResult {
  DataCube cube;
  ExtraArgs extra_args;
  // Every problem, with positions in the source where known. Empty on success.
  Diagnostics diagnostics;
  // A YAML syntax error (the document could not be parsed at all); OK otherwise.
  Status parse_error;
  std::string source_name;

  bool ok() const { return parse_error.ok() && diagnostics.ok(); }
  // kInvalidArgument listing every error ("<source>:<line>:<col>: <path>: <message>" per line),
  // or OK.
  Status status() const;
};

// Parses and validates exactly one DataCube document from `text`.
LoadResult LoadCube(std::string_view text, std::string_view source_name,
                    const ValidateOptions& options);

// Reads a cube file ("-" reads standard input) of at most 4 MiB, checked while reading. Only a
// regular file is read ("cube.yaml is a directory, not a regular file"); a FIFO or a device is
// refused without blocking. Errors are kInvalidArgument and name the path.
Result<std::string> ReadCubeFile(const std::string& path);

// A LoadResult for a cube that could not even be read: parse_error holds `error`, so RunCube
// still reports it through the status (phase Failed, reason InvalidSpec).
LoadResult UnreadableCube(const Status& error, std::string_view source_name);

}  // namespace datacube::cube
