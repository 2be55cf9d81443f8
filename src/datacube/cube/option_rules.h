// The options each endpoint type accepts, per direction: the DataCube guide's, plus our
// extensions.
//
// One table drives validation (unknown, missing, literal-only options), redaction (which values
// are credentials even when written literally) and the documentation in docs/datacube-spec.md.
// Option names are also the keys of transfer::StoreConfig::options that the backends read.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "datacube/cube/cube.h"

namespace datacube::cube {

struct OptionRule {
  std::string_view name;
  bool on_source = false;  // accepted when the type is the source (a download)
  bool on_sink = false;    // accepted when the type is the sink (an upload)
  bool required = false;   // on every side where it is accepted
  // Must be a literal `value` (the DataCube guide requires this for `files` and `s3-uri`: the
  // controller reads them to plan the transfer, before any Secret is mounted).
  bool literal_only = false;
  // A credential: redacted wherever it could surface, even when written as a literal.
  bool credential = false;
  std::string_view doc;
};

// Every option of `type` (empty for pvc).
std::span<const OptionRule> OptionRulesFor(EndpointType type);

// The rule for `name` on the given side, or nullptr when the option is not accepted there.
const OptionRule* FindOptionRule(EndpointType type, bool is_sink, std::string_view name);

// Names accepted on that side, for "did you mean" and messages.
std::vector<std::string_view> OptionNamesFor(EndpointType type, bool is_sink);

}  // namespace datacube::cube
