// FaultInjectingStore: wraps another ObjectStore and makes chosen calls fail or return bad
// bytes, to test that the engine retries, detects corruption and never leaves a bad file behind
// (the pattern of leveldb's fault_injection_test.cc).
//
// Thread-safe; the fault counters are shared by all threads.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "datacube/storage/object_store.h"

namespace datacube::storage {

struct FaultPlan {
  // Operation names counted: "stat", "list", "read", "put", "upload_part", "complete", "delete".
  // Empty matches every operation.
  std::string operation;
  // Fail the Nth matching call (1-based) and, with fail_count > 1, that many calls from it on.
  int fail_on_call = 0;
  int fail_count = 1;
  Status error = UnavailableError("injected fault");
  // For reads: deliver only this many bytes of each read (truncation), 0 = off.
  uint64_t truncate_reads_to = 0;
  // For reads: flip one byte at this offset within each read's range, -1 = off.
  int64_t corrupt_read_at = -1;
  // Apply truncation/corruption to only the first N reads (0 = all).
  int damage_reads = 0;
  // Delay each read by this many milliseconds (to simulate a slow source).
  int read_delay_ms = 0;
};

class FaultInjectingStore final : public ObjectStore {
 public:
  FaultInjectingStore(std::shared_ptr<ObjectStore> inner, FaultPlan plan)
      : inner_(std::move(inner)), plan_(std::move(plan)) {}

  Capabilities capabilities() const override { return inner_->capabilities(); }
  std::string UrlFor(std::string_view key) const override { return inner_->UrlFor(key); }
  Result<ObjectInfo> Stat(std::string_view key) override;
  Result<ListPage> List(const ListRequest& request) override;
  Status Read(std::string_view key, ByteRange range, io::ByteSink& sink,
              const ReadOptions& options) override;
  Result<ObjectInfo> Put(std::string_view key, io::ByteSource& data,
                         const WriteOptions& options) override;
  Result<std::unique_ptr<MultipartUpload>> StartMultipart(std::string_view key,
                                                          const MultipartOptions& options) override;
  Status Delete(std::string_view key) override;

  // Calls seen so far, per the plan's operation filter.
  int calls() const { return calls_.load(); }
  int faults_injected() const { return faults_.load(); }
  // Most reads ever in flight at once (how parallel the caller really was).
  int max_concurrent_reads() const { return max_reads_.load(); }

  // Counts a call of `op` and returns the injected error for it, or OK. Used by the multipart
  // wrapper too.
  Status MaybeFail(std::string_view op);

 private:
  std::shared_ptr<ObjectStore> inner_;
  const FaultPlan plan_;
  std::atomic<int> calls_{0};
  std::atomic<int> faults_{0};
  std::atomic<int> damaged_reads_{0};
  std::atomic<int> reads_in_flight_{0};
  std::atomic<int> max_reads_{0};
};

}  // namespace datacube::storage
