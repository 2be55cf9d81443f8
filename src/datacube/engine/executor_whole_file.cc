// The files the executor copies in one piece: server-side copies, small files (one buffer, one
// read, one Put) and large files to stores without multipart (one buffer, streamed).
#include <algorithm>
#include <cstring>
#include <functional>

#include "datacube/base/log.h"
#include "datacube/crypto/sha256.h"
#include "datacube/engine/executor.h"

namespace datacube::engine {
namespace {

// "checksum mismatch for URL: source says SHA-256 X, received Y", naming where X came from.
Status Sha256Mismatch(const std::string& url, const VerifyPlan& plan, const std::string& got) {
  const std::string who = plan.sha256_origin == "the source" ? "source" : plan.sha256_origin;
  return DataLossError("checksum mismatch for " + url + ": " + who + " says SHA-256 " +
                       plan.sha256 + ", received " + got);
}

// Pulls a source of `size` bytes through `buffer` one range at a time, hashing as it goes.
class RangeSource final : public io::ByteSource {
 public:
  // Fills the first `length` bytes of the span with the source's bytes at `offset`.
  using ReadRangeFn = std::function<Status(uint64_t offset, uint64_t length, std::span<uint8_t>)>;

  RangeSource(uint64_t size, std::span<uint8_t> buffer, DigestVerifier& verifier,
              ReadRangeFn read_range)
      : size_(size), buffer_(buffer), verifier_(verifier), read_range_(std::move(read_range)) {}
  Result<size_t> Read(std::span<uint8_t> out) override {
    if (pos_ == avail_) {
      uint64_t left = size_ - offset_;
      if (left == 0) return size_t{0};
      uint64_t n = std::min<uint64_t>(left, buffer_.size());
      DC_RETURN_IF_ERROR(read_range_(offset_, n, buffer_));
      hasher_.Update(buffer_.subspan(0, n));
      verifier_.Update(buffer_.subspan(0, n));
      offset_ += n;
      pos_ = 0;
      avail_ = n;
    }
    size_t take = std::min(out.size(), avail_ - pos_);
    std::memcpy(out.data(), buffer_.data() + pos_, take);
    pos_ += take;
    return take;
  }
  std::string Digest() { return hasher_.FinishHex(); }

