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
void RegisterSecretForRedaction(std::string_view value);

// Replaces every registered secret in `text` with "***", and the password part of any
// "scheme://user:password@host" or token part of "scheme://token@host" with "***".
std::string Redact(std::string_view text);

}  // namespace datacube
