// Kubernetes-style variable references in option and env values: "$(NAME)".
//
// The rules are those of a container's env in Kubernetes: "$(NAME)" is replaced by the value of
// NAME when NAME is defined and left as written when it is not; "$$" is an escaped "$" (so
// "$$(NAME)" yields the literal text "$(NAME)"); a "$" followed by anything else, or a "$(" with
// no closing ")", is kept as written. Only literal `value`s are expanded, never values read
// from Secrets or ConfigMaps.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace datacube::spec {

using VariableLookup = std::function<std::optional<std::string>(std::string_view name)>;

// Expands every reference in `input` through `lookup`.
std::string ExpandReferences(std::string_view input, const VariableLookup& lookup);

// The names referenced by `input` (in order, with repeats), ignoring escaped ones.
std::vector<std::string> ReferencedNames(std::string_view input);

}  // namespace datacube::spec
