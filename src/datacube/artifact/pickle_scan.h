// Pickle opcode scanner: decides whether a pickle (e.g. PyTorch's data.pkl) would import anything
// beyond the callables needed to rebuild tensors, without ever unpickling it.
//
// The scanner walks the opcodes of pickle protocols 0-5, parses every argument, and simulates the
// unpickler's stack only as far as needed to know which strings STACK_GLOBAL consumes (strings
// may reach it through the memo via BINPUT/MEMOIZE and BINGET). Every callable the pickle imports
// (GLOBAL, STACK_GLOBAL, INST) is recorded and checked against a small allow-list; anything else,
// and any extension-registry code (EXT1/2/4, whose target cannot be known here), makes the verdict
// unsafe. A malformed pickle (truncated argument, unknown opcode, stack underflow, missing STOP)
// is an error, not a verdict.
//
// Work is bounded: one pass, every opcode consumes at least one byte, the memo holds at most
// kMaxPickleMemoEntries entries and at most kMaxPickleImports distinct imports are recorded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "datacube/base/result.h"

namespace datacube::artifact {

inline constexpr size_t kMaxPickleMemoEntries = size_t{1} << 22;
inline constexpr size_t kMaxPickleImports = 1024;
// Longer module or callable names are recorded cut to this size (and never allowed).
inline constexpr size_t kMaxPickleNameLength = 256;

// One distinct imported callable, e.g. module "torch._utils", name "_rebuild_tensor_v2".
struct PickleImport {
  std::string module;
  std::string name;
  size_t offset = 0;  // of the first opcode importing it
  bool allowed = false;

  std::string FullName() const { return module + "." + name; }
};

struct PickleScan {
  int protocol = 0;  // from PROTO; 0 when absent
  size_t opcodes = 0;
  size_t end = 0;                     // offset just past STOP: where a following pickle would start
  std::vector<PickleImport> imports;  // distinct, in order of first appearance
  // Why the pickle is unsafe, one line per cause: "unsafe: calls os.system". Empty when safe.
  std::vector<std::string> reasons;

  bool safe() const { return reasons.empty(); }
};

// True if unpickling may call module.name: tensor, storage, dtype and container rebuilders of
// PyTorch and NumPy only (see pickle_scan.cc for the list and why each entry is harmless).
bool IsAllowedPickleImport(std::string_view module, std::string_view name);

// Scans a whole pickle, up to and including its STOP opcode (bytes after STOP are ignored).
// kInvalidArgument, naming the byte offset, for a pickle that does not parse.
Result<PickleScan> ScanPickle(std::span<const uint8_t> data);

}  // namespace datacube::artifact
