// MemoryStore: an ObjectStore held in RAM. The engine's test double (like Arrow's MockFileSystem
// and leveldb's memenv), and the store behind `mem://` in tests. Supports every optional
// operation, including resumable multipart uploads, so engine paths can be tested without disks.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "datacube/storage/object_store.h"

namespace datacube::storage {

class MemoryStore final : public ObjectStore {
 public:
  explicit MemoryStore(std::string name = "mem") : name_(std::move(name)) {}

  Capabilities capabilities() const override;
  std::string UrlFor(std::string_view key) const override;
  Result<ObjectInfo> Stat(std::string_view key) override;
  Result<ListPage> List(const ListRequest& request) override;
  Status Read(std::string_view key, ByteRange range, io::ByteSink& sink,
              const ReadOptions& options) override;
  Result<ObjectInfo> Put(std::string_view key, io::ByteSource& data,
                         const WriteOptions& options) override;
  Result<std::unique_ptr<MultipartUpload>> StartMultipart(std::string_view key,
                                                          const MultipartOptions& options) override;
  Status Delete(std::string_view key) override;
  Result<ObjectInfo> CopyWithin(std::string_view src_key, std::string_view dst_key) override;
  // From another MemoryStore: the test double of a server-side copy between buckets.
  Result<ObjectInfo> CopyFrom(ObjectStore& src, std::string_view src_key,
                              std::string_view dst_key) override;
  Result<std::string> Presign(std::string_view key, std::string_view method,
                              int64_t expires_seconds) override;

  // Test helpers.
  void SetObject(std::string key, std::string data, std::optional<int64_t> mtime_ns = {});
  std::optional<std::string> GetObject(std::string_view key) const;
  std::vector<std::string> Keys() const;
  // Number of multipart uploads started but neither completed nor aborted.
  size_t open_uploads() const;
  // Objects received through CopyFrom.
  int server_side_copies() const { return server_side_copies_.load(); }

 private:
  friend class MemoryMultipartUpload;
  struct Object {
    std::string data;
    ObjectInfo info;
  };
  struct Upload {
    std::string key;
    std::string fingerprint;
    std::map<uint32_t, std::pair<PartInfo, std::string>> parts;
  };
  ObjectInfo Commit(std::string key, std::string data, const WriteOptions& options);

  const std::string name_;
  mutable std::mutex mu_;
  std::map<std::string, Object, std::less<>> objects_;  // guarded by mu_
  std::map<std::string, Upload> uploads_;               // guarded by mu_, by upload id
  uint64_t generation_ = 0;                             // guarded by mu_
  std::atomic<int> server_side_copies_{0};
};

}  // namespace datacube::storage
