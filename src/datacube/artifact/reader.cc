#include "datacube/artifact/reader.h"

#include <fcntl.h>

#include <cstring>

namespace datacube::artifact {
namespace {

Status CheckRange(uint64_t offset, uint64_t length, uint64_t size) {
  if (offset > size || length > size - offset) {
    return OutOfRangeError("read of " + std::to_string(length) + " bytes at offset " +
                           std::to_string(offset) + " runs past the end (" + std::to_string(size) +
                           " bytes)");
  }
  return Status::Ok();
}

}  // namespace

Status StringReader::ReadAt(uint64_t offset, std::span<uint8_t> out) {
  DC_RETURN_IF_ERROR(CheckRange(offset, out.size(), data_.size()));
  if (!out.empty()) std::memcpy(out.data(), data_.data() + offset, out.size());
  return Status::Ok();
}

Result<std::unique_ptr<FileReader>> FileReader::Open(const std::string& path) {
  DC_ASSIGN_OR_RETURN(io::File file, io::File::Open(path, O_RDONLY | O_CLOEXEC));
  DC_ASSIGN_OR_RETURN(uint64_t size, file.Size());
  return std::unique_ptr<FileReader>(new FileReader(std::move(file), size));
}

Status FileReader::ReadAt(uint64_t offset, std::span<uint8_t> out) {
  DC_RETURN_IF_ERROR(CheckRange(offset, out.size(), size_));
  while (!out.empty()) {
    DC_ASSIGN_OR_RETURN(size_t got, file_.ReadAt(offset, out));
    if (got == 0) return OutOfRangeError(file_.path() + ": file shrank while being read");
    offset += got;
    out = out.subspan(got);
  }
  return Status::Ok();
}

}  // namespace datacube::artifact
