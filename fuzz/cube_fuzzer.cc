// DataCube files: YAML parsing, decoding and validation (what `validate-cube` and `run` do with
// a spec before anything moves), then option resolution and $(NAME) expansion of literal values
// for cubes that pass. Any crash, sanitizer report, leak or blow-up of time or memory is a bug:
// a spec is written by whoever submits a cube.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "datacube/cube/loader.h"
#include "datacube/cube/resolve.h"
#include "datacube/cube/validate.h"
#include "fuzz_input.h"

using namespace datacube;
using namespace datacube::cube;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  LoadResult loaded = LoadCube(fuzz::AsText(data, size), "fuzz.yaml", ValidateOptions{});
  Status status = loaded.status();
  fuzz::Check(loaded.ok() == status.ok(), "LoadResult::ok() agrees with status()");
  if (!loaded.ok()) {
    fuzz::Check(status.code() == StatusCode::kInvalidArgument, "spec errors are InvalidArgument");
    return 0;
  }
  // No Secret directories and an empty environment: valueFrom references fail as missing,
  // literal values are expanded. Nothing is read from the machine.
  ValueSources sources;
  sources.getenv = [](const std::string&) { return std::optional<std::string>(); };
  auto resolved = ResolveCube(loaded.cube, sources);
  // What `run` checks next, before it touches anything.
  if (resolved.ok()) (void)CheckResolvedOptions(loaded.cube, *resolved);
  return 0;
}
