// Chain verification: every line parses, carries the fields of a record, has seq = its line
// number and prev = SHA-256 of the line before it (kGenesisPrev for the first).
#include <nlohmann/json.hpp>

#include "datacube/audit/audit_log.h"
#include "datacube/crypto/sha256.h"
#include "datacube/io/small_file.h"

namespace datacube::audit {
namespace {

constexpr const char* kStringFields[] = {"time",        "actor", "action",          "source",
                                         "destination", "class", "manifest_digest", "result",
                                         "detail",      "prev"};

// Why `line` (number `number`, after a line hashing to `prev_hash`) is bad, or "" when good.
std::string CheckLine(std::string_view line, uint64_t number, const std::string& prev_hash) {
  auto json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) return "not a JSON object";
  for (const char* field : kStringFields) {
    if (!json.contains(field) || !json[field].is_string()) {
      return std::string("field \"") + field + "\" missing or not a string";
    }
  }
  for (const char* field : {"seq", "bytes", "files"}) {
    if (!json.contains(field) || !json[field].is_number_unsigned()) {
      return std::string("field \"") + field + "\" missing or not a number";
    }
  }
  if (json["prev"].get<std::string>() != prev_hash) {
    if (number == 1) return "prev is not the first record's fixed value (lines removed before it?)";
    return "prev does not match the SHA-256 of line " + std::to_string(number - 1) +
           " (that line was edited, or lines were removed, inserted or reordered here)";
  }
  uint64_t seq = json["seq"].get<uint64_t>();
  if (seq != number) {
    return "seq is " + std::to_string(seq) + ", expected " + std::to_string(number);
  }
  return "";
}

}  // namespace

VerifyReport VerifyText(std::string_view text) {
  VerifyReport report;
  std::string prev_hash(kGenesisPrev);
  uint64_t number = 0;
  while (!text.empty()) {
    ++number;
    size_t nl = text.find('\n');
    if (nl == std::string_view::npos) {
      report.bad_line = number;
      report.torn_tail = true;
      report.reason = "torn tail: " + std::to_string(text.size()) +
                      " bytes after the last newline (an interrupted or truncated append)";
      report.head = prev_hash;
      return report;
    }
    std::string_view line = text.substr(0, nl);
    if (std::string why = CheckLine(line, number, prev_hash); !why.empty()) {
      report.bad_line = number;
      report.reason = why;
      report.head = prev_hash;
      return report;
    }
    prev_hash = crypto::Sha256Hex(line);
    report.records = number;
    text.remove_prefix(nl + 1);
  }
  report.valid = true;
  report.head = prev_hash;
  return report;
}

Result<VerifyReport> VerifyFile(const std::string& path) {
  // Read whole: a log of a few GiB is millions of records; verify is an offline check.
  DC_ASSIGN_OR_RETURN(std::string text, io::ReadSmallFile(path, size_t{16} << 30, "audit log"));
  return VerifyText(text);
}

}  // namespace datacube::audit
