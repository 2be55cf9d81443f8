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

namespace {

// The first key of `m` below directory `dir` ("dir/..."), or nullptr. Keys are sorted, and every
// key starting with "dir/" sorts right after "dir/" itself.
const std::string* FirstBelow(const std::map<std::string, storage::ObjectInfo>& m,
                              const std::string& dir) {
  const std::string prefix = dir + "/";
  auto it = m.lower_bound(prefix);
  if (it == m.end() || it->first.compare(0, prefix.size(), prefix) != 0) return nullptr;
  return &it->first;
}

}  // namespace

std::map<std::string, std::string> FindPathConflicts(
    const std::map<std::string, storage::ObjectInfo>& src,
    const std::map<std::string, storage::ObjectInfo>& dst) {
  std::map<std::string, std::string> conflicts;
  for (const auto& [rel, info] : src) {
    if (const std::string* below = FirstBelow(src, rel)) {
      conflicts[rel] = "the source also has \"" + *below +
                       "\": a path cannot be both a file and a directory at the destination";
      continue;
    }
    if (const std::string* below = FirstBelow(dst, rel)) {
      conflicts[rel] = "the destination has a directory here (it holds \"" + *below + "\")";
      continue;
    }
    for (size_t slash = rel.find('/'); slash != std::string::npos;
         slash = rel.find('/', slash + 1)) {
      const std::string parent = rel.substr(0, slash);
      if (dst.count(parent)) {
        conflicts[rel] =
            "the destination has a file \"" + parent + "\" where a directory is needed";
        break;
      }
    }
  }
  return conflicts;
}

std::vector<PlanItem> Plan(const std::map<std::string, storage::ObjectInfo>& src,
                           const std::map<std::string, storage::ObjectInfo>& dst,
                           const PlanOptions& options) {
  std::map<std::string, std::string> conflicts;
  if (options.tree_destination) conflicts = FindPathConflicts(src, dst);
  std::vector<PlanItem> plan;
  plan.reserve(src.size());
  for (const auto& [rel, info] : src) {
    auto it = dst.find(rel);
    std::optional<storage::ObjectInfo> existing;
    if (it != dst.end()) existing = it->second;
    if (auto c = conflicts.find(rel); c != conflicts.end()) {
      PlanItem item;
      item.action = PlanAction::kConflict;
      item.rel = rel;
      item.src = info;
      item.dst = existing;
      item.reason = c->second;
      plan.push_back(std::move(item));
      continue;
    }
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
