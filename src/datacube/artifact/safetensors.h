// Validation of a safetensors file from its header alone: an 8-byte little-endian header length,
// a JSON object naming each tensor's dtype, shape and byte span, then the data. The data is never
// read; the spans must tile it exactly.
#pragma once

#include <cstdint>

#include "datacube/artifact/reader.h"
#include "datacube/base/result.h"

namespace datacube::artifact {

// The largest header accepted; the format's reference implementation uses the same bound.
inline constexpr uint64_t kMaxSafetensorsHeaderBytes = 100ull * 1000 * 1000;

struct SafetensorsInfo {
  uint64_t tensor_count = 0;
  uint64_t header_bytes = 0;
  uint64_t data_bytes = 0;
};

// kInvalidArgument naming the first rule broken; a read error as the reader reports it.
Result<SafetensorsInfo> ValidateSafetensors(ByteReader& reader);

}  // namespace datacube::artifact
