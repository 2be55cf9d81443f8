#include "datacube/base/secret.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <mutex>
#include <vector>

namespace datacube {
namespace {

// Scrubs "scheme://<userinfo>@" so tokens written into URLs (DataCube examples do
// `https://$(TOKEN)@github.com/...`) never print.
std::string RedactUrlUserinfo(std::string text) {
  size_t pos = 0;
  while ((pos = text.find("://", pos)) != std::string::npos) {
    size_t start = pos + 3;
    size_t end = start;
    while (end < text.size() && text[end] != '/' && text[end] != '@' && text[end] != ' ' &&
           text[end] != '"' && text[end] != '\'' && text[end] != '\n') {
      ++end;
    }
    if (end < text.size() && text[end] == '@' && end > start) {
      text.replace(start, end - start, "***");
      end = start + 3;
    }
    pos = end;
  }
  return text;
}

// Shortest encoded fragment registered: 8 base64 characters carry 48 bits of the secret.
constexpr size_t kMinEncodedFragment = 8;

void AddLocked(std::vector<std::string>& reg, std::string value) {
  if (value.size() < 4) return;
  if (std::find(reg.begin(), reg.end(), value) == reg.end()) reg.push_back(std::move(value));
}

// The base64 characters that depend only on `value` when it starts `offset` (0, 1 or 2) bytes
// into the encoded data: character i covers bits [6i, 6i+6), the value bits [8*offset,
// 8*(offset+len)).
std::string AlignedCore(std::string_view value, size_t offset, bool url_safe) {
  std::string padded(offset, '\0');
  padded.append(value);
  padded.append(2, '\0');
  std::string enc = Base64ForRedaction(padded, url_safe);
  size_t first = (8 * offset + 5) / 6;
  size_t end = (8 * (offset + value.size())) / 6;
  if (end <= first || end > enc.size()) return "";
  return enc.substr(first, end - first);
}

std::string PercentEncode(std::string_view value, bool lower) {
  const char* hex = lower ? "0123456789abcdef" : "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

void AddWithEncodingsLocked(std::vector<std::string>& reg, std::string_view value) {
  if (value.size() < 4) return;
  AddLocked(reg, std::string(value));
  for (bool url_safe : {false, true}) {
    std::string full = Base64ForRedaction(value, url_safe);
    AddLocked(reg, full);
    // Without padding, as unpadded encoders and URL-safe tokens write it.
    while (!full.empty() && full.back() == '=') full.pop_back();
    AddLocked(reg, full);
    for (size_t offset = 0; offset < 3; ++offset) {
      std::string core = AlignedCore(value, offset, url_safe);
      if (core.size() >= kMinEncodedFragment) AddLocked(reg, core);
    }
  }
  for (bool lower : {false, true}) {
    std::string pe = PercentEncode(value, lower);
    if (pe != value) AddLocked(reg, pe);
  }
}

void SortLocked(std::vector<std::string>& reg) {
  // Longest first, so a secret that contains another is replaced whole.
  std::sort(reg.begin(), reg.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

}  // namespace

std::string Base64ForRedaction(std::string_view data, bool url_safe) {
  const char* alphabet = url_safe
                             ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                             : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<unsigned char>(data[k]); };
  for (; i + 3 <= data.size(); i += 3) {
    uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    for (int shift = 18; shift >= 0; shift -= 6) out += alphabet[(v >> shift) & 63];
  }
  size_t rest = data.size() - i;
  if (rest > 0) {
    uint32_t v = byte(i) << 16;
    if (rest == 2) v |= byte(i + 1) << 8;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += rest == 2 ? alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Redactor::Redactor() = default;
Redactor::~Redactor() = default;

void Redactor::Add(std::string_view value) {
  if (value.size() < 4) return;
  std::lock_guard<std::mutex> lock(mu_);
  AddWithEncodingsLocked(values_, value);
  SortLocked(values_);
}

void Redactor::AddCredentialPair(std::string_view user, std::string_view secret) {
  if (secret.size() < 4) return;
  std::lock_guard<std::mutex> lock(mu_);
  AddWithEncodingsLocked(values_, secret);
  AddLocked(values_, Base64ForRedaction(std::string(user) + ":" + std::string(secret)));
  SortLocked(values_);
}

void Redactor::ApplyTo(std::string& text) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& secret : values_) {
    size_t pos = 0;
    while ((pos = text.find(secret, pos)) != std::string::npos) {
      text.replace(pos, secret.size(), "***");
      pos += 3;
    }
  }
}

size_t Redactor::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return values_.size();
}

namespace {

// The job running on this thread; null outside any job.
thread_local std::shared_ptr<Redactor> current_redactor;

}  // namespace

Redactor& ProcessRedactor() {
  static Redactor* process = new Redactor();  // never destroyed: logging may outlive main()
  return *process;
}

std::shared_ptr<Redactor> CurrentRedactor() { return current_redactor; }

RedactionScope::RedactionScope(std::shared_ptr<Redactor> redactor)
    : previous_(std::move(current_redactor)) {
  current_redactor = std::move(redactor);
}

RedactionScope::~RedactionScope() { current_redactor = std::move(previous_); }

void RegisterSecretForRedaction(std::string_view value) {
  if (current_redactor) {
    current_redactor->Add(value);
  } else {
    ProcessRedactor().Add(value);
  }
}

void RegisterCredentialPairForRedaction(std::string_view user, std::string_view secret) {
  if (current_redactor) {
    current_redactor->AddCredentialPair(user, secret);
  } else {
    ProcessRedactor().AddCredentialPair(user, secret);
  }
}

std::string Redact(std::string_view text) {
  std::string out(text);
  if (current_redactor) current_redactor->ApplyTo(out);
  ProcessRedactor().ApplyTo(out);
  return RedactUrlUserinfo(std::move(out));
}

}  // namespace datacube
