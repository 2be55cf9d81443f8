// Uploading one LFS object after the LFS batch call said where (docs/protocols/huggingface.md,
// Writing):
//   basic      one PUT of the whole content to the pre-signed href
//   multipart  (HF's own) PUT each chunk_size part to its own pre-signed URL, collect the ETags,
//              then POST {"oid", "parts": [{"partNumber", "etag"}]} to the href to complete
//   verify     when the answer has a verify action, POST {"oid", "size"} to it
// Bytes stream from the file with pread: no part is ever held in memory whole. Part PUTs are
// idempotent and retried with a fresh stream; a caller-supplied runner may run them in parallel.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "datacube/io/file.h"
#include "datacube/storage/hf/hub_client.h"

namespace datacube::storage::hf {

// Runs every task (possibly in parallel) and returns the first failure, or OK.
using TaskRunner = std::function<Status(std::vector<std::function<Status()>>& tasks)>;

// Runs tasks one after another on the calling thread.
Status RunSequentially(std::vector<std::function<Status()>>& tasks);

// A ByteSource over [offset, offset + length) of an open file, read with pread.
class FileRangeSource final : public io::ByteSource {
 public:
  FileRangeSource(const io::File& file, uint64_t offset, uint64_t length)
      : file_(file), offset_(offset), end_(offset + length) {}
  Result<size_t> Read(std::span<uint8_t> out) override;

 private:
  const io::File& file_;
  uint64_t offset_;
  const uint64_t end_;
};

// Uploads `file` (whose SHA-256 and size are answer.oid/answer.size) as the batch answer says.
// `display` names the file in errors. Nothing to do when answer.upload is empty.
Status UploadLfsObject(HubClient& client, const LfsObjectAnswer& answer, const io::File& file,
                       const std::string& display, const TaskRunner& run_parts);

}  // namespace datacube::storage::hf
