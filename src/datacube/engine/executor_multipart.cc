// Large files: parts in parallel, hashed in order, resumable.
#include <algorithm>
#include <map>

#include "datacube/base/log.h"
#include "datacube/crypto/sha256.h"
#include "datacube/engine/executor.h"

namespace datacube::engine {

// Shared by the tasks of one multipart file.
struct MultipartState {
  std::shared_ptr<CopyJob> job;
  std::unique_ptr<storage::MultipartUpload> upload;
  uint64_t size = 0;
  uint64_t part_size = 0;
  uint32_t part_count = 0;
  // Parts durable from an earlier run, by number, as the store reported them.
  std::map<uint32_t, storage::PartInfo> resumed;

  std::mutex mu;
  std::vector<storage::PartInfo> parts;  // guarded by mu; index = number - 1
  std::map<uint32_t, std::pair<io::PooledBuffer, size_t>> ready;  // guarded by mu
  uint32_t next_to_hash = 1;                                      // guarded by mu
  bool hashing = false;                                           // guarded by mu
  uint32_t parts_ended = 0;                                       // guarded by mu
  bool finalized = false;                                         // guarded by mu
  Status error;                                                   // guarded by mu: first failure
  std::atomic<bool> failed{false};
  crypto::Sha256 hasher;  // used only by the thread holding `hashing`
  // The source's other digests, fed in order with `hasher`; null when there are none.
  std::unique_ptr<DigestVerifier> verifier;
};

namespace {

// Number of parts for `size` bytes in parts of `part_size` (at least one).
uint32_t PartCount(uint64_t size, uint64_t part_size) {
  return static_cast<uint32_t>(std::max<uint64_t>(1, (size + part_size - 1) / part_size));
}

// Identity of a source version: a changed source must never resume stale parts.
std::string ResumeFingerprint(const CopyJob& job, const storage::ObjectStore& src) {
  const auto& s = job.item.src;
  return src.UrlFor(job.src_key) + "|" + std::to_string(s.size) + "|" + s.etag + "|" +
         (s.mtime_ns ? std::to_string(*s.mtime_ns) : "") + "|" + s.sha256;
}

}  // namespace

void Executor::DispatchMultipart(const std::shared_ptr<CopyJob>& job) {
  auto state = std::make_shared<MultipartState>();
  state->job = job;
  state->size = job->item.src.size;
  uint64_t part_size = part_size_;
  state->part_size = part_size;
  state->part_count = PartCount(state->size, part_size);

  // What the source offers, decided before EnsureSourceSha puts our own hash in its place.
  const VerifyPlan plan = PlanVerification(job->item.src);
  if (Status s = NoteVerification(*job, plan); !s.ok()) return FinishJob(job, s, "", 0);
  if (!plan.others.empty()) state->verifier = std::make_unique<DigestVerifier>(plan.others);

  if (dst_caps_.wants_sha256_before_write && job->item.src.sha256.empty()) {
    auto buffer = buffers_.Acquire(options_.stop);
    if (!buffer.ok()) return FinishJob(job, buffer.status(), "", 0);
    Status s = EnsureSourceSha(*job, *buffer);
    if (!s.ok()) return FinishJob(job, s, "", 0);
  }
  storage::MultipartOptions mopts;
  mopts.size = state->size;
  mopts.part_size = part_size;
  mopts.sha256 = job->item.src.sha256;
  mopts.mtime_ns = job->item.src.mtime_ns;
  if (options_.resume && !job->fresh)
    mopts.resume_fingerprint = ResumeFingerprint(*job, *ends_.src.store);
  auto upload = ends_.dst.store->StartMultipart(job->dst_key, mopts);
  if (!upload.ok()) return FinishJob(job, upload.status(), "", 0);
  state->upload = std::move(*upload);
  for (const auto& p : state->upload->completed_parts()) {
    uint64_t expect_offset = static_cast<uint64_t>(p.number - 1) * part_size;
    uint64_t expect_size = std::min(part_size, state->size - std::min(state->size, expect_offset));
    if (p.number >= 1 && p.number <= state->part_count && p.offset == expect_offset &&
        p.size == expect_size) {
      state->resumed[p.number] = p;
    }
  }
  state->parts.resize(state->part_count);
  if (!state->resumed.empty()) {
    LogInfo("resuming " + job->item.rel + ": " + std::to_string(state->resumed.size()) + " of " +
            std::to_string(state->part_count) + " parts already done");
  }
  for (uint32_t n = 1; n <= state->part_count; ++n) {
    auto buffer = buffers_.Acquire(options_.stop);
    if (!buffer.ok()) {
      // Cancelled: account for every part that will never run.
      for (uint32_t m = n; m <= state->part_count; ++m) PartEnded(state, buffer.status());
      return;
    }
    pool_.Submit([this, state, n, buf = std::make_shared<io::PooledBuffer>(std::move(*buffer))] {
      RunPart(state, n, std::move(*buf));
    });
  }
}

void Executor::RunPart(const std::shared_ptr<MultipartState>& state, uint32_t number,
                       io::PooledBuffer buffer) {
  CopyJob& job = *state->job;
  if (state->failed.load()) return PartEnded(state, Status());
  const uint64_t offset = static_cast<uint64_t>(number - 1) * state->part_size;
  const uint64_t length = std::min(state->part_size, state->size - offset);
  std::span<uint8_t> data = buffer.span().subspan(0, length);

  auto resumed = state->resumed.find(number);
  if (resumed != state->resumed.end()) {
    // Already durable: read it back (or fetch the source range) only to feed the file hash.
    io::SpanSink sink(data);
    Status s = state->upload->ReadBack({offset, length}, sink);
    bool counted = false;  // ReadRange counts the bytes it fetches itself
    if (s.code() == StatusCode::kUnimplemented) {
      s = ReadRange(job, offset, length, data);
      counted = true;
    } else if (s.ok() && sink.size() != length) {
      s = DataLossError("partial upload is short");
    }
    if (s.ok() && !resumed->second.sha256.empty() &&
        crypto::Sha256Hex(std::string_view(reinterpret_cast<const char*>(data.data()), length)) !=
            resumed->second.sha256) {
      s = DataLossError("a resumed part of " + job.item.rel + " no longer matches its journal");
    }
    if (!s.ok()) return PartEnded(state, s);
    {
      std::lock_guard<std::mutex> lock(state->mu);
      state->parts[number - 1] = resumed->second;
    }
    if (!counted) ReportBytes(job, length);
    DepositForHashing(state, number, std::move(buffer), length);
    return PartEnded(state, Status());
  }

  Status s = ReadRange(job, offset, length, data);
  if (s.ok()) {
    s = Retry(job, [&]() -> Status {
      auto part = state->upload->UploadPart(number, offset, data);
      if (!part.ok()) return part.status();
      std::lock_guard<std::mutex> lock(state->mu);
      state->parts[number - 1] = *part;
      return Status();
    });
  }
  if (!s.ok()) return PartEnded(state, s);
  DepositForHashing(state, number, std::move(buffer), length);
  PartEnded(state, Status());
}

void Executor::DepositForHashing(const std::shared_ptr<MultipartState>& state, uint32_t number,
                                 io::PooledBuffer buffer, size_t length) {
  std::unique_lock<std::mutex> lock(state->mu);
  state->ready.emplace(number, std::make_pair(std::move(buffer), length));
  if (state->hashing) return;  // the thread already hashing will pick this one up
  state->hashing = true;
  while (true) {
    auto it = state->ready.find(state->next_to_hash);
    if (it == state->ready.end() || state->failed.load()) break;
    auto entry = std::move(it->second);
    state->ready.erase(it);
    lock.unlock();
    state->hasher.Update(entry.first.span().subspan(0, entry.second));
    if (state->verifier) state->verifier->Update(entry.first.span().subspan(0, entry.second));
    entry.first = io::PooledBuffer();  // back to the pool
    lock.lock();
    ++state->next_to_hash;
  }
  state->hashing = false;
  bool done = state->next_to_hash > state->part_count && state->parts_ended == state->part_count;
  if (done && !state->finalized) {
    state->finalized = true;
    lock.unlock();
    FinalizeMultipart(state);
  }
}

void Executor::PartEnded(const std::shared_ptr<MultipartState>& state, const Status& status) {
  std::unique_lock<std::mutex> lock(state->mu);
  if (!status.ok() && state->error.ok()) {
    state->error = status;
    state->failed = true;
    state->ready.clear();  // parked buffers go back to the pool
  }
  ++state->parts_ended;
  if (state->parts_ended < state->part_count || state->finalized) return;
  bool hashed = state->next_to_hash > state->part_count;
  if (!hashed && !state->failed && state->hashing) return;  // the hashing thread finalizes
  if (!hashed && !state->failed) return;
  state->finalized = true;
  lock.unlock();
  FinalizeMultipart(state);
}

void Executor::FinalizeMultipart(const std::shared_ptr<MultipartState>& state) {
  CopyJob& job = *state->job;
  Status error;
  {
    std::lock_guard<std::mutex> lock(state->mu);
    error = state->error;
  }
  if (!error.ok()) {
    // Keep a resumable upload for transient trouble and cancellation (a rerun continues it);
    // drop it when its data is suspect, the source changed, or the destination refuses (a full
    // disk should not stay full of our partial file).
    bool resumable = error.code() == StatusCode::kCancelled ||
                     (IsRetryable(error) && error.code() != StatusCode::kDataLoss);
    if (!resumable) state->upload->Abort().IgnoreError();
    return FinishJob(state->job, error, "", state->size);
  }
  std::string sha = state->hasher.FinishHex();
  if (!job.item.src.sha256.empty() && job.item.src.sha256 != sha) {
    state->upload->Abort().IgnoreError();
    return FinishJob(
        state->job,
        DataLossError("checksum mismatch for " + ends_.src.store->UrlFor(job.src_key) +
                      ": source says SHA-256 " + job.item.src.sha256 + ", received " + sha),
        "", state->size);
  }
  if (state->verifier) {
    Status v = state->verifier->Finish(ends_.src.store->UrlFor(job.src_key));
    if (!v.ok()) {
      state->upload->Abort().IgnoreError();
      return FinishJob(state->job, v, "", state->size);
    }
  }
  std::vector<storage::PartInfo> parts;
  {
    std::lock_guard<std::mutex> lock(state->mu);
    parts = state->parts;
  }
  Status s = Retry(job, [&]() -> Status {
    auto info = state->upload->Complete(parts, sha);
    if (!info.ok()) return info.status();
    if (!info->sha256.empty() && info->sha256 != sha) {
      return DataLossError("destination " + ends_.dst.store->UrlFor(job.dst_key) +
                           " reports SHA-256 " + info->sha256 + " after writing " + sha);
    }
    return Status();
  });
  FinishJob(state->job, s, sha, state->size);
}

}  // namespace datacube::engine
