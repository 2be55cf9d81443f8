#include "datacube/base/secret.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <mutex>
#include <vector>

namespace datacube {
namespace {

std::mutex& RegistryMutex() {
  static std::mutex m;
  return m;
}
std::vector<std::string>& Registry() {  // guarded by RegistryMutex()
  static std::vector<std::string> values;
  return values;
}

// Scrubs "scheme://<userinfo>@" so tokens written into URLs (the DataCube seed does
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

void RegisterSecretForRedaction(std::string_view value) {
  if (value.size() < 4) return;
  std::lock_guard<std::mutex> lock(RegistryMutex());
  auto& reg = Registry();
  AddWithEncodingsLocked(reg, value);
  SortLocked(reg);
}

void RegisterCredentialPairForRedaction(std::string_view user, std::string_view secret) {
  if (secret.size() < 4) return;
  std::lock_guard<std::mutex> lock(RegistryMutex());
  auto& reg = Registry();
  AddWithEncodingsLocked(reg, secret);
  std::string pair = std::string(user) + ":" + std::string(secret);
  AddLocked(reg, Base64ForRedaction(pair));
  SortLocked(reg);
}

std::string Redact(std::string_view text) {
  std::string out(text);
  {
    std::lock_guard<std::mutex> lock(RegistryMutex());
    for (const auto& secret : Registry()) {
      size_t pos = 0;
      while ((pos = out.find(secret, pos)) != std::string::npos) {
        out.replace(pos, secret.size(), "***");
        pos += 3;
      }
    }
  }
  return RedactUrlUserinfo(std::move(out));
}

}  // namespace datacube
