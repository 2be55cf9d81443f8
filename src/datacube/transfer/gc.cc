#include "datacube/transfer/gc.h"

#include <algorithm>
#include <map>

#include "datacube/engine/manifest.h"
#include "datacube/io/byte_stream.h"
#include "datacube/transfer/registry.h"

namespace datacube::transfer {
namespace {

struct Listed {
  std::string key;  // in the store
  std::string rel;  // relative to the target
  uint64_t size = 0;
  std::optional<int64_t> mtime_ns;
};

std::string DirPrefix(const std::string& key) {
  if (key.empty() || key.back() == '/') return key;
  return key + "/";
}

Result<std::vector<Listed>> ListTarget(storage::ObjectStore& store, const std::string& prefix) {
  std::vector<Listed> listed;
  storage::ListRequest request;
  request.prefix = prefix;
  DC_RETURN_IF_ERROR(storage::ListAll(store, request, [&](const storage::ObjectInfo& o) {
    listed.push_back({o.key, o.key.substr(prefix.size()), o.size, o.mtime_ns});
    return Status();
  }));
  std::sort(listed.begin(), listed.end(),
            [](const Listed& a, const Listed& b) { return a.key < b.key; });
  return listed;
}

// Manifest time of each path some manifest under the target lists: the newest such manifest's
// object time.
Result<std::map<std::string, int64_t>> ManifestTimes(storage::ObjectStore& store,
                                                     const std::vector<Listed>& listed) {
  std::map<std::string, int64_t> times;
  for (const Listed& m : listed) {
    if (!IsManifestName(m.rel) || !m.mtime_ns) continue;
    if (m.size > engine::kMaxManifestBytes) {
      return InvalidArgumentError("manifest " + store.UrlFor(m.key) + " is too large");
    }
    io::StringSink sink;
    DC_RETURN_IF_ERROR(store.Read(m.key, ByteRange::All(), sink));
    DC_ASSIGN_OR_RETURN(auto entries, engine::ParseManifest(sink.str(), store.UrlFor(m.key)));
    size_t slash = m.rel.rfind('/');
    std::string dir = slash == std::string::npos ? "" : m.rel.substr(0, slash + 1);
    for (const engine::ManifestEntry& e : entries) {
      int64_t& t = times.try_emplace(dir + e.path, *m.mtime_ns).first->second;
      t = std::max(t, *m.mtime_ns);
    }
  }
  return times;
}

void DeleteExpired(storage::ObjectStore& store, const Listed& obj, const GcOptions& options,
                   GcItem& item, GcReport& report) {
  Status status = store.Delete(obj.key);
  item.deleted = status.ok();
  if (!status.ok()) item.error = status.ToString();
  ++(status.ok() ? report.deleted : report.failed);
  if (options.audit == nullptr) return;
  audit::Record record;
  record.actor = options.actor;
  record.action = "delete";
  record.destination = item.url;
  record.data_class = item.verdict.data_class;
  record.bytes = obj.size;
  record.files = 1;
  record.result = status.ok() ? "ok" : "failed";
  record.detail = "gc: " + item.verdict.reason + " (rule " + item.verdict.rule + ", age " +
                  std::to_string(item.verdict.age.count()) + "s)";
  if (!status.ok()) record.detail += ": " + item.error;
  Status appended = options.audit->Append(std::move(record));
  if (!appended.ok()) {
    // A deletion that cannot be audited counts as failed: the operator must see it.
    if (status.ok()) --report.deleted, ++report.failed;
    item.error = "audit: " + appended.ToString();
  }
}

}  // namespace

bool IsManifestName(std::string_view path) {
  size_t slash = path.rfind('/');
  std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  constexpr std::string_view kSuffix = ".manifest.jsonl";
  return base == "manifest.jsonl" ||
         (base.size() > kSuffix.size() && base.substr(base.size() - kSuffix.size()) == kSuffix);
}

Result<GcReport> RunGc(const Location& target, const GcOptions& options) {
  if (options.policy == nullptr) return InvalidArgumentError("gc needs a policy");
  DC_ASSIGN_OR_RETURN(StoreRef ref, OpenLocation(target, options.config, OpenMode::kWriteTree));
  storage::ObjectStore& store = *ref.store;
  const std::string prefix = DirPrefix(ref.key);
  DC_ASSIGN_OR_RETURN(std::vector<Listed> listed, ListTarget(store, prefix));
  DC_ASSIGN_OR_RETURN(auto manifest_times, ManifestTimes(store, listed));
  std::vector<retention::Entry> entries;
  for (const Listed& obj : listed) {
    auto it = manifest_times.find(obj.rel);
    entries.push_back({obj.rel, obj.mtime_ns,
                       it == manifest_times.end() ? std::nullopt : std::optional(it->second)});
  }
  DC_ASSIGN_OR_RETURN(auto verdicts, retention::Decide(*options.policy, entries, options.now_ns));
  GcReport report;
  for (size_t i = 0; i < listed.size(); ++i) {
    GcItem item{std::move(verdicts[i]), store.UrlFor(listed[i].key), listed[i].size, false, {}};
    if (item.verdict.expired) {
      ++report.expired;
      if (options.apply) DeleteExpired(store, listed[i], options, item, report);
    }
    report.items.push_back(std::move(item));
  }
  return report;
}

}  // namespace datacube::transfer
