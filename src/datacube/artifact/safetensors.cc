#include "datacube/artifact/safetensors.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace datacube::artifact {
namespace {

using nlohmann::json;

struct Span {
  std::string name;
  uint64_t begin = 0;
  uint64_t end = 0;
};

Status Invalid(std::string message) { return InvalidArgumentError("safetensors: " + message); }

Status TensorInvalid(const std::string& name, std::string_view reason) {
  return Invalid("tensor \"" + name + "\": " + std::string(reason));
}

// Bytes per element, or 0 for an unknown dtype.
uint64_t DtypeSize(std::string_view dtype) {
  static const std::map<std::string_view, uint64_t> kSizes = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1},
      {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},
      {"U32", 4},  {"F32", 4}, {"F64", 8}, {"I64", 8},     {"U64", 8}};
  auto it = kSizes.find(dtype);
  return it == kSizes.end() ? 0 : it->second;
}

Result<uint64_t> LittleEndian64(ByteReader& reader) {
  uint8_t bytes[8];
  DC_RETURN_IF_ERROR(reader.ReadAt(0, bytes));
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | bytes[i];
  return value;
}

// The tensor's size in bytes: the product of its shape times the dtype size.
Result<uint64_t> TensorBytes(const std::string& name, const json& tensor) {
  auto dtype = tensor.find("dtype");
  if (dtype == tensor.end() || !dtype->is_string()) {
    return TensorInvalid(name, "dtype missing or not a string");
  }
  uint64_t size = DtypeSize(dtype->get_ref<const std::string&>());
  if (size == 0) {
    return TensorInvalid(name, "unknown dtype \"" + dtype->get<std::string>() + "\"");
  }
  auto shape = tensor.find("shape");
  if (shape == tensor.end() || !shape->is_array()) {
    return TensorInvalid(name, "shape missing or not an array");
  }
  uint64_t bytes = size;
  for (const json& dim : *shape) {
    if (!dim.is_number_unsigned()) {
      return TensorInvalid(name, "shape holds something other than a non-negative integer");
    }
    uint64_t d = dim.get<uint64_t>();
    if (d != 0 && bytes > UINT64_MAX / d) {
      return TensorInvalid(name, "shape product times dtype size overflows 64 bits");
    }
    bytes *= d;
  }
  return bytes;
}

Result<Span> TensorSpan(const std::string& name, const json& tensor) {
  if (!tensor.is_object()) return TensorInvalid(name, "entry is not a JSON object");
  DC_ASSIGN_OR_RETURN(uint64_t bytes, TensorBytes(name, tensor));
  auto offsets = tensor.find("data_offsets");
  if (offsets == tensor.end() || !offsets->is_array() || offsets->size() != 2 ||
      !(*offsets)[0].is_number_unsigned() || !(*offsets)[1].is_number_unsigned()) {
    return TensorInvalid(name, "data_offsets is not [begin, end] of non-negative integers");
  }
  Span span{name, (*offsets)[0].get<uint64_t>(), (*offsets)[1].get<uint64_t>()};
  if (span.end < span.begin) return TensorInvalid(name, "data_offsets end before begin");
  if (span.end - span.begin != bytes) {
    return TensorInvalid(name, "data_offsets span " + std::to_string(span.end - span.begin) +
                                   " bytes, dtype and shape need " + std::to_string(bytes));
  }
  return span;
}

Status CheckMetadata(const json& metadata) {
  if (!metadata.is_object()) return Invalid("__metadata__ is not a JSON object");
  for (const auto& [key, value] : metadata.items()) {
    if (!value.is_string()) return Invalid("__metadata__ value of \"" + key + "\" is not a string");
  }
  return Status::Ok();
}

// The spans, sorted by offset, must tile [0, data_bytes) with no overlap and no gap.
Status CheckCoverage(std::vector<Span>& spans, uint64_t data_bytes) {
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t covered = 0;
  const Span* previous = nullptr;
  for (const Span& span : spans) {
    if (span.begin < covered) {
      return TensorInvalid(span.name, "data_offsets overlap tensor \"" + previous->name + "\"");
    }
    if (span.begin > covered) {
      return TensorInvalid(span.name, "gap of " + std::to_string(span.begin - covered) +
                                          " bytes before its data_offsets");
    }
    if (span.end > data_bytes) {
      return TensorInvalid(span.name, "data_offsets end " + std::to_string(span.end) +
                                          " is past the data area (" + std::to_string(data_bytes) +
                                          " bytes)");
    }
    covered = span.end;
    previous = &span;
  }
  if (covered != data_bytes) {
    return Invalid(std::to_string(data_bytes - covered) +
                   " bytes at the end of the data area belong to no tensor");
  }
  return Status::Ok();
}

Result<json> ReadHeader(ByteReader& reader, uint64_t header_bytes) {
  std::string text(header_bytes, '\0');
  DC_RETURN_IF_ERROR(
      reader.ReadAt(8, std::span<uint8_t>(reinterpret_cast<uint8_t*>(text.data()), text.size())));
  json header = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded()) return Invalid("header is not valid JSON");
  if (!header.is_object()) return Invalid("header is not a JSON object");
  return header;
}

}  // namespace

Result<SafetensorsInfo> ValidateSafetensors(ByteReader& reader) {
  const uint64_t file_bytes = reader.size();
  if (file_bytes < 8) {
    return Invalid("file is " + std::to_string(file_bytes) +
                   " bytes, too short for the 8-byte header length");
  }
  DC_ASSIGN_OR_RETURN(uint64_t header_bytes, LittleEndian64(reader));
  if (header_bytes > kMaxSafetensorsHeaderBytes) {
    return Invalid("header length " + std::to_string(header_bytes) + " exceeds the 100 MB limit");
  }
  if (header_bytes > file_bytes - 8) {
    return Invalid("header length " + std::to_string(header_bytes) +
                   " runs past the end of the file (" + std::to_string(file_bytes) + " bytes)");
  }
  DC_ASSIGN_OR_RETURN(json header, ReadHeader(reader, header_bytes));
  std::vector<Span> spans;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      DC_RETURN_IF_ERROR(CheckMetadata(entry));
      continue;
    }
    DC_ASSIGN_OR_RETURN(Span span, TensorSpan(name, entry));
    spans.push_back(std::move(span));
  }
  SafetensorsInfo info;
  info.tensor_count = spans.size();
  info.header_bytes = header_bytes;
  info.data_bytes = file_bytes - 8 - header_bytes;
  DC_RETURN_IF_ERROR(CheckCoverage(spans, info.data_bytes));
  return info;
}

}  // namespace datacube::artifact
