// Kubernetes-style variable references in option and env values: "$(NAME)".
//
// The rules are those of a container's env in Kubernetes: "$(NAME)" is replaced by the value of
// NAME when NAME is defined and left as written when it is not; "$$" is an escaped "$" (so
// "$$(NAME)" yields the literal text "$(NAME)"); a "$" followed by anything else, or a "$(" with
// no closing ")", is kept as written. Only literal `value`s are expanded, never values read
// from Secrets or ConfigMaps. See docs/protocols/kubernetes.md#variable-references.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace datacube::cube {

// References can quote each other many times over ("A" = "$(B)$(B)", "B" = "$(C)$(C)", ...), so
// an expansion grows exponentially with the number of variables; every expanded value is capped,
// and so is the sum over a cube.
inline constexpr size_t kMaxExpandedValueBytes = 64 << 10;
inline constexpr size_t kMaxExpandedTotalBytes = 1 << 20;

using VariableLookup = std::function<std::optional<std::string>(std::string_view name)>;

// Expands every reference in `input` through `lookup`.
std::string ExpandReferences(std::string_view input, const VariableLookup& lookup);

// The same, but gives up (nullopt) as soon as the result would exceed `max_bytes`.
std::optional<std::string> ExpandReferencesBounded(std::string_view input,
                                                   const VariableLookup& lookup, size_t max_bytes);

// The size ExpandReferences would produce, without building it: `size_of` gives the expanded size
// of a defined name (nullopt: undefined, kept as written). Saturates at SIZE_MAX.
using SizeLookup = std::function<std::optional<size_t>(std::string_view name)>;
size_t ExpandedSize(std::string_view input, const SizeLookup& size_of);

// The names referenced by `input` (in order, with repeats), ignoring escaped ones.
std::vector<std::string> ReferencedNames(std::string_view input);

}  // namespace datacube::cube
