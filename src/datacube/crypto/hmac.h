// HMAC-SHA256 and MD5 (for S3 Content-MD5 on servers without flexible checksums), via OpenSSL 3.
#pragma once

#include <string>
#include <string_view>

namespace datacube::crypto {

// Raw 32-byte HMAC-SHA256 of `data` keyed by `key`.
std::string HmacSha256(std::string_view key, std::string_view data);

// Raw 16-byte MD5 digest.
std::string Md5(std::string_view data);

}  // namespace datacube::crypto
