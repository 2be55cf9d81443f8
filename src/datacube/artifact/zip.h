// A minimal zip reader over a ByteReader, enough to look inside PyTorch's checkpoint archives:
// the central directory (zip64 included) and one entry's bytes, stored or deflated. Only the
// directory and the entries asked for are read, so a remote archive costs a few ranged reads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "datacube/artifact/reader.h"
#include "datacube/base/result.h"

namespace datacube::artifact {

inline constexpr uint64_t kMaxZipEntries = 1u << 20;

struct ZipEntry {
  std::string name;
  uint16_t method = 0;  // 0 stored, 8 deflated
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0;
  uint64_t size = 0;
  uint64_t local_header_offset = 0;
};

// True when the reader starts with a zip local file header ("PK\3\4").
bool LooksLikeZip(ByteReader& reader);

// The entries of the central directory, in order. kInvalidArgument ("zip: ...") when the end
// record, the directory or an entry lies outside the file or does not parse.
Result<std::vector<ZipEntry>> ReadZipDirectory(ByteReader& reader);

// The entry's uncompressed bytes, checked against its CRC-32; kInvalidArgument for an entry
// larger than max_bytes, an unsupported method, or data that does not inflate to its size.
Result<std::string> ReadZipEntry(ByteReader& reader, const ZipEntry& entry, uint64_t max_bytes);

}  // namespace datacube::artifact
