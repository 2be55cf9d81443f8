// BufferPool: a fixed number of equally sized buffers, handed out and returned.
//
// This is what keeps datacube's memory independent of file size and file count: every byte in
// flight lives in one of `count` buffers of `buffer_size` bytes. Buffers are allocated on first
// use and reused afterwards (first touch of fresh memory is slow on these machines).
//
// Thread-safe. Acquire blocks until a buffer is free or the stop token is triggered.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <span>
#include <stop_token>
#include <vector>

#include "datacube/base/result.h"

namespace datacube::io {

// Page alignment, as O_DIRECT requires of buffers, offsets and lengths.
inline constexpr size_t kBufferAlignment = 4096;

class BufferPool;

// A buffer on loan from a pool; returns itself when destroyed.
class PooledBuffer {
 public:
  PooledBuffer() = default;
  PooledBuffer(PooledBuffer&& other) noexcept;
  PooledBuffer& operator=(PooledBuffer&& other) noexcept;
  ~PooledBuffer();

  std::span<uint8_t> span() { return {data_, capacity_}; }
  uint8_t* data() { return data_; }
  size_t capacity() const { return capacity_; }
  explicit operator bool() const { return data_ != nullptr; }

 private:
  friend class BufferPool;
  PooledBuffer(BufferPool* pool, uint8_t* data, size_t capacity)
      : pool_(pool), data_(data), capacity_(capacity) {}
  BufferPool* pool_ = nullptr;
  uint8_t* data_ = nullptr;
  size_t capacity_ = 0;
};

class BufferPool {
 public:
  BufferPool(size_t buffer_size, size_t count);
  ~BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // Blocks until a buffer is available. Fails with kCancelled when `stop` is requested.
  Result<PooledBuffer> Acquire(std::stop_token stop = {});

  size_t buffer_size() const { return buffer_size_; }
  size_t count() const { return count_; }
  // Peak number of buffers ever allocated (for tests and the memory report).
  size_t allocated() const;

 private:
  friend class PooledBuffer;
  void Release(uint8_t* data);

  const size_t buffer_size_;
  const size_t count_;
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  struct FreeDeleter {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::vector<uint8_t*> free_;                              // guarded by mu_
  std::vector<std::unique_ptr<uint8_t, FreeDeleter>> all_;  // guarded by mu_; owns them all
};

}  // namespace datacube::io
