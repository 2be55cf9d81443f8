#include "datacube/engine/planner.h"

#include <cstdlib>

namespace datacube::engine {
namespace {
// Modification times are compared at one-second precision: many stores (S3 metadata, FAT, some
// NFS servers) keep nothing finer.
constexpr int64_t kMtimeToleranceNs = 1'000'000'000;
}  // namespace

PlanItem Decide(const std::string& rel, const storage::ObjectInfo& src,
                const std::optional<storage::ObjectInfo>& dst, CompareMode mode) {
  PlanItem item;
  item.rel = rel;
  item.src = src;
  item.dst = dst;
  item.action = PlanAction::kCopy;
  if (!dst) {
    item.reason = "new";
    return item;
  }
  if (src.size != dst->size) {
    item.reason = "size differs";
    return item;
  }
  if (mode == CompareMode::kSizeOnly) {
    item.action = PlanAction::kSkip;
    item.reason = "same size";
    return item;
  }
  if (!src.sha256.empty() && !dst->sha256.empty()) {
    bool same = src.sha256 == dst->sha256;
    item.action = same ? PlanAction::kSkip : PlanAction::kCopy;
    item.reason = same ? "same SHA-256" : "content differs";
    return item;
  }
  if (mode == CompareMode::kChecksum) {
    item.reason = "no SHA-256 to compare";
    return item;
  }
  if (src.mtime_ns && dst->mtime_ns) {
    bool same = std::llabs(*src.mtime_ns - *dst->mtime_ns) < kMtimeToleranceNs;
    item.action = same ? PlanAction::kSkip : PlanAction::kCopy;
    item.reason = same ? "same size and time" : "modification time differs";
    return item;
  }
  item.action = PlanAction::kSkip;
  item.reason = "same size";
  return item;
}

std::vector<PlanItem> Plan(const std::map<std::string, storage::ObjectInfo>& src,
                           const std::map<std::string, storage::ObjectInfo>& dst,
                           const PlanOptions& options) {
  std::vector<PlanItem> plan;
  plan.reserve(src.size());
  for (const auto& [rel, info] : src) {
    auto it = dst.find(rel);
    std::optional<storage::ObjectInfo> existing;
    if (it != dst.end()) existing = it->second;
    plan.push_back(Decide(rel, info, existing, options.compare));
  }
  if (options.delete_extra) {
    for (const auto& [rel, info] : dst) {
      if (src.count(rel)) continue;
      PlanItem item;
      item.action = PlanAction::kDelete;
      item.rel = rel;
      item.dst = info;
      item.reason = "not in source";
      plan.push_back(std::move(item));
    }
  }
  return plan;
}

}  // namespace datacube::engine
