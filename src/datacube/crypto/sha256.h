// Streaming SHA-256 over OpenSSL's EVP interface (uses SHA-NI where the CPU has it: ~1.8 GB/s per
// core here, about 4x coreutils). Feed it large chunks (>= 16 KiB) for full speed.
//
// Thread-safety: one Sha256 object per thread; the class is movable, not copyable.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace datacube::crypto {

using Sha256Digest = std::array<uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void Update(std::span<const uint8_t> data);
  void Update(std::string_view data) {
    Update(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
  }
  // Returns the digest and resets the object for reuse.
  Sha256Digest Finish();
  // Lower-case hex of Finish().
  std::string FinishHex();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One-shot helpers.
Sha256Digest Sha256Of(std::string_view data);
std::string Sha256Hex(std::string_view data);

// Lower-case hex encoding and decoding.
std::string HexEncode(std::span<const uint8_t> bytes);
std::string HexEncode(std::string_view bytes);
// Returns false when `hex` has odd length or a non-hex character.
bool HexDecode(std::string_view hex, std::string* out);
// True when `s` is exactly 64 lower- or upper-case hex characters.
bool IsSha256Hex(std::string_view s);

std::string Base64Encode(std::string_view bytes);
bool Base64Decode(std::string_view text, std::string* out);

}  // namespace datacube::crypto
