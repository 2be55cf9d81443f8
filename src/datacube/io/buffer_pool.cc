#include "datacube/io/buffer_pool.h"

namespace datacube::io {

PooledBuffer::PooledBuffer(PooledBuffer&& other) noexcept
    : pool_(other.pool_), data_(other.data_), capacity_(other.capacity_) {
  other.pool_ = nullptr;
  other.data_ = nullptr;
}

PooledBuffer& PooledBuffer::operator=(PooledBuffer&& other) noexcept {
  if (this != &other) {
    if (pool_ && data_) pool_->Release(data_);
    pool_ = other.pool_;
    data_ = other.data_;
    capacity_ = other.capacity_;
    other.pool_ = nullptr;
    other.data_ = nullptr;
  }
  return *this;
}

PooledBuffer::~PooledBuffer() {
  if (pool_ && data_) pool_->Release(data_);
}

BufferPool::BufferPool(size_t buffer_size, size_t count)
    : buffer_size_(buffer_size), count_(count == 0 ? 1 : count) {}

BufferPool::~BufferPool() = default;

Result<PooledBuffer> BufferPool::Acquire(std::stop_token stop) {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (!free_.empty()) {
      uint8_t* data = free_.back();
      free_.pop_back();
      return PooledBuffer(this, data, buffer_size_);
    }
    if (all_.size() < count_) {
      // Not zero-filled on purpose: that would touch every page up front.
      size_t rounded = (buffer_size_ + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
      auto* data = static_cast<uint8_t*>(std::aligned_alloc(kBufferAlignment, rounded));
      if (data == nullptr) return ResourceExhaustedError("out of memory for transfer buffers");
      all_.emplace_back(data);
      return PooledBuffer(this, all_.back().get(), buffer_size_);
    }
    if (!cv_.wait(lock, stop, [&] { return !free_.empty(); })) {
      return CancelledError("cancelled while waiting for a transfer buffer");
    }
  }
}

void BufferPool::Release(uint8_t* data) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(data);
  }
  cv_.notify_one();
}

size_t BufferPool::allocated() const {
  std::lock_guard<std::mutex> lock(mu_);
  return all_.size();
}

}  // namespace datacube::io
