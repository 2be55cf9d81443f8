#include "datacube/storage/memory/memory_store.h"

#include <chrono>

#include "datacube/crypto/sha256.h"

namespace datacube::storage {

class MemoryMultipartUpload final : public MultipartUpload {
 public:
  MemoryMultipartUpload(MemoryStore& store, std::string id, MultipartOptions options)
      : store_(store), id_(std::move(id)), options_(std::move(options)) {}

  const std::string& id() const override { return id_; }

  std::vector<PartInfo> completed_parts() const override {
    std::lock_guard<std::mutex> lock(store_.mu_);
    std::vector<PartInfo> out;
    auto it = store_.uploads_.find(id_);
    if (it == store_.uploads_.end()) return out;
    for (const auto& [n, p] : it->second.parts) out.push_back(p.first);
    return out;
  }

  Result<PartInfo> UploadPart(uint32_t number, uint64_t offset,
                              std::span<const uint8_t> data) override {
    std::string bytes(reinterpret_cast<const char*>(data.data()), data.size());
    PartInfo p{number, offset, data.size(), "", crypto::Sha256Hex(bytes)};
    p.etag = p.sha256.substr(0, 32);
    std::lock_guard<std::mutex> lock(store_.mu_);
    auto it = store_.uploads_.find(id_);
    if (it == store_.uploads_.end()) return NotFoundError("upload " + id_ + " no longer exists");
    it->second.parts[number] = {p, std::move(bytes)};
    return p;
  }

  Status ReadBack(ByteRange range, io::ByteSink& sink) override {
    std::string data;
    {
      std::lock_guard<std::mutex> lock(store_.mu_);
      auto it = store_.uploads_.find(id_);
      if (it == store_.uploads_.end()) return NotFoundError("upload " + id_ + " no longer exists");
      for (const auto& [n, p] : it->second.parts) {
        const PartInfo& info = p.first;
        if (info.offset + info.size <= range.offset || info.offset >= range.offset + range.length) {
          continue;
        }
        uint64_t from = std::max(range.offset, info.offset);
        uint64_t to = std::min(range.offset + range.length, info.offset + info.size);
        data += p.second.substr(from - info.offset, to - from);
      }
    }
    if (data.size() != range.length) return DataLossError("upload " + id_ + " lacks bytes");
    return sink.Write(io::AsBytes(data));
  }

  Result<ObjectInfo> Complete(const std::vector<PartInfo>& parts,
                              const std::string& sha256) override {
    std::string data;
    {
      std::lock_guard<std::mutex> lock(store_.mu_);
      auto it = store_.uploads_.find(id_);
      if (it == store_.uploads_.end()) return NotFoundError("upload " + id_ + " no longer exists");
      for (const auto& p : parts) {
        auto pit = it->second.parts.find(p.number);
        if (pit == it->second.parts.end()) {
          return InvalidArgumentError("part " + std::to_string(p.number) + " was never uploaded");
        }
        data += pit->second.second;
      }
      store_.uploads_.erase(it);
    }
    WriteOptions opts = options_;
    opts.sha256 = sha256;
    return store_.Commit(key_, std::move(data), opts);
  }

  Status Abort() override {
    std::lock_guard<std::mutex> lock(store_.mu_);
    store_.uploads_.erase(id_);
    return Status();
  }

  void set_key(std::string key) { key_ = std::move(key); }

 private:
  MemoryStore& store_;
  const std::string id_;
  const MultipartOptions options_;
  std::string key_;
};

Capabilities MemoryStore::capabilities() const {
  Capabilities c;
  c.multipart = true;
  c.resumable_multipart = true;
  c.min_part_size = 1;
  c.server_side_copy = true;
  c.presign = true;
  c.conditional_write = true;
  c.stores_sha256 = true;
  c.preserves_mtime = true;
  return c;
}

std::string MemoryStore::UrlFor(std::string_view key) const {
  return name_ + "://" + std::string(key);
}

Result<ObjectInfo> MemoryStore::Stat(std::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return NotFoundError("no object at " + UrlFor(key));
  return it->second.info;
}

Result<ListPage> MemoryStore::List(const ListRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  ListPage page;
  const size_t limit = request.max_keys == 0 ? 1000 : request.max_keys;
  auto it = request.page_token.empty() ? objects_.lower_bound(request.prefix)
                                       : objects_.upper_bound(request.page_token);
  std::string last;
  for (; it != objects_.end(); ++it) {
    const std::string& key = it->first;
    if (key.compare(0, request.prefix.size(), request.prefix) != 0) break;
    if (page.objects.size() + page.common_prefixes.size() >= limit) {
      page.next_page_token = last;
      break;
    }
    if (!request.recursive) {
      size_t slash = key.find('/', request.prefix.size());
      if (slash != std::string::npos) {
        std::string cp = key.substr(0, slash + 1);
        if (page.common_prefixes.empty() || page.common_prefixes.back() != cp) {
          page.common_prefixes.push_back(cp);
        }
        // Skip the rest of this common prefix; the token marks its last key.
        auto next = objects_.lower_bound(cp + "\xff");
        --next;
        it = next;
        last = it->first;
        continue;
      }
    }
    page.objects.push_back(it->second.info);
    last = key;
  }
  return page;
}

Status MemoryStore::Read(std::string_view key, ByteRange range, io::ByteSink& sink,
                         const ReadOptions& options) {
  std::string slice;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = objects_.find(key);
    if (it == objects_.end()) return NotFoundError("no object at " + UrlFor(key));
    if (!options.if_match.empty() && options.if_match != it->second.info.etag) {
      return FailedPreconditionError(UrlFor(key) + " changed while it was being read");
    }
    const std::string& data = it->second.data;
    if (range.offset > data.size() || (range.offset == data.size() && !data.empty() &&
                                       range.length != ByteRange::kToEnd && range.length > 0)) {
      return OutOfRangeError("reading " + UrlFor(key) + ": offset past the end");
    }
    uint64_t end = range.EndWithin(data.size());
    slice = data.substr(range.offset, end - range.offset);
  }
  return sink.Write(io::AsBytes(slice));
}

