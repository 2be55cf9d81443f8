#include "datacube/storage/hf/hub_json.h"

#include <algorithm>

namespace datacube::storage::hf::hub_json {

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

uint64_t U64(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return 0;
  if (it->is_number_unsigned()) return it->get<uint64_t>();
  if (it->is_number_integer())
    return static_cast<uint64_t>(std::max<int64_t>(0, it->get<int64_t>()));
  if (it->is_string()) {
    try {
      return std::stoull(it->get<std::string>());
    } catch (...) {
    }
  }
  return 0;
}

Result<json> ParseJson(const http::HttpResponse& r, const std::string& what) {
  json j = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return UnavailableError(what + ": the Hub answered with malformed JSON (HTTP " +
                            std::to_string(r.status) + ")");
  }
  return j;
}

}  // namespace datacube::storage::hf::hub_json
