// AtomicFileWriter: makes a file appear at its final path whole or not at all.
//
// See the protocol at the top of atomic_file_writer.cc. Not thread-safe for concurrent Commit,
// but WriteAt may be called from several threads at once on disjoint ranges (pwrite).
#pragma once

#include <cstdint>
#include <memory>
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

// The file name part of TempPathFor: the temporary name for `name` in the same directory.
std::string TempNameFor(std::string_view name, std::string_view tag);

// True for names produced by TempPathFor (and their journals).
bool IsTempName(std::string_view basename);

class AtomicFileWriter {
 public:
  // Creates a new temporary file beside `final_path` (the directory must exist).
  static Result<AtomicFileWriter> Create(const std::string& final_path);
  // Opens (or creates) the temporary file at `temp_path`, keeping its contents: used to resume.
  static Result<AtomicFileWriter> OpenExisting(const std::string& final_path,
                                               const std::string& temp_path);
  // The same inside the open directory `dir` (its path() names it in messages): every step
  // (create, rename, unlink, directory fsync) is relative to that descriptor, so a directory
  // resolved beneath a root stays the one written to, whatever its path leads to meanwhile.
  // The temporary file is never opened through a symbolic link.
  static Result<AtomicFileWriter> CreateIn(std::shared_ptr<const File> dir, std::string name);
  static Result<AtomicFileWriter> OpenExistingIn(std::shared_ptr<const File> dir, std::string name,
                                                 std::string temp_name);

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
  // Paths for messages (the directory's path plus the names).
  const std::string& temp_path() const { return temp_path_; }
  const std::string& final_path() const { return final_path_; }
  // The directory both names live in, and the names themselves.
  const std::shared_ptr<const File>& dir() const { return dir_; }
  const std::string& temp_name() const { return temp_name_; }
  const std::string& final_name() const { return final_name_; }
  uint64_t appended() const { return appended_; }

 private:
  AtomicFileWriter(File file, std::shared_ptr<const File> dir, std::string final_name,
                   std::string temp_name);

  File file_;
  std::shared_ptr<const File> dir_;
  std::string final_name_;
  std::string temp_name_;
  std::string final_path_;
  std::string temp_path_;
  uint64_t appended_ = 0;
  bool committed_ = false;
  bool released_ = false;
};

}  // namespace datacube::io
