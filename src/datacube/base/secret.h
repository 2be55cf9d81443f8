// Secret<T>: a credential value that never prints itself.
//
// Any attempt to stream or format a Secret yields "***". Code that needs the value (a signer, an
// Authorization header) calls `reveal()`, which makes every use of the raw value easy to find in
// review. The redaction registry below lets log and error paths scrub values that escaped into
// free text (a token inside a URL, say).
#pragma once

#include <ostream>
#include <string>
#include <string_view>

namespace datacube {

template <typename T = std::string>
class Secret {
 public:
  Secret() = default;
  explicit Secret(T value) : value_(std::move(value)) {}

  const T& reveal() const { return value_; }
  bool empty() const { return value_.empty(); }

  friend std::ostream& operator<<(std::ostream& os, const Secret&) { return os << "***"; }

 private:
  T value_;
};

// Process-wide list of secret values to scrub from every line we print. Values shorter than 4
// characters are not registered (they would redact ordinary words). Thread-safe.
//
// A secret also travels encoded, and a server, a proxy or a tool's trace may echo it that way,
// so each value registers its encoded forms as well:
//   - base64 (standard and URL-safe alphabet) of the value alone, and the part of its base64
//     that is the same wherever the value sits inside a longer encoded text (for each of the
//     three byte alignments; only when that part is at least 8 characters long, so that short
//     values do not redact random text);
//   - percent-encoding (upper- and lower-case hex) when it differs from the value.
void RegisterSecretForRedaction(std::string_view value);

// Registers `secret` and the HTTP Basic credentials base64("user:secret") sent with it (the
// value after "Authorization: Basic ").
void RegisterCredentialPairForRedaction(std::string_view user, std::string_view secret);

// Standard base64 (with padding) of `data`; exposed for tests.
std::string Base64ForRedaction(std::string_view data, bool url_safe = false);

// Replaces every registered secret in `text` with "***", and the password part of any
// "scheme://user:password@host" or token part of "scheme://token@host" with "***".
std::string Redact(std::string_view text);

}  // namespace datacube