 private:
  const uint64_t size_;
  std::span<uint8_t> buffer_;
  DigestVerifier& verifier_;
  const ReadRangeFn read_range_;
  uint64_t offset_ = 0;
  size_t pos_ = 0, avail_ = 0;
  crypto::Sha256 hasher_;
};

}  // namespace

// ---- Server-side copies: no bytes through this machine. ----

void Executor::DispatchServerSideCopy(const std::shared_ptr<CopyJob>& job) {
  pool_.Submit([this, job] {
    Result<storage::ObjectInfo> copied = UnimplementedError("");
    Status s = Retry(*job, [&]() -> Status {
      copied = ends_.dst.store->CopyFrom(*ends_.src.store, job->src_key, job->dst_key);
      return copied.status();
    });
    if (s.code() == StatusCode::kUnimplemented) {
      // Not possible between these stores: copy through buffers, from the dispatching thread.
      if (try_server_side_copy_.exchange(false)) LogDebug("copying through this machine");
      std::lock_guard<std::mutex> lock(mu_);
      requeue_.push_back(job);
      cv_.notify_all();
      return;
    }
    std::string sha;
    if (s.ok()) {
      sha = copied->sha256;
      const std::string& expected = job->item.src.sha256;
      if (!expected.empty() && !sha.empty() && expected != sha) {
        s = DataLossError("server-side copy of " + ends_.src.store->UrlFor(job->src_key) +
                          " reports SHA-256 " + sha + ", the source says " + expected);
      } else {
        if (sha.empty()) sha = expected;
        job->verified = true;  // the bytes never left the service
        LogDebug("server-side copy: " + ends_.dst.store->UrlFor(job->dst_key));
        ReportBytes(*job, job->item.src.size);
      }
    }
    FinishJob(job, s, sha, job->item.src.size);
  });
}

// ---- Small files: one buffer, one read, one Put. ----

void Executor::DispatchSmall(const std::shared_ptr<CopyJob>& job, io::PooledBuffer buffer) {
  pool_.Submit([this, job, buf = std::make_shared<io::PooledBuffer>(std::move(buffer))] {
    std::string sha;
    Status s = CopySmall(*job, *buf, &sha);
    uint64_t size = job->item.src.size;
    *buf = io::PooledBuffer();  // return the memory before bookkeeping
    FinishJob(job, s, sha, size);
  });
}

Status Executor::CopySmall(CopyJob& job, io::PooledBuffer& buffer, std::string* sha) {
  const uint64_t size = job.item.src.size;
  std::span<uint8_t> data = buffer.span().subspan(0, size);
  // The source store may have hashed these very bytes already (S3 does, to check them against
  // the recorded SHA-256): hashing twice would cost a second pass over every small file.
  std::string read_sha;
  std::vector<storage::OfferedDigest> offered;
  DC_RETURN_IF_ERROR(ReadRange(job, 0, size, data, &read_sha, &offered));
  *sha = read_sha.size() == 64 ? read_sha
                               : crypto::HexEncode(crypto::Sha256Of(std::string_view(
                                     reinterpret_cast<const char*>(data.data()), data.size())));
  // Checked before the Put: a file that fails here leaves nothing at the destination.
  const std::string url = ends_.src.store->UrlFor(job.src_key);
  const VerifyPlan plan = PlanVerification(job.item.src, offered);
  if (!plan.sha256.empty() && plan.sha256 != *sha) return Sha256Mismatch(url, plan, *sha);
  if (!plan.others.empty()) {
    DigestVerifier verifier(plan.others);
    verifier.Update(data);
    DC_RETURN_IF_ERROR(verifier.Finish(url));
  }
  DC_RETURN_IF_ERROR(NoteVerification(job, plan));
  storage::WriteOptions wopts;
  wopts.size = size;
  wopts.sha256 = *sha;
  wopts.mtime_ns = job.item.src.mtime_ns;
  wopts.defer_visibility = true;  // RunTransfer flushes the destination before reporting
  DC_RETURN_IF_ERROR(Retry(job, [&]() -> Status {
    io::SpanSource source(std::span<const uint8_t>(data.data(), data.size()));
    auto put = ends_.dst.store->Put(job.dst_key, source, wopts);
    if (!put.ok()) return put.status();
    if (!put->sha256.empty() && put->sha256 != *sha) {
      return DataLossError("destination " + ends_.dst.store->UrlFor(job.dst_key) +
                           " reports SHA-256 " + put->sha256 + " after writing " + *sha);
    }
    return Status();
  }));
  return Status();
}

// ---- Large files to stores without multipart: one buffer, streamed. ----

void Executor::DispatchStreamed(const std::shared_ptr<CopyJob>& job, io::PooledBuffer buffer) {
  pool_.Submit([this, job, buf = std::make_shared<io::PooledBuffer>(std::move(buffer))] {
    std::string sha;
    Status s = CopyStreamed(*job, *buf, &sha);
    *buf = io::PooledBuffer();
    FinishJob(job, s, sha, job->item.src.size);
  });
}

Status Executor::CopyStreamed(CopyJob& job, io::PooledBuffer& buffer, std::string* sha) {
  // What the source offers, decided before EnsureSourceSha puts our own hash in its place.
  const VerifyPlan plan = PlanVerification(job.item.src);
  DC_RETURN_IF_ERROR(NoteVerification(job, plan));
  DigestVerifier verifier(plan.others);
  DC_RETURN_IF_ERROR(EnsureSourceSha(job, buffer));
  RangeSource source(job.item.src.size, buffer.span(), verifier,
                     [this, &job](uint64_t offset, uint64_t length, std::span<uint8_t> out) {
                       return ReadRange(job, offset, length, out);
                     });
  storage::WriteOptions wopts;
  wopts.size = job.item.src.size;
  wopts.sha256 = job.item.src.sha256;
  wopts.mtime_ns = job.item.src.mtime_ns;
  DC_ASSIGN_OR_RETURN(storage::ObjectInfo info, ends_.dst.store->Put(job.dst_key, source, wopts));
  *sha = source.Digest();
  if (!job.item.src.sha256.empty() && job.item.src.sha256 != *sha) {
    return DataLossError("checksum mismatch for " + ends_.src.store->UrlFor(job.src_key) +
                         ": source says SHA-256 " + job.item.src.sha256 + ", received " + *sha);
  }
  if (!info.sha256.empty() && info.sha256 != *sha) {
    return DataLossError("destination " + ends_.dst.store->UrlFor(job.dst_key) +
                         " reports SHA-256 " + info.sha256 + " after writing " + *sha);
  }
  return verifier.Finish(ends_.src.store->UrlFor(job.src_key));
}

}  // namespace datacube::engine
