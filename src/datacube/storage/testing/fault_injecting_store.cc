#include "datacube/storage/testing/fault_injecting_store.h"

#include <chrono>
#include <thread>
#include <vector>

namespace datacube::storage {
namespace {

// Passes bytes through, cutting them off after `limit` or flipping the byte at `corrupt_at`.
class DamagingSink final : public io::ByteSink {
 public:
  DamagingSink(io::ByteSink& inner, uint64_t limit, int64_t corrupt_at)
      : inner_(inner), limit_(limit), corrupt_at_(corrupt_at) {}
  Status Write(std::span<const uint8_t> data) override {
    std::vector<uint8_t> copy(data.begin(), data.end());
    if (corrupt_at_ >= 0 && static_cast<uint64_t>(corrupt_at_) >= seen_ &&
        static_cast<uint64_t>(corrupt_at_) < seen_ + copy.size()) {
      copy[static_cast<size_t>(corrupt_at_) - seen_] ^= 0xff;
    }
    size_t take = copy.size();
    if (limit_ > 0) take = seen_ >= limit_ ? 0 : std::min<uint64_t>(take, limit_ - seen_);
    seen_ += copy.size();
    if (take == 0) return Status();
    return inner_.Write({copy.data(), take});
  }

 private:
  io::ByteSink& inner_;
  uint64_t limit_;
  int64_t corrupt_at_;
  uint64_t seen_ = 0;
};

class FaultyUpload final : public MultipartUpload {
 public:
  FaultyUpload(FaultInjectingStore& store, std::unique_ptr<MultipartUpload> inner)
      : store_(store), inner_(std::move(inner)) {}
  const std::string& id() const override { return inner_->id(); }
  std::vector<PartInfo> completed_parts() const override { return inner_->completed_parts(); }
  Result<PartInfo> UploadPart(uint32_t n, uint64_t off, std::span<const uint8_t> d) override {
    DC_RETURN_IF_ERROR(store_.MaybeFail("upload_part"));
    return inner_->UploadPart(n, off, d);
  }
  Status ReadBack(ByteRange r, io::ByteSink& s) override { return inner_->ReadBack(r, s); }
  Result<ObjectInfo> Complete(const std::vector<PartInfo>& p, const std::string& sha) override {
    DC_RETURN_IF_ERROR(store_.MaybeFail("complete"));
    return inner_->Complete(p, sha);
  }
  Status Abort() override { return inner_->Abort(); }

 private:
  FaultInjectingStore& store_;
  std::unique_ptr<MultipartUpload> inner_;
};

}  // namespace

Status FaultInjectingStore::MaybeFail(std::string_view op) {
  if (!plan_.operation.empty() && plan_.operation != op) return Status();
  int n = ++calls_;
  if (plan_.fail_on_call > 0 && n >= plan_.fail_on_call &&
      n < plan_.fail_on_call + plan_.fail_count) {
    ++faults_;
    return plan_.error;
  }
  return Status();
}

Result<ObjectInfo> FaultInjectingStore::Stat(std::string_view key) {
  DC_RETURN_IF_ERROR(MaybeFail("stat"));
  return inner_->Stat(key);
}

Result<ListPage> FaultInjectingStore::List(const ListRequest& request) {
  DC_RETURN_IF_ERROR(MaybeFail("list"));
  return inner_->List(request);
}

Status FaultInjectingStore::Read(std::string_view key, ByteRange range, io::ByteSink& sink,
                                 const ReadOptions& options) {
  DC_RETURN_IF_ERROR(MaybeFail("read"));
  int now = ++reads_in_flight_;
  for (int seen = max_reads_.load(); now > seen && !max_reads_.compare_exchange_weak(seen, now);) {
  }
  struct Leave {
    std::atomic<int>& n;
    ~Leave() { --n; }
  } leave{reads_in_flight_};
  if (plan_.read_delay_ms > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(plan_.read_delay_ms));
  }
  bool damage = plan_.truncate_reads_to > 0 || plan_.corrupt_read_at >= 0;
  if (damage && plan_.damage_reads > 0 && damaged_reads_.fetch_add(1) >= plan_.damage_reads) {
    damage = false;
  }
  if (!damage) return inner_->Read(key, range, sink, options);
  DamagingSink bad(sink, plan_.truncate_reads_to, plan_.corrupt_read_at);
  return inner_->Read(key, range, bad, options);
}

Result<ObjectInfo> FaultInjectingStore::Put(std::string_view key, io::ByteSource& data,
                                            const WriteOptions& options) {
  DC_RETURN_IF_ERROR(MaybeFail("put"));
  return inner_->Put(key, data, options);
}

Result<std::unique_ptr<MultipartUpload>> FaultInjectingStore::StartMultipart(
    std::string_view key, const MultipartOptions& options) {
  DC_ASSIGN_OR_RETURN(auto up, inner_->StartMultipart(key, options));
  return std::unique_ptr<MultipartUpload>(new FaultyUpload(*this, std::move(up)));
}

Status FaultInjectingStore::Delete(std::string_view key) {
  DC_RETURN_IF_ERROR(MaybeFail("delete"));
  return inner_->Delete(key);
}

}  // namespace datacube::storage
