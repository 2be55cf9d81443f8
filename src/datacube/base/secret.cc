#include "datacube/base/secret.h"

#include <algorithm>
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

}  // namespace

void RegisterSecretForRedaction(std::string_view value) {
  if (value.size() < 4) return;
  std::lock_guard<std::mutex> lock(RegistryMutex());
  auto& reg = Registry();
  if (std::find(reg.begin(), reg.end(), value) == reg.end()) reg.emplace_back(value);
  // Longest first, so a secret that contains another is replaced whole.
  std::sort(reg.begin(), reg.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
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
