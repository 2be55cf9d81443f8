#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "datacube/artifact/gguf.h"
#include "datacube/artifact/safetensors.h"

namespace datacube::artifact {
namespace {

// ---- safetensors ----

std::string LittleEndian(uint64_t value, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  return out;
}

std::string Safetensors(const std::string& header, uint64_t data_bytes) {
  return LittleEndian(header.size(), 8) + header + std::string(data_bytes, '\0');
}

const char kValidHeader[] = R"({"__metadata__":{"format":"pt"},)"
                            R"("w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
                            R"("b":{"dtype":"BF16","shape":[4],"data_offsets":[24,32]},)"
                            R"("e":{"dtype":"U8","shape":[0],"data_offsets":[32,32]}})";

void ExpectSafetensorsInvalid(const std::string& bytes, const std::string& reason) {
  StringReader reader(bytes);
  Result<SafetensorsInfo> result = ValidateSafetensors(reader);
  ASSERT_FALSE(result.ok()) << "expected failure: " << reason;
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << result.status().ToString();
  EXPECT_NE(result.status().message().find(reason), std::string::npos)
      << "got: " << result.status().message() << "\nwanted: " << reason;
}

TEST(SafetensorsTest, AcceptsAValidFile) {
  StringReader reader(Safetensors(kValidHeader, 32));
  Result<SafetensorsInfo> info = ValidateSafetensors(reader);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->tensor_count, 3u);
  EXPECT_EQ(info->data_bytes, 32u);
  EXPECT_EQ(info->header_bytes, sizeof(kValidHeader) - 1);
}

TEST(SafetensorsTest, AcceptsAValidFileOnDisk) {
  std::string path = ::testing::TempDir() + "/artifact_test.safetensors";
  std::ofstream(path, std::ios::binary) << Safetensors(kValidHeader, 32);
  Result<std::unique_ptr<FileReader>> reader = FileReader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  Result<SafetensorsInfo> info = ValidateSafetensors(**reader);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->tensor_count, 3u);
  std::remove(path.c_str());
}

TEST(SafetensorsTest, RejectsATruncatedFile) {
  ExpectSafetensorsInvalid("\x10\0\0", "too short for the 8-byte header length");
}

TEST(SafetensorsTest, RejectsHeaderLengthPastEndOfFile) {
  ExpectSafetensorsInvalid(LittleEndian(1000, 8) + "{}", "header length 1000 runs past the end");
}

TEST(SafetensorsTest, RejectsAHeaderOverTheLimit) {
  ExpectSafetensorsInvalid(LittleEndian(200'000'000, 8) + "{}", "exceeds the 100 MB limit");
}

TEST(SafetensorsTest, RejectsInvalidJson) {
  ExpectSafetensorsInvalid(Safetensors("{\"w\":", 0), "header is not valid JSON");
}

TEST(SafetensorsTest, RejectsANonObjectHeader) {
  ExpectSafetensorsInvalid(Safetensors("[1,2]", 0), "header is not a JSON object");
}

TEST(SafetensorsTest, RejectsOverlappingOffsets) {
  ExpectSafetensorsInvalid(Safetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                       R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                       12),
                           "tensor \"b\": data_offsets overlap tensor \"a\"");
}

TEST(SafetensorsTest, RejectsGappedOffsets) {
  ExpectSafetensorsInvalid(Safetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                       R"("b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}})",
                                       20),
                           "tensor \"b\": gap of 4 bytes before its data_offsets");
}

TEST(SafetensorsTest, RejectsAShapeProductOverflowing64Bits) {
  ExpectSafetensorsInvalid(
      Safetensors(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})",
                  0),
      "tensor \"a\": shape product times dtype size overflows 64 bits");
}

TEST(SafetensorsTest, RejectsAnUnknownDtype) {
  ExpectSafetensorsInvalid(
      Safetensors(R"({"a":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}})", 16),
      "tensor \"a\": unknown dtype \"F128\"");
}

TEST(SafetensorsTest, RejectsNonStringMetadata) {
  ExpectSafetensorsInvalid(Safetensors(R"({"__metadata__":{"n":3}})", 0),
                           "__metadata__ value of \"n\" is not a string");
}

