// Executor: runs the copy part of a plan on a fixed thread pool with a fixed buffer pool.
// Internal to the engine; RunTransfer (transfer.cc) is the public entry point. Scheduling, reads
// and results are in executor.cc, files copied in one piece (server-side, small, streamed) in
// executor_whole_file.cc, large files in parts in executor_multipart.cc.
//
// Scheduling (why it cannot deadlock): the dispatching thread acquires a buffer *before* it
// submits a task, in plan order, so every queued task already owns its memory. A large file's
// parts are hashed in order as they complete; a part that finishes early parks its buffer until
// the parts before it are hashed, and those parts are already submitted with buffers of their own.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "datacube/engine/planner.h"
#include "datacube/engine/progress.h"
#include "datacube/engine/rate_limiter.h"
#include "datacube/engine/thread_pool.h"
#include "datacube/engine/transfer.h"
#include "datacube/engine/verify.h"
#include "datacube/io/buffer_pool.h"

namespace datacube::engine {

// One file to copy; re-queued on a retryable whole-file failure.
struct CopyJob {
  PlanItem item;
  std::string src_key;
  std::string dst_key;
  int attempt = 1;
  // Do not resume an earlier partial upload (set after a whole-file checksum failure).
  bool fresh = false;
  // Bytes reported to progress for this attempt, retracted if the attempt fails.
  std::atomic<uint64_t> bytes_reported{0};
  // The bytes were checked against a digest the source offers (set by the attempt's thread).
  bool verified = false;
};

struct MultipartState;

// Buffer size for small files copied to or from a remote store (see Executor::small_buffers_).
inline constexpr uint64_t kSmallFileBuffer = 1ull << 20;

class Executor {
 public:
  Executor(const TransferEndpoints& ends, const TransferOptions& options, ProgressSink* progress,
           size_t jobs, uint64_t buffer_size);
  ~Executor();

  // Copies every job; blocks until each has succeeded or finally failed.
  void Run(std::vector<std::shared_ptr<CopyJob>> jobs);
  std::vector<FileResult> TakeResults();

  size_t buffers_allocated() const { return buffers_.allocated(); }

 private:
  void Dispatch(const std::shared_ptr<CopyJob>& job);
  // Asks the destination to copy server-side (S3 to S3 on one endpoint); a destination that
  // cannot turns this off for the rest of the run and the job is copied through buffers.
  void DispatchServerSideCopy(const std::shared_ptr<CopyJob>& job);
  void DispatchSmall(const std::shared_ptr<CopyJob>& job, io::PooledBuffer buffer);
  void DispatchMultipart(const std::shared_ptr<CopyJob>& job);
  void DispatchStreamed(const std::shared_ptr<CopyJob>& job, io::PooledBuffer buffer);

  Status CopySmall(CopyJob& job, io::PooledBuffer& buffer, std::string* sha);
  Status CopyStreamed(CopyJob& job, io::PooledBuffer& buffer, std::string* sha);
  void RunPart(const std::shared_ptr<MultipartState>& state, uint32_t number,
               io::PooledBuffer buffer);
  void DepositForHashing(const std::shared_ptr<MultipartState>& state, uint32_t number,
                         io::PooledBuffer buffer, size_t length);
  void PartEnded(const std::shared_ptr<MultipartState>& state, const Status& status);
  void FinalizeMultipart(const std::shared_ptr<MultipartState>& state);

  // Reads [offset, offset+length) of the job's source into `out` with retries, throttled by
  // --bwlimit, and checks the length.
  // whole_sha256: see storage::ReadOptions (filled when the source store hashed a whole read).
  // offered: see storage::ReadOptions (the digests a whole-object read brought).
  Status ReadRange(CopyJob& job, uint64_t offset, uint64_t length, std::span<uint8_t> out,
                   std::string* whole_sha256 = nullptr,
                   std::vector<storage::OfferedDigest>* offered = nullptr);
  // Records whether `plan` verifies the job's bytes; with --require-checksum, a network source
  // that offers nothing fails the file here, before anything is written.
  Status NoteVerification(CopyJob& job, const VerifyPlan& plan);
  // Hashes the whole source first (for stores that need the SHA-256 when an upload starts).
  Status EnsureSourceSha(CopyJob& job, io::PooledBuffer& buffer);
  Status Retry(CopyJob& job, const std::function<Status()>& op);
  void ReportBytes(CopyJob& job, uint64_t n);

  // Records the outcome, or re-queues the job when a whole-file retry is due.
  void FinishJob(const std::shared_ptr<CopyJob>& job, Status status, const std::string& sha,
                 uint64_t bytes);

  // Constant after construction.
  const TransferEndpoints& ends_;
  const TransferOptions& options_;
  ProgressSink* const progress_;
  const uint64_t part_size_;
  const storage::Capabilities dst_caps_;
  // How many small files may be in flight at once with small buffers; 0: they use `buffers_`.
  const size_t small_file_slots_;
  // Bytes from a network source are verified against what it offers, or counted unverified.
  const bool src_remote_;

  io::BufferPool buffers_;
  // Files of at most kSmallFileBuffer bytes, when either store is remote: more requests in
  // flight than there are large buffers, each holding only a small buffer. Empty otherwise.
  io::BufferPool small_buffers_;
  RateLimiter limiter_;
  // Server-side copies are tried until the destination answers kUnimplemented once.
  std::atomic<bool> try_server_side_copy_{true};

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<CopyJob>> requeue_;  // guarded by mu_
  size_t outstanding_ = 0;                        // guarded by mu_
  std::vector<FileResult> results_;               // guarded by mu_

  ThreadPool pool_;  // last member: destroyed (workers joined) before anything tasks touch
};

}  // namespace datacube::engine