ObjectInfo MemoryStore::Commit(std::string key, std::string data, const WriteOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  Object obj;
  obj.info.key = key;
  obj.info.size = data.size();
  obj.info.sha256 = crypto::Sha256Hex(data);
  obj.info.etag = "g" + std::to_string(++generation_);
  obj.info.mtime_ns =
      options.mtime_ns.value_or(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count());
  obj.info.metadata = options.metadata;
  obj.data = std::move(data);
  ObjectInfo info = obj.info;
  objects_[std::move(key)] = std::move(obj);
  return info;
}

Result<ObjectInfo> MemoryStore::Put(std::string_view key, io::ByteSource& data,
                                    const WriteOptions& options) {
  io::StringSink sink;
  uint8_t buf[1 << 16];
  DC_ASSIGN_OR_RETURN(uint64_t n, io::Pump(data, sink, buf));
  if (options.size && *options.size != n) {
    return DataLossError("writing " + UrlFor(key) + ": expected " + std::to_string(*options.size) +
                         " bytes, got " + std::to_string(n));
  }
  if (!options.sha256.empty() && options.sha256 != crypto::Sha256Hex(sink.str())) {
    return DataLossError("writing " + UrlFor(key) + ": SHA-256 mismatch");
  }
  if (options.if_none_match) {
    std::lock_guard<std::mutex> lock(mu_);
    if (objects_.count(key)) return AlreadyExistsError(UrlFor(key) + " already exists");
  }
  return Commit(std::string(key), std::move(sink.str()), options);
}

Result<std::unique_ptr<MultipartUpload>> MemoryStore::StartMultipart(
    std::string_view key, const MultipartOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string id;
  if (!options.resume_fingerprint.empty()) {
    for (const auto& [uid, up] : uploads_) {
      if (up.key == key && up.fingerprint == options.resume_fingerprint) id = uid;
    }
  }
  if (id.empty()) {
    id = "u" + std::to_string(++generation_);
    uploads_[id] = Upload{std::string(key), options.resume_fingerprint, {}};
  }
  auto up = std::make_unique<MemoryMultipartUpload>(*this, id, options);
  up->set_key(std::string(key));
  return std::unique_ptr<MultipartUpload>(std::move(up));
}

Status MemoryStore::Delete(std::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it != objects_.end()) objects_.erase(it);
  return Status();
}

Result<ObjectInfo> MemoryStore::CopyWithin(std::string_view src_key, std::string_view dst_key) {
  std::string data;
  WriteOptions opts;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = objects_.find(src_key);
    if (it == objects_.end()) return NotFoundError("no object at " + UrlFor(src_key));
    data = it->second.data;
    opts.mtime_ns = it->second.info.mtime_ns;
    opts.metadata = it->second.info.metadata;
  }
  return Commit(std::string(dst_key), std::move(data), opts);
}

Result<ObjectInfo> MemoryStore::CopyFrom(ObjectStore& src, std::string_view src_key,
                                         std::string_view dst_key) {
  auto* other = dynamic_cast<MemoryStore*>(&src);
  if (other == nullptr) return ObjectStore::CopyFrom(src, src_key, dst_key);
  std::optional<std::string> data = other->GetObject(src_key);
  if (!data) return NotFoundError("no object at " + other->UrlFor(src_key));
  WriteOptions opts;
  opts.mtime_ns = other->Stat(src_key)->mtime_ns;
  ++server_side_copies_;
  return Commit(std::string(dst_key), std::move(*data), opts);
}

Result<std::string> MemoryStore::Presign(std::string_view key, std::string_view method,
                                         int64_t expires_seconds) {
  return UrlFor(key) + "?method=" + std::string(method) +
         "&expires=" + std::to_string(expires_seconds);
}

void MemoryStore::SetObject(std::string key, std::string data, std::optional<int64_t> mtime_ns) {
  WriteOptions opts;
  opts.mtime_ns = mtime_ns;
  Commit(std::move(key), std::move(data), opts);
}

std::optional<std::string> MemoryStore::GetObject(std::string_view key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return std::nullopt;
  return it->second.data;
}

std::vector<std::string> MemoryStore::Keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [k, v] : objects_) out.push_back(k);
  return out;
}

size_t MemoryStore::open_uploads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return uploads_.size();
}

}  // namespace datacube::storage
