#include "datacube/artifact/gguf.h"

#include <string>
#include <vector>

namespace datacube::artifact {
namespace {

Status Invalid(std::string message) { return InvalidArgumentError("gguf: " + message); }

// Metadata value types of the format.
enum ValueType : uint32_t {
  kString = 8,
  kArray = 9,
  kLastType = 12,
};
constexpr int kMaxArrayNesting = 3;
constexpr uint64_t kMaxNameBytes = 1u << 20;  // keys and tensor names
constexpr uint32_t kMaxDims = 4;
constexpr uint64_t kDefaultAlignment = 32;

// Size in bytes of a fixed-size value type, 0 for string and array.
uint64_t FixedSize(uint32_t type) {
  static constexpr uint64_t kSizes[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
  return kSizes[type];
}

struct GgmlType {
  uint64_t block_elements;
  uint64_t block_bytes;
};

// Block layout of each ggml tensor type; {0, 0} for ids that are unknown or retired.
GgmlType GgmlLayout(uint32_t type) {
  static constexpr GgmlType kTypes[] = {
      {1, 4},    {1, 2},    {32, 18},  {32, 20},   {0, 0},     {0, 0},     {32, 22},   {32, 24},
      {32, 34},  {32, 36},  {256, 84}, {256, 110}, {256, 144}, {256, 176}, {256, 210}, {256, 292},
      {256, 66}, {256, 74}, {256, 98}, {256, 50},  {32, 18},   {256, 110}, {256, 82},  {256, 136},
      {1, 1},    {1, 2},    {1, 4},    {1, 8},     {1, 8},     {256, 56},  {1, 2},     {0, 0},
      {0, 0},    {0, 0},    {256, 54}, {256, 66}};
  return type < std::size(kTypes) ? kTypes[type] : GgmlType{0, 0};
}

// A position in the file with bounds-checked little-endian reads.
class Cursor {
 public:
  explicit Cursor(ByteReader& reader) : reader_(reader), size_(reader.size()) {}
  uint64_t position() const { return position_; }
  uint64_t remaining() const { return size_ - position_; }

  Status Skip(uint64_t bytes, const std::string& what) {
    if (bytes > remaining()) {
      return Invalid(what + " at offset " + std::to_string(position_) + " needs " +
                     std::to_string(bytes) + " bytes, past the end of the file");
    }
    position_ += bytes;
    return Status::Ok();
  }
  Result<uint64_t> ReadUint(int bytes, const std::string& what) {
    uint8_t buffer[8];
    uint64_t at = position_;
    DC_RETURN_IF_ERROR(Skip(bytes, what));
    DC_RETURN_IF_ERROR(reader_.ReadAt(at, std::span<uint8_t>(buffer, bytes)));
    uint64_t value = 0;
    for (int i = bytes - 1; i >= 0; --i) value = (value << 8) | buffer[i];
    return value;
  }
  // A string's length, checked against the end of the file.
  Result<uint64_t> ReadStringLength(const std::string& what) {
    DC_ASSIGN_OR_RETURN(uint64_t length, ReadUint(8, what + " length"));
    if (length > remaining()) {
      return Invalid(what + " length " + std::to_string(length) + " at offset " +
                     std::to_string(position_ - 8) + " runs past the end of the file");
    }
    return length;
  }
  Result<std::string> ReadName(const std::string& what) {
    DC_ASSIGN_OR_RETURN(uint64_t length, ReadStringLength(what));
    if (length > kMaxNameBytes) return Invalid(what + " is longer than 1 MiB");
    std::string text(length, '\0');
    DC_RETURN_IF_ERROR(reader_.ReadAt(
        position_, std::span<uint8_t>(reinterpret_cast<uint8_t*>(text.data()), length)));
    position_ += length;
    return text;
  }

 private:
  ByteReader& reader_;
  uint64_t size_;
  uint64_t position_ = 0;
};

Status SkipValue(Cursor& cursor, uint32_t type, int depth, const std::string& key);

Status SkipArray(Cursor& cursor, int depth, const std::string& key) {
  if (depth >= kMaxArrayNesting) return Invalid("key \"" + key + "\": arrays nested too deep");
  DC_ASSIGN_OR_RETURN(uint64_t type, cursor.ReadUint(4, "key \"" + key + "\" array type"));
  if (type > kLastType) {
    return Invalid("key \"" + key + "\": unknown array element type " + std::to_string(type));
  }
  DC_ASSIGN_OR_RETURN(uint64_t count, cursor.ReadUint(8, "key \"" + key + "\" array length"));
  // The smallest encoding of one element: a string is at least its length, an array its header.
  uint64_t min_bytes = type == kString ? 8 : type == kArray ? 12 : FixedSize(type);
  if (count > cursor.remaining() / min_bytes) {
    return Invalid("key \"" + key + "\": array of " + std::to_string(count) +
                   " elements cannot fit in the rest of the file");
  }
  if (type != kString && type != kArray) {
    return cursor.Skip(count * min_bytes, "key \"" + key + "\" array");
  }
  for (uint64_t i = 0; i < count; ++i) {
    DC_RETURN_IF_ERROR(SkipValue(cursor, static_cast<uint32_t>(type), depth + 1, key));
  }
  return Status::Ok();
}

Status SkipValue(Cursor& cursor, uint32_t type, int depth, const std::string& key) {
  if (type == kString) {
    DC_ASSIGN_OR_RETURN(uint64_t length, cursor.ReadStringLength("key \"" + key + "\" string"));
    return cursor.Skip(length, "key \"" + key + "\" string");
  }
  if (type == kArray) return SkipArray(cursor, depth, key);
  return cursor.Skip(FixedSize(type), "key \"" + key + "\" value");
}

// Reads one key/value; records general.alignment when it is the key.
Status ReadKeyValue(Cursor& cursor, uint64_t& alignment) {
  DC_ASSIGN_OR_RETURN(std::string key, cursor.ReadName("metadata key"));
  DC_ASSIGN_OR_RETURN(uint64_t type, cursor.ReadUint(4, "key \"" + key + "\" type"));
  if (type > kLastType) {
    return Invalid("key \"" + key + "\": unknown value type " + std::to_string(type));
  }
  if (key != "general.alignment") return SkipValue(cursor, static_cast<uint32_t>(type), 0, key);
  if (type != 4) return Invalid("general.alignment is not a uint32");
  DC_ASSIGN_OR_RETURN(alignment, cursor.ReadUint(4, "general.alignment"));
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
    return Invalid("general.alignment " + std::to_string(alignment) + " is not a power of two");
  }
  return Status::Ok();
}

struct TensorInfo {
  std::string name;
  uint64_t bytes = 0;
  uint64_t offset = 0;
};

Result<uint64_t> TensorBytes(const std::string& name, const std::vector<uint64_t>& dims,
                             uint32_t type) {
  GgmlType layout = GgmlLayout(type);
  if (layout.block_elements == 0) {
    return Invalid("tensor \"" + name + "\": unknown ggml type " + std::to_string(type));
  }
  uint64_t elements = 1;
  for (uint64_t d : dims) {
    if (d != 0 && elements > UINT64_MAX / d) {
      return Invalid("tensor \"" + name + "\": element count overflows 64 bits");
    }
    elements *= d;
  }
  if (!dims.empty() && dims[0] % layout.block_elements != 0) {
    return Invalid("tensor \"" + name + "\": first dimension " + std::to_string(dims[0]) +
                   " is not a multiple of the block size " + std::to_string(layout.block_elements));
  }
  uint64_t blocks = elements / layout.block_elements;
  if (blocks > UINT64_MAX / layout.block_bytes) {
    return Invalid("tensor \"" + name + "\": byte size overflows 64 bits");
  }
  return blocks * layout.block_bytes;
}

Result<TensorInfo> ReadTensorInfo(Cursor& cursor) {
  TensorInfo info;
  DC_ASSIGN_OR_RETURN(info.name, cursor.ReadName("tensor name"));
  const std::string what = "tensor \"" + info.name + "\"";
  DC_ASSIGN_OR_RETURN(uint64_t n_dims, cursor.ReadUint(4, what + " n_dims"));
  if (n_dims > kMaxDims) {
    return Invalid(what + ": " + std::to_string(n_dims) + " dimensions, more than 4");
  }
  std::vector<uint64_t> dims(n_dims);
  for (uint64_t& d : dims) {
    DC_ASSIGN_OR_RETURN(d, cursor.ReadUint(8, what + " dimension"));
  }
  DC_ASSIGN_OR_RETURN(uint64_t type, cursor.ReadUint(4, what + " type"));
  DC_ASSIGN_OR_RETURN(info.bytes, TensorBytes(info.name, dims, static_cast<uint32_t>(type)));
  DC_ASSIGN_OR_RETURN(info.offset, cursor.ReadUint(8, what + " offset"));
  return info;
}

Status CheckTensorData(const TensorInfo& tensor, const GgufInfo& info, uint64_t file_bytes) {
  const std::string what = "tensor \"" + tensor.name + "\"";
  if (tensor.offset % info.alignment != 0) {
    return Invalid(what + ": offset " + std::to_string(tensor.offset) + " is not aligned to " +
                   std::to_string(info.alignment));
  }
  uint64_t room = file_bytes - info.data_offset;
  if (tensor.offset > room || tensor.bytes > room - tensor.offset) {
    return Invalid(what + ": data (" + std::to_string(tensor.bytes) + " bytes at offset " +
                   std::to_string(tensor.offset) + ") runs past the end of the file");
  }
  return Status::Ok();
}

Status ReadPreamble(Cursor& cursor, ByteReader& reader, GgufInfo& info) {
  if (reader.size() < 4) return Invalid("file too short for the magic");
  uint8_t magic[4];
  DC_RETURN_IF_ERROR(reader.ReadAt(0, magic));
  if (std::string(magic, magic + 4) != "GGUF") return Invalid("bad magic, not \"GGUF\"");
  DC_RETURN_IF_ERROR(cursor.Skip(4, "magic"));
  DC_ASSIGN_OR_RETURN(uint64_t version, cursor.ReadUint(4, "version"));
  if (version != 2 && version != 3) {
    return Invalid("version " + std::to_string(version) + " is not supported (2 or 3)");
  }
  info.version = static_cast<uint32_t>(version);
  DC_ASSIGN_OR_RETURN(info.tensor_count, cursor.ReadUint(8, "tensor count"));
  DC_ASSIGN_OR_RETURN(info.kv_count, cursor.ReadUint(8, "metadata count"));
  if (info.tensor_count > kMaxGgufTensors) {
    return Invalid("tensor count " + std::to_string(info.tensor_count) + " exceeds 1M");
  }
  if (info.kv_count > kMaxGgufKeyValues) {
    return Invalid("metadata count " + std::to_string(info.kv_count) + " exceeds 1M");
  }
  return Status::Ok();
}

}  // namespace

Result<GgufInfo> ValidateGguf(ByteReader& reader) {
  Cursor cursor(reader);
  GgufInfo info;
  DC_RETURN_IF_ERROR(ReadPreamble(cursor, reader, info));
  info.alignment = kDefaultAlignment;
  for (uint64_t i = 0; i < info.kv_count; ++i) {
    DC_RETURN_IF_ERROR(ReadKeyValue(cursor, info.alignment));
  }
  std::vector<TensorInfo> tensors;
  for (uint64_t i = 0; i < info.tensor_count; ++i) {
    DC_ASSIGN_OR_RETURN(TensorInfo tensor, ReadTensorInfo(cursor));
    tensors.push_back(std::move(tensor));
  }
  uint64_t end = cursor.position();
  info.data_offset = (end + info.alignment - 1) / info.alignment * info.alignment;
  if (!tensors.empty() && info.data_offset > reader.size()) {
    return Invalid("tensor data would start past the end of the file");
  }
  for (const TensorInfo& tensor : tensors) {
    DC_RETURN_IF_ERROR(CheckTensorData(tensor, info, reader.size()));
  }
  return info;
}

}  // namespace datacube::artifact
