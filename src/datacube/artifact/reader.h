// ByteReader: a sized source read at offsets, so a validator can look at a model file's header
// without reading (or downloading) its data.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "datacube/base/result.h"
#include "datacube/io/file.h"

namespace datacube::artifact {

class ByteReader {
 public:
  virtual ~ByteReader() = default;
  virtual uint64_t size() = 0;
  // Fills all of `out` from `offset`; a range past the end is kOutOfRange.
  virtual Status ReadAt(uint64_t offset, std::span<uint8_t> out) = 0;
};

// Reads an in-memory string (tests, small documents).
class StringReader final : public ByteReader {
 public:
  explicit StringReader(std::string data) : data_(std::move(data)) {}
  uint64_t size() override { return data_.size(); }
  Status ReadAt(uint64_t offset, std::span<uint8_t> out) override;

 private:
  std::string data_;
};

// Reads a local file with pread; the size is taken once, at Open.
class FileReader final : public ByteReader {
 public:
  static Result<std::unique_ptr<FileReader>> Open(const std::string& path);
  uint64_t size() override { return size_; }
  Status ReadAt(uint64_t offset, std::span<uint8_t> out) override;

 private:
  FileReader(io::File file, uint64_t size) : file_(std::move(file)), size_(size) {}
  io::File file_;
  uint64_t size_;
};

}  // namespace datacube::artifact
