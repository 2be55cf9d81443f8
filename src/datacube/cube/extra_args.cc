#include "datacube/cube/extra_args.h"

#include <array>

#include "datacube/base/glob.h"
#include "datacube/base/units.h"

namespace datacube::cube {
namespace {

constexpr std::array<ExtraArgSpec, 11> kSpecs = {{
    {"--cache-dir", true, "cache directory for backends that keep one (Hugging Face)"},
    {"--include", true, "copy only paths matching this glob (repeatable)"},
    {"--exclude", true, "skip paths matching this glob (repeatable)"},
    {"--jobs", true, "parallel workers, 1 to 1024"},
    {"--bwlimit", true, "aggregate rate limit in bytes per second, e.g. 100M"},
    {"--part-size", true, "part and buffer size, 64K to 5G"},
    {"--retries", true, "attempts per request for transient failures, 1 to 100"},
    {"--checksum", false, "skip files only when size and SHA-256 match"},
    {"--size-only", false, "skip files whose size matches"},
    {"--no-resume", false, "start interrupted large files over"},
    {"--strict", false, "fail on unsafe object keys instead of skipping them"},
}};

std::optional<long> ParseBoundedInt(const std::string& text, long lo, long hi) {
  try {
    size_t used = 0;
    long v = std::stol(text, &used);
    if (used == text.size() && v >= lo && v <= hi) return v;
  } catch (...) {
  }
  return std::nullopt;
}

// Applies one flag with its value; returns an error message or "".
std::string ApplyFlag(std::string_view flag, const std::string& value, ExtraArgs& out) {
  if (flag == "--cache-dir") {
    if (value.empty()) return "--cache-dir needs a directory";
    out.cache_dir = value;
  } else if (flag == "--include" || flag == "--exclude") {
    auto compiled = GlobPattern::Compile(value);
    if (!compiled.ok()) return std::string(flag) + ": " + std::string(compiled.status().message());
    (flag == "--include" ? out.include : out.exclude).push_back(value);
  } else if (flag == "--jobs") {
    auto n = ParseBoundedInt(value, 1, 1024);
    if (!n) return "--jobs: \"" + value + "\" must be a number from 1 to 1024";
    out.jobs = static_cast<size_t>(*n);
  } else if (flag == "--retries") {
    auto n = ParseBoundedInt(value, 1, 100);
    if (!n) return "--retries: \"" + value + "\" must be a number from 1 to 100";
    out.retries = static_cast<int>(*n);
  } else if (flag == "--bwlimit" || flag == "--part-size") {
    auto size = ParseSize(value);
    if (!size.ok()) return std::string(flag) + ": " + std::string(size.status().message());
    if (flag == "--bwlimit") {
      if (*size == 0) return "--bwlimit: must be greater than 0";
      out.bwlimit = *size;
    } else {
      if (*size < (64 << 10) || *size > (5ull << 30))
        return "--part-size: must be between 64K and 5G";
      out.part_size = *size;
    }
  } else if (flag == "--checksum") {
    out.checksum = true;
  } else if (flag == "--size-only") {
    out.size_only = true;
  } else if (flag == "--no-resume") {
    out.no_resume = true;
  } else if (flag == "--strict") {
    out.strict = true;
  }
  return "";
}

}  // namespace

std::span<const ExtraArgSpec> ExtraArgSpecs() { return kSpecs; }

ExtraArgs ParseExtraArgs(const std::vector<std::string>& args, const std::string& path,
                         Diagnostics& diag) {
  ExtraArgs out;
  std::vector<std::string_view> names;
  for (const auto& s : kSpecs) names.push_back(s.flag);
  for (size_t i = 0; i < args.size(); ++i) {
    std::string item_path = path + "[" + std::to_string(i) + "]";
    const std::string& arg = args[i];
    std::string flag = arg;
    std::optional<std::string> inline_value;
    if (size_t eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      flag = arg.substr(0, eq);
      inline_value = arg.substr(eq + 1);
    }
    const ExtraArgSpec* spec = nullptr;
    for (const auto& s : kSpecs) spec = s.flag == flag ? &s : spec;
    if (spec == nullptr) {
      std::string what = arg.rfind("-", 0) == 0 ? "unknown flag \"" + flag + "\""
                                                : "unexpected argument \"" + arg + "\"";
      diag.Add(item_path, what + DidYouMean(flag, names) + "; accepted flags: " + JoinNames(names));
      // "--jbos 4": the next item is most likely the unknown flag's value; one error is enough.
      if (!inline_value && i + 1 < args.size() && args[i + 1].rfind("-", 0) != 0) ++i;
      continue;
    }
    std::string value;
    if (spec->takes_value) {
      if (inline_value) {
        value = *inline_value;
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        diag.Add(item_path, std::string(spec->flag) + " needs a value");
        continue;
      }
    } else if (inline_value) {
      diag.Add(item_path, std::string(spec->flag) + " takes no value");
      continue;
    }
    std::string problem = ApplyFlag(spec->flag, value, out);
    if (!problem.empty()) diag.Add(item_path, problem);
  }
  if (out.checksum && out.size_only) {
    diag.Add(path, "--checksum and --size-only cannot be combined");
  }
  return out;
}

Status ApplyExtraArgs(const ExtraArgs& args, transfer::TransferOptions& o) {
  if (args.jobs) o.jobs = *args.jobs;
  if (args.part_size) o.part_size = *args.part_size;
  if (args.bwlimit) o.bwlimit = *args.bwlimit;
  if (args.retries) o.retry.max_attempts = *args.retries;
  if (args.checksum) o.compare = transfer::CompareMode::kChecksum;
  if (args.size_only) o.compare = transfer::CompareMode::kSizeOnly;
  if (args.no_resume) o.resume = false;
  if (args.strict) o.strict_keys = true;
  for (const auto& p : args.include) DC_RETURN_IF_ERROR(o.filter.AddInclude(p));
  for (const auto& p : args.exclude) DC_RETURN_IF_ERROR(o.filter.AddExclude(p));
  return Status();
}

}  // namespace datacube::cube
