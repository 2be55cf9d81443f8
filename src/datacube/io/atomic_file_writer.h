// AtomicFileWriter: makes a file appear at its final path whole or not at all.
//
// See the protocol at the top of atomic_file_writer.cc. Not thread-safe for concurrent Commit,
// but WriteAt may be called from several threads at once on disjoint ranges (pwrite).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "datacube/base/result.h"
#include "datacube/io/file.h"

namespace datacube::io {

// Name of the hidden temporary file used for `final_path` with a distinguishing `tag`
// (".<name>.<tag>.dctmp"); long names are shortened with a hash so the temp name stays within
// NAME_MAX. Listings hide every name this function can produce.
std::string TempPathFor(const std::string& final_path, std::string_view tag);

// True for names produced by TempPathFor (and their journals).
bool IsTempName(std::string_view basename);

class AtomicFileWriter {
 public:
  // Creates a new temporary file beside `final_path` (the directory must exist).
  static Result<AtomicFileWriter> Create(const std::string& final_path);
  // Opens (or creates) the temporary file at `temp_path`, keeping its contents: used to resume.
  static Result<AtomicFileWriter> OpenExisting(const std::string& final_path,
                                               const std::string& temp_path);

  AtomicFileWriter(AtomicFileWriter&&) noexcept = default;
  AtomicFileWriter& operator=(AtomicFileWriter&&) noexcept = default;
  // Removes the temporary file unless Commit() succeeded or Release() was called.
  ~AtomicFileWriter();

  Status Append(std::span<const uint8_t> data);
  Status WriteAt(uint64_t offset, std::span<const uint8_t> data);
  // Sets the file length up front so parts can be written at their offsets.
  Status Resize(uint64_t size);
  // Reserves disk blocks for [0, size) (fallocate), so a full disk fails now rather than midway.
  // File systems without fallocate are not an error.
  Status Allocate(uint64_t size);
  // Flushes file data to disk (used before a resume checkpoint is recorded).
  Status DataSync() { return file_.DataSync(); }
  Result<size_t> ReadAt(uint64_t offset, std::span<uint8_t> out) const {
    return file_.ReadAt(offset, out);
  }

  // Steps 3-5 of the protocol: fsync, rename over the final path, fsync the directory.
  // `mtime_ns`, when set, is applied before the rename.
  Status Commit(std::optional<int64_t> mtime_ns = std::nullopt);
  // Keeps the temporary file on disk (for a later resume) and forgets it.
  void Release() { released_ = true; }

  // The temporary file's descriptor (for metadata such as xattrs and times before the commit).
  int fd() const { return file_.fd(); }
  const std::string& temp_path() const { return temp_path_; }
  const std::string& final_path() const { return final_path_; }
  uint64_t appended() const { return appended_; }

 private:
  AtomicFileWriter(File file, std::string final_path, std::string temp_path)
      : file_(std::move(file)), final_path_(std::move(final_path)),
        temp_path_(std::move(temp_path)) {}

  File file_;
  std::string final_path_;
  std::string temp_path_;
  uint64_t appended_ = 0;
  bool committed_ = false;
  bool released_ = false;
};

}  // namespace datacube::io
