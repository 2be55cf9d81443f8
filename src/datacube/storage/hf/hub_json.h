// Internal to HubClient: reading the Hub's JSON answers without trusting their shape.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "datacube/base/result.h"
#include "datacube/http/http_transport.h"

namespace datacube::storage::hf::hub_json {

using nlohmann::json;

// The Hub's per-request limits (huggingface_hub UPLOAD_BATCH_MAX_NUM_FILES and the preupload
// chunk size): larger requests are refused, so callers batch.
inline constexpr size_t kMaxPerRequest = 256;

// The string at `key`; "" when it is missing or not a string.
std::string Str(const json& j, const char* key);

// The number at `key` (a negative one is 0, a numeric string is read); 0 when it is missing or
// unreadable.
uint64_t U64(const json& j, const char* key);

// The body of `r` as JSON; kUnavailable naming `what` when it is malformed.
Result<json> ParseJson(const http::HttpResponse& r, const std::string& what);

}  // namespace datacube::storage::hf::hub_json
