// spec.executor.options.extraArgs: the engine flags a DataCube may pass to its transfer.
//
// Only a documented set is accepted (docs/datacube-spec.md lists it); anything else is a
// validation error naming the item, so a typo cannot silently change what a cube does. Both
// "--flag value" (two items, as the DataCube guide writes `--cache-dir`, `/tmp/cache/hf`) and
// "--flag=value" (one item) are accepted.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "datacube/cube/diagnostics.h"
#include "datacube/transfer/job.h"

namespace datacube::cube {

struct ExtraArgs {
  std::optional<size_t> jobs;         // --jobs N
  std::optional<uint64_t> part_size;  // --part-size SIZE
  std::optional<uint64_t> bwlimit;    // --bwlimit RATE (bytes per second)
  std::optional<int> retries;         // --retries N: attempts per request
  std::vector<std::string> include;   // --include GLOB (repeatable)
  std::vector<std::string> exclude;   // --exclude GLOB (repeatable)
  bool checksum = false;              // --checksum
  bool size_only = false;             // --size-only
  bool no_resume = false;             // --no-resume
  bool strict = false;                // --strict
  std::string cache_dir;              // --cache-dir DIR: passed to backends that cache
};

struct ExtraArgSpec {
  std::string_view flag;
  bool takes_value;
  std::string_view doc;
};

// The accepted flags, in documentation order.
std::span<const ExtraArgSpec> ExtraArgSpecs();

// Parses `args`; every problem is reported at "<path>[i]" (unknown flag with a suggestion,
// missing or invalid value, conflicting flags).
ExtraArgs ParseExtraArgs(const std::vector<std::string>& args, const std::string& path,
                         Diagnostics& diag);

// Applies parsed flags to transfer options (unset flags keep the options' defaults). Fails only
// for globs the engine rejects, which ParseExtraArgs already reported.
Status ApplyExtraArgs(const ExtraArgs& args, transfer::TransferOptions& options);

}  // namespace datacube::cube
