// Parsing and printing of sizes and durations as users type them on command lines and in
// DataCube specs: "64M", "1Gi", "512k", "600", "10m", "1h30m".
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "datacube/base/result.h"

namespace datacube {

// Sizes: a bare number is bytes. Suffixes K/M/G/T/P (and KiB/MiB/... or Ki/Mi/...) are powers of
// 1024, as in rclone; "KB"/"MB"/... with a B are powers of 1000, as in the AWS CLI and Kubernetes
// ("k"/"M" without B in Kubernetes quantities are also decimal, but users of transfer tools expect
// binary, so only an explicit "B" selects decimal). Case-insensitive. Errors name the text.
Result<uint64_t> ParseSize(std::string_view text);

// Durations: a bare number is seconds; otherwise a sequence of <number><unit> with units
// ms, s, m, h, d ("1h30m", "10m", "250ms"). Anything longer than kMaxDuration is refused, not
// wrapped: a deadline or backoff of "100000000h" would otherwise overflow the clock arithmetic
// of the wait and not wait at all.
inline constexpr std::chrono::milliseconds kMaxDuration{366LL * 24 * 3600 * 1000};
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

// "1.5 GiB", "12 B", "64.0 MiB".
std::string FormatBytes(uint64_t bytes);
// "1h02m03s", "4.2s", "120ms".
std::string FormatDuration(std::chrono::milliseconds d);

}  // namespace datacube
