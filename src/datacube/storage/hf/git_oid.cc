#include "datacube/storage/hf/git_oid.h"

#include <openssl/evp.h>

#include "datacube/crypto/sha256.h"

namespace datacube::storage::hf {

struct GitBlobHasher::Impl {
  EVP_MD_CTX* ctx = nullptr;
  ~Impl() { EVP_MD_CTX_free(ctx); }
};

GitBlobHasher::GitBlobHasher(uint64_t size) : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(impl_->ctx, EVP_sha1(), nullptr);
  std::string header = "blob " + std::to_string(size);
  header.push_back('\0');
  Update(header);
}

GitBlobHasher::~GitBlobHasher() = default;
GitBlobHasher::GitBlobHasher(GitBlobHasher&&) noexcept = default;
GitBlobHasher& GitBlobHasher::operator=(GitBlobHasher&&) noexcept = default;

void GitBlobHasher::Update(std::span<const uint8_t> data) {
  EVP_DigestUpdate(impl_->ctx, data.data(), data.size());
}

std::string GitBlobHasher::FinishHex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->ctx, digest, &len);
  return crypto::HexEncode(std::span<const uint8_t>(digest, len));
}

std::string GitBlobId(std::string_view content) {
  GitBlobHasher h(content.size());
  h.Update(content);
  return h.FinishHex();
}

std::string Sha1Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha1(), nullptr);
  return crypto::HexEncode(std::span<const uint8_t>(digest, len));
}

std::string LfsPointer(std::string_view sha256_hex, uint64_t size) {
  return "version https://git-lfs.github.com/spec/v1\noid sha256:" + std::string(sha256_hex) +
         "\nsize " + std::to_string(size) + "\n";
}

namespace {

bool IsLowerHex(std::string_view s, size_t size) {
  if (s.size() != size) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

bool IsGitOid(std::string_view s) { return IsLowerHex(s, 40); }

bool IsLfsOid(std::string_view s) { return IsLowerHex(s, 64); }

}  // namespace datacube::storage::hf
