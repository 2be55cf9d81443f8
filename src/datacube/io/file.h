// Thin RAII wrappers over POSIX file descriptors that report errors as Status values naming the
// path and the action.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>

#include "datacube/base/result.h"
#include "datacube/io/byte_stream.h"

namespace datacube::io {

class File {
 public:
  File() = default;
  File(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~File();
  File(File&& other) noexcept;
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  // Opens with open(2) `flags` and `mode`.
  static Result<File> Open(const std::string& path, int flags, mode_t mode = 0644);

  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

  // Reads up to out.size() bytes at `offset`; short only at end of file.
  Result<size_t> ReadAt(uint64_t offset, std::span<uint8_t> out) const;
  // Writes all of `data` at `offset`.
  Status WriteAt(uint64_t offset, std::span<const uint8_t> data) const;
  // Appends all of `data` at the current position.
  Status Write(std::span<const uint8_t> data) const;
  Status Sync() const;      // fsync
  Status DataSync() const;  // fdatasync
  Status Truncate(uint64_t size) const;
  Result<uint64_t> Size() const;
  Status Close();

 private:
  int fd_ = -1;
  std::string path_;
};

// fsyncs a directory so a rename or unlink inside it is durable.
Status SyncDirectory(const std::string& dir);

// Appends to a File at its current position.
class FileSink final : public ByteSink {
 public:
  explicit FileSink(const File& file) : file_(file) {}
  Status Write(std::span<const uint8_t> data) override { return file_.Write(data); }

 private:
  const File& file_;
};

}  // namespace datacube::io
