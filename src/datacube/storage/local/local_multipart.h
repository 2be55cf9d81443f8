// Multipart uploads into a local file, resumable after a crash. Protocol in local_multipart.cc.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "datacube/io/atomic_file_writer.h"
#include "datacube/storage/object_store.h"

namespace datacube::storage {

class LocalStore;

Result<std::unique_ptr<MultipartUpload>> StartLocalMultipart(LocalStore& store, std::string key,
                                                             std::string path,
                                                             const MultipartOptions& options);

// Records the hash in the xattr cache and applies the mtime (the source's, or now) to the
// temporary file; returns that mtime.
Result<int64_t> SealLocalWrite(io::AtomicFileWriter& writer, const std::string& sha256,
                               uint64_t size, std::optional<int64_t> mtime_ns);

// Seals, then commits (fsync, rename, fsync dir).
Status FinishLocalWrite(io::AtomicFileWriter& writer, const std::string& sha256, uint64_t size,
                        std::optional<int64_t> mtime_ns);

}  // namespace datacube::storage