TEST(SafetensorsTest, RejectsASpanThatDisagreesWithTheShape) {
  ExpectSafetensorsInvalid(
      Safetensors(R"({"a":{"dtype":"F16","shape":[3],"data_offsets":[0,8]}})", 8),
      "tensor \"a\": data_offsets span 8 bytes, dtype and shape need 6");
}

TEST(SafetensorsTest, RejectsANegativeDimension) {
  ExpectSafetensorsInvalid(
      Safetensors(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4),
      "shape holds something other than a non-negative integer");
}

TEST(SafetensorsTest, RejectsBytesThatBelongToNoTensor) {
  ExpectSafetensorsInvalid(
      Safetensors(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 10),
      "6 bytes at the end of the data area belong to no tensor");
}

TEST(SafetensorsTest, RejectsASpanPastTheDataArea) {
  ExpectSafetensorsInvalid(
      Safetensors(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8),
      "tensor \"a\": data_offsets end 16 is past the data area (8 bytes)");
}

TEST(SafetensorsTest, RejectsMissingDataOffsets) {
  ExpectSafetensorsInvalid(Safetensors(R"({"a":{"dtype":"F32","shape":[1]}})", 4),
                           "data_offsets is not [begin, end]");
}

// ---- GGUF ----

struct GgufWriter {
  std::string bytes;
  GgufWriter& U32(uint32_t v) {
    bytes += LittleEndian(v, 4);
    return *this;
  }
  GgufWriter& U64(uint64_t v) {
    bytes += LittleEndian(v, 8);
    return *this;
  }
  GgufWriter& Str(const std::string& s) {
    U64(s.size());
    bytes += s;
    return *this;
  }
};

// A file with two tensors, "w" (Q8_0, 32x2) at 0 and "b" (F32, 4) at b_offset.
struct GgufOptions {
  uint32_t version = 3;
  uint32_t alignment = 32;
  uint32_t w_type = 8;  // Q8_0: 32 elements in 34 bytes
  uint32_t w_n_dims = 2;
  uint64_t b_offset = 96;
  uint64_t data_bytes = 112;
};

std::string Gguf(const GgufOptions& o = {}) {
  GgufWriter w;
  w.bytes = "GGUF";
  w.U32(o.version).U64(2).U64(3);
  w.Str("general.architecture").U32(8).Str("llama");
  w.Str("general.alignment").U32(4).U32(o.alignment);
  w.Str("tokenizer.ggml.tokens").U32(9).U32(8).U64(2).Str("a").Str("bc");
  w.Str("w").U32(o.w_n_dims).U64(32).U64(2);
  for (uint32_t i = 2; i < o.w_n_dims; ++i) w.U64(1);
  w.U32(o.w_type).U64(0);
  w.Str("b").U32(1).U64(4).U32(0).U64(o.b_offset);
  while (w.bytes.size() % 32 != 0) w.bytes.push_back('\0');
  return w.bytes + std::string(o.data_bytes, '\0');
}

// A file with no tensors and one key "k" whose type and value follow.
GgufWriter OneKey(uint32_t type) {
  GgufWriter w;
  w.bytes = "GGUF";
  w.U32(3).U64(0).U64(1).Str("k").U32(type);
  return w;
}

void ExpectGgufInvalid(const std::string& bytes, const std::string& reason) {
  StringReader reader(bytes);
  Result<GgufInfo> result = ValidateGguf(reader);
  ASSERT_FALSE(result.ok()) << "expected failure: " << reason;
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << result.status().ToString();
  EXPECT_NE(result.status().message().find(reason), std::string::npos)
      << "got: " << result.status().message() << "\nwanted: " << reason;
}

TEST(GgufTest, AcceptsAValidFile) {
  StringReader reader(Gguf());
  Result<GgufInfo> info = ValidateGguf(reader);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->version, 3u);
  EXPECT_EQ(info->tensor_count, 2u);
  EXPECT_EQ(info->kv_count, 3u);
  EXPECT_EQ(info->alignment, 32u);
  EXPECT_EQ(info->data_offset % 32, 0u);
}

