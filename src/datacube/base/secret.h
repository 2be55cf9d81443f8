// Secret<T>: a credential value that never prints itself.
//
// Any attempt to stream or format a Secret yields "***". Code that needs the value (a signer, an
// Authorization header) calls `reveal()`, which makes every use of the raw value easy to find in
// review. The redactors below let log and error paths scrub values that escaped into
// free text (a token inside a URL, say).
#pragma once

#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

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

// The secret values to scrub from every line a job prints, with their encoded forms. Values
// shorter than 4 characters are not kept (they would redact ordinary words). Thread-safe.
//
// A secret also travels encoded, and a server, a proxy or a tool's trace may echo it that way,
// so each value is kept with its encoded forms as well:
//   - base64 (standard and URL-safe alphabet) of the value alone, and the part of its base64
//     that is the same wherever the value sits inside a longer encoded text (for each of the
//     three byte alignments; only when that part is at least 8 characters long, so that short
//     values do not redact random text);
//   - percent-encoding (upper- and lower-case hex) when it differs from the value.
class Redactor {
 public:
  Redactor();
  ~Redactor();
  Redactor(const Redactor&) = delete;
  Redactor& operator=(const Redactor&) = delete;

  void Add(std::string_view value);
  // `secret`, and the HTTP Basic credentials base64("user:secret") sent with it (the value after
  // "Authorization: Basic ").
  void AddCredentialPair(std::string_view user, std::string_view secret);
  // Replaces every kept value in `text` with "***".
  void ApplyTo(std::string& text) const;
  // How many strings are kept (values and encodings); for tests and metrics.
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::string> values_;  // guarded by mu_; longest first
};

// Scoping. A long-running process (a server, a controller) runs many jobs for many tenants, so
// secrets belong to the job that learnt them: a job installs its own Redactor on its thread with
// a RedactionScope (the engine's thread pools carry it to their workers), secrets registered
// while it is installed go to it, and they are gone when the job's last reference ends. One
// tenant's secret is therefore never matched against another tenant's text, and the set does not
// grow with the number of jobs. Outside any scope (a command-line run, which is one job for its
// whole life) secrets go to the process-wide redactor.
std::shared_ptr<Redactor> CurrentRedactor();
Redactor& ProcessRedactor();

class RedactionScope {
 public:
  explicit RedactionScope(std::shared_ptr<Redactor> redactor);
  ~RedactionScope();
  RedactionScope(const RedactionScope&) = delete;
  RedactionScope& operator=(const RedactionScope&) = delete;

 private:
  std::shared_ptr<Redactor> previous_;
};

// Adds `value` (with its encodings) to the current job's redactor, else the process-wide one.
void RegisterSecretForRedaction(std::string_view value);

// The same for a secret and the HTTP Basic credentials sent with it.
void RegisterCredentialPairForRedaction(std::string_view user, std::string_view secret);

// Standard base64 (with padding) of `data`; exposed for tests.
std::string Base64ForRedaction(std::string_view data, bool url_safe = false);

// Replaces every secret of the current job and of the process in `text` with "***", and the
// password part of any "scheme://user:password@host" or token part of "scheme://token@host" with
// "***".
std::string Redact(std::string_view text);

}  // namespace datacube
