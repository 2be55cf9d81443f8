// Validation of a GGUF file (llama.cpp's format) from its header: magic, version, the metadata
// key/values, the tensor infos, the alignment, and that every tensor's data lies inside the file.
// The tensor data itself is never read.
#pragma once

#include <cstdint>

#include "datacube/artifact/reader.h"
#include "datacube/base/result.h"

namespace datacube::artifact {

inline constexpr uint64_t kMaxGgufTensors = 1u << 20;
inline constexpr uint64_t kMaxGgufKeyValues = 1u << 20;

struct GgufInfo {
  uint32_t version = 0;
  uint64_t tensor_count = 0;
  uint64_t kv_count = 0;
  uint64_t alignment = 0;
  uint64_t data_offset = 0;  // where the tensor data starts in the file
};

// kInvalidArgument naming the first rule broken; a read error as the reader reports it.
Result<GgufInfo> ValidateGguf(ByteReader& reader);

}  // namespace datacube::artifact