TEST(GgufTest, AcceptsArraysNestedThreeDeep) {
  GgufWriter w = OneKey(9);
  w.U32(9).U64(1).U32(9).U64(1).U32(4).U64(1).U32(7);
  StringReader reader(w.bytes);
  EXPECT_TRUE(ValidateGguf(reader).ok());
}

TEST(GgufTest, RejectsWrongMagic) {
  std::string bytes = Gguf();
  bytes.replace(0, 4, "GGML");
  ExpectGgufInvalid(bytes, "bad magic");
}

TEST(GgufTest, RejectsVersion1) {
  ExpectGgufInvalid(Gguf({.version = 1}), "version 1 is not supported");
}

TEST(GgufTest, RejectsAStringLengthPastEndOfFile) {
  GgufWriter w = OneKey(8);
  w.U64(1000);
  w.bytes += "abc";
  ExpectGgufInvalid(w.bytes, "key \"k\" string length 1000 at offset 37 runs past the end");
}

TEST(GgufTest, RejectsAMisalignedTensorOffset) {
  ExpectGgufInvalid(Gguf({.b_offset = 100, .data_bytes = 116}),
                    "tensor \"b\": offset 100 is not aligned to 32");
}

TEST(GgufTest, RejectsTensorDataPastEndOfFile) {
  ExpectGgufInvalid(Gguf({.data_bytes = 100}),
                    "tensor \"b\": data (16 bytes at offset 96) runs past the end of the file");
}

TEST(GgufTest, RejectsAnAlignmentThatIsNotAPowerOfTwo) {
  ExpectGgufInvalid(Gguf({.alignment = 48}), "general.alignment 48 is not a power of two");
}

TEST(GgufTest, RejectsAnUnknownGgmlType) {
  ExpectGgufInvalid(Gguf({.w_type = 4}), "tensor \"w\": unknown ggml type 4");
}

TEST(GgufTest, RejectsTooManyDimensions) {
  ExpectGgufInvalid(Gguf({.w_n_dims = 5}), "tensor \"w\": 5 dimensions, more than 4");
}

TEST(GgufTest, RejectsATruncatedFile) {
  ExpectGgufInvalid(Gguf().substr(0, 185),
                    "tensor \"w\" dimension at offset 179 needs 8 bytes, past the end of the file");
}

TEST(GgufTest, RejectsTooManyKeyValues) {
  GgufWriter w;
  w.bytes = "GGUF";
  w.U32(3).U64(0).U64(2'000'000);
  ExpectGgufInvalid(w.bytes, "metadata count 2000000 exceeds 1M");
}

TEST(GgufTest, RejectsAnUnknownValueType) {
  ExpectGgufInvalid(OneKey(13).bytes, "key \"k\": unknown value type 13");
}

TEST(GgufTest, RejectsArraysNestedTooDeep) {
  GgufWriter w = OneKey(9);
  w.U32(9).U64(1).U32(9).U64(1).U32(9).U64(1).U32(9).U64(1);
  w.bytes += std::string(64, '\0');
  ExpectGgufInvalid(w.bytes, "key \"k\": arrays nested too deep");
}

TEST(GgufTest, RejectsAnArrayLargerThanTheFile) {
  GgufWriter w = OneKey(9);
  w.U32(4).U64(1'000'000'000'000);
  ExpectGgufInvalid(w.bytes, "key \"k\": array of 1000000000000 elements cannot fit");
}

TEST(GgufTest, RejectsANonUint32Alignment) {
  GgufWriter w;
  w.bytes = "GGUF";
  w.U32(3).U64(0).U64(1).Str("general.alignment").U32(10).U64(32);
  ExpectGgufInvalid(w.bytes, "general.alignment is not a uint32");
}

TEST(GgufTest, RejectsAFirstDimensionNotAMultipleOfTheBlock) {
  GgufWriter w;
  w.bytes = "GGUF";
  w.U32(3).U64(1).U64(0).Str("q").U32(1).U64(33).U32(2).U64(0);
  w.bytes += std::string(128, '\0');
  ExpectGgufInvalid(w.bytes,
                    "tensor \"q\": first dimension 33 is not a multiple of the block size 32");
}

}  // namespace
}  // namespace datacube::artifact
