// A half-open byte range [offset, offset + length) within an object.
#pragma once

#include <cstdint>
#include <limits>

namespace datacube {

struct ByteRange {
  static constexpr uint64_t kToEnd = std::numeric_limits<uint64_t>::max();

  uint64_t offset = 0;
  uint64_t length = kToEnd;  // kToEnd reads to the end of the object

  static ByteRange All() { return {}; }
  bool is_all() const { return offset == 0 && length == kToEnd; }
  // The end offset, clamped to `size`.
  uint64_t EndWithin(uint64_t size) const {
    if (length == kToEnd || offset + length > size) return size;
    return offset + length;
  }
  friend bool operator==(const ByteRange&, const ByteRange&) = default;
};

}  // namespace datacube
