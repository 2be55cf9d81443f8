// Multipart uploads into a local file, resumable after a crash. Protocol in local_multipart.cc.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "datacube/io/atomic_file_writer.h"
#include "datacube/storage/object_store.h"

namespace datacube::storage {

class LocalStore;

// `dir` is the directory that holds `key` (resolved beneath the store's root), `name` the file
// name in it; the data and journal files live beside it and are opened relative to `dir`.
Result<std::unique_ptr<MultipartUpload>> StartLocalMultipart(LocalStore& store, std::string key,
                                                             std::shared_ptr<const io::File> dir,
                                                             std::string name,
                                                             const MultipartOptions& options);

// Records the hash in the xattr cache and applies the mtime (the source's, or now) to the
// temporary file; returns that mtime.
Result<int64_t> SealLocalWrite(io::AtomicFileWriter& writer, const std::string& sha256,
                               uint64_t size, std::optional<int64_t> mtime_ns);

// Seals, then commits (fsync, rename, fsync dir).
Status FinishLocalWrite(io::AtomicFileWriter& writer, const std::string& sha256, uint64_t size,
                        std::optional<int64_t> mtime_ns);

}  // namespace datacube::storage
