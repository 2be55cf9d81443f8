// ByteSource and ByteSink: the two streaming seams every store and the engine speak.
//
// A ByteSource yields bytes in order until it reports end of stream (Read returns 0). A ByteSink
// accepts bytes in order. Neither is thread-safe; each is used by one task at a time.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "datacube/base/result.h"

namespace datacube::io {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to out.size() bytes. Returns 0 only at end of stream.
  virtual Result<size_t> Read(std::span<uint8_t> out) = 0;
};

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  // Accepts all of `data` or fails.
  virtual Status Write(std::span<const uint8_t> data) = 0;

  // Zero-copy path for producers that can fill memory directly (pread into the engine's
  // buffer): returns the free space the next bytes may be written to, or an empty span when the
  // sink has no such memory. After filling n bytes of it, the producer calls CommitDirect(n).
  virtual std::span<uint8_t> DirectSpace() { return {}; }
  virtual Status CommitDirect(size_t n) {
    (void)n;
    return InternalError("CommitDirect called on a sink without direct space");
  }
};

inline std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Reads from a span held elsewhere.
class SpanSource final : public ByteSource {
 public:
  explicit SpanSource(std::span<const uint8_t> data) : data_(data) {}
  explicit SpanSource(std::string_view data) : data_(AsBytes(data)) {}
  Result<size_t> Read(std::span<uint8_t> out) override {
    size_t n = std::min(out.size(), data_.size() - pos_);
    if (n) std::memcpy(out.data(), data_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

// Appends to a std::string (tests, small metadata bodies).
class StringSink final : public ByteSink {
 public:
  Status Write(std::span<const uint8_t> data) override {
    out_.append(reinterpret_cast<const char*>(data.data()), data.size());
    return Status();
  }
  const std::string& str() const { return out_; }
  std::string& str() { return out_; }

 private:
  std::string out_;
};

// Fills a caller-owned fixed buffer; writing past its capacity is kOutOfRange (the source sent
// more than the range asked for).
class SpanSink final : public ByteSink {
 public:
  explicit SpanSink(std::span<uint8_t> buffer) : buffer_(buffer) {}
  Status Write(std::span<const uint8_t> data) override {
    if (data.size() > buffer_.size() - size_) {
      return OutOfRangeError("received more bytes than requested (" +
                             std::to_string(size_ + data.size()) + " > " +
                             std::to_string(buffer_.size()) + ")");
    }
    std::memcpy(buffer_.data() + size_, data.data(), data.size());
    size_ += data.size();
    return Status();
  }
  std::span<uint8_t> DirectSpace() override { return buffer_.subspan(size_); }
  Status CommitDirect(size_t n) override {
    if (n > buffer_.size() - size_) return OutOfRangeError("direct write past the buffer");
    size_ += n;
    return Status();
  }
  size_t size() const { return size_; }
  std::span<const uint8_t> filled() const { return buffer_.subspan(0, size_); }

 private:
  std::span<uint8_t> buffer_;
  size_t size_ = 0;
};

// Pumps a source into a sink through `scratch` until end of stream; returns bytes moved.
Result<uint64_t> Pump(ByteSource& source, ByteSink& sink, std::span<uint8_t> scratch);

}  // namespace datacube::io
