// $(NAME) references: the expander itself, and the whole path a cube's literal values take
// (validation's cycle check, then resolution, which expands values that name each other).
//
// Input: one "NAME=value" per line. Each line becomes an executor.env entry of a fixed, valid
// DataCube; the lines are also expanded directly against each other. A value may reference any
// name, so chains, diamonds, cycles and escapes ("$$(A)") are all reachable.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "datacube/cube/expand.h"
#include "datacube/cube/loader.h"
#include "datacube/cube/resolve.h"
#include "datacube/cube/validate.h"
#include "fuzz_input.h"

using namespace datacube;
using namespace datacube::cube;

namespace {

constexpr std::string_view kTemplate = R"(apiVersion: tensorstack.dev/v1beta1
kind: DataCube
metadata:
  name: expand
spec:
  source:
    type: s3
    options:
    - name: s3-endpoint
      value: http://127.0.0.1:9
    - name: s3-access-key-id
      value: AKIAFUZZFUZZFUZZFUZZ
    - name: s3-secret-access-key
      value: fuzz-secret-key
    - name: s3-uri
      value: s3://bucket/path
  sink:
    type: pvc
    pvc:
      name: datacube-pvc
)";

const DataCube& Template() {
  static const DataCube cube = [] {
    LoadResult r = LoadCube(kTemplate, "template.yaml", ValidateOptions{});
    if (!r.ok()) std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
    fuzz::Check(r.ok(), "the template cube is valid");
    return r.cube;
  }();
  return cube;
}

std::vector<std::pair<std::string, std::string>> SplitDefinitions(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    out.emplace_back(std::string(line.substr(0, eq)), std::string(line.substr(eq + 1)));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto defs = SplitDefinitions(fuzz::AsText(data, size));

  // One level of expansion: every non-empty reference is looked up exactly once.
  std::map<std::string, std::string, std::less<>> vars(defs.begin(), defs.end());
  for (const auto& [name, value] : defs) {
    size_t lookups = 0;
    std::string expanded = ExpandReferences(value, [&](std::string_view ref) {
      ++lookups;
      auto it = vars.find(ref);
      return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
    });
    fuzz::Check(lookups == ReferencedNames(value).size(),
                "ReferencedNames lists every reference the expander looks up");
    // The size computed without expanding, and the bounded expansion, agree with the real one.
    size_t size = ExpandedSize(value, [&](std::string_view ref) {
      auto it = vars.find(ref);
      return it == vars.end() ? std::nullopt : std::optional<size_t>(it->second.size());
    });
    fuzz::Check(size == expanded.size(), "ExpandedSize is the size of the expansion");
    for (size_t cap : {size_t{0}, expanded.size() / 2, expanded.size(), expanded.size() + 1}) {
      auto bounded = ExpandReferencesBounded(
          value,
          [&](std::string_view ref) {
            auto it = vars.find(ref);
            return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
          },
          cap);
      fuzz::Check(bounded.has_value() == (expanded.size() <= cap),
                  "a bounded expansion gives up exactly when the result exceeds the cap");
      fuzz::Check(!bounded || *bounded == expanded, "a bounded expansion that fits is the same");
    }
    // Without definitions only "$$" escapes shrink the text; nothing grows.
    std::string literal = ExpandReferences(value, [](std::string_view) { return std::nullopt; });
    fuzz::Check(literal.size() <= value.size(), "expanding undefined names never grows the text");
  }

  // The cube path: validation decides, resolution expands.
  DataCube cube = Template();
  for (size_t i = 0; i < defs.size(); ++i) {
    NamedValue nv;
    nv.name = defs[i].first;
    nv.value = defs[i].second;
    nv.path = "spec.executor.env[" + std::to_string(i) + "]";
    cube.executor.env.push_back(std::move(nv));
  }
  Diagnostics diag;
  ValidateDataCube(cube, ValidateOptions{}, diag);
  if (!diag.ok()) return 0;
  ValueSources sources;
  sources.getenv = [](const std::string&) { return std::optional<std::string>(); };
  auto resolved = ResolveCube(cube, sources);
  if (resolved.ok()) {
    for (const auto& [name, value] : resolved->env) {
      fuzz::Check(value.size() <= kMaxExpandedValueBytes, "an expanded value stays under its cap");
    }
    (void)CheckResolvedOptions(cube, *resolved);
  }
  return 0;
}
