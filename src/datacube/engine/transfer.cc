#include "datacube/engine/transfer.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "datacube/base/log.h"
#include "datacube/base/units.h"
#include "datacube/crypto/sha256.h"
#include "datacube/engine/executor.h"
#include "datacube/engine/parallel.h"
#include "datacube/io/buffer_pool.h"

namespace datacube::engine {
namespace {

std::string Basename(std::string_view key) {
  while (!key.empty() && key.back() == '/') key.remove_suffix(1);
  size_t slash = key.rfind('/');
  return std::string(slash == std::string_view::npos ? key : key.substr(slash + 1));
}

// `key` quoted for a message, control characters as \xNN (a key from a listing is untrusted).
std::string Quoted(std::string_view key) {
  std::string out = "\"";
  for (char ch : key) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f || ch == '"' || ch == '\\') {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

// Lists every object below `prefix`, keyed by path relative to it.
Status ListRelative(storage::ObjectStore& store, const std::string& prefix,
                    const std::function<Status(std::string rel, storage::ObjectInfo&)>& fn,
                    const std::function<void(std::string rel, const storage::SkippedEntry&)>&
                        on_skipped = nullptr) {
  storage::ListRequest req;
  req.prefix = prefix;
  auto skipped = [&](const storage::SkippedEntry& e) {
    if (on_skipped && e.key.size() > prefix.size() &&
        e.key.compare(0, prefix.size(), prefix) == 0) {
      on_skipped(e.key.substr(prefix.size()), e);
    }
  };
  return storage::ListAll(
      store, req,
      [&](const storage::ObjectInfo& obj) -> Status {
        // A listing is untrusted: a key outside the prefix is refused, never re-mapped by cutting
        // its first characters off.
        if (obj.key.compare(0, prefix.size(), prefix) != 0) {
          return MalformedResponseError("malformed listing from " + store.UrlFor(prefix) +
                                        ": key " + Quoted(obj.key) +
                                        " is outside the requested prefix");
        }
        if (obj.key.size() == prefix.size()) return Status();  // the prefix's own marker object
        std::string rel = obj.key.substr(prefix.size());
        if (rel.back() == '/') return Status();  // "directory marker" objects
        storage::ObjectInfo copy = obj;
        return fn(std::move(rel), copy);
      },
      skipped);
}

// A source entry the listing left out (storage::SkippedEntry): links and special files are
// counted and named, never dropped in silence; a file whose size cannot be trusted fails.
void ReportLeftOut(const TransferEndpoints& ends, std::string rel, const storage::SkippedEntry& e,
                   TransferReport& report, ProgressSink* progress) {
  // Quoted: a file name may hold control characters that must not reach a log or terminal raw.
  std::string url = Quoted(ends.src.store->UrlFor(e.key));
  if (e.kind == storage::SkippedEntry::Kind::kUnsizedFile) {
    Status s = InvalidArgumentError("refusing " + url + ": " + e.reason);
    ++report.files_failed;
    if (report.status.ok()) report.status = s;
    if (progress) progress->OnFile({rel, FileAction::kFailed, 0, "", s.ToString()});
    report.files.push_back({std::move(rel), FileAction::kFailed, 0, "", s});
    return;
  }
  if (e.kind == storage::SkippedEntry::Kind::kSymlink) {
    ++report.symlinks_left_out;
  } else {
    ++report.special_files_left_out;
  }
  LogWarn("not copying " + url + ": " + e.reason);
  if (progress) progress->OnFile({std::move(rel), FileAction::kSkipped, 0, "", e.reason});
}

// An object whose listing entry must be completed: by Stat, or by hashing its bytes.
struct Refresh {
  storage::ObjectStore* store;
  std::string key;
  storage::ObjectInfo* info;
};

// Listings without metadata (S3 shows neither x-amz-meta-sha256 nor the preserved mtime): Stat
// the objects where that metadata decides something — a same-size pair the planner must compare,
// or a large source whose SHA-256 the download must be verified against.
Status StatWhereListingsFallShort(const TransferEndpoints& ends,
                                  std::map<std::string, storage::ObjectInfo>& src,
                                  std::map<std::string, storage::ObjectInfo>& dst,
                                  const TransferOptions& options, size_t jobs) {
  const bool src_full = ends.src.store->capabilities().list_has_metadata;
  const bool dst_full = ends.dst.store->capabilities().list_has_metadata;
  if (src_full && dst_full) return Status();
  std::vector<Refresh> todo;
  for (auto& [rel, s] : src) {
    auto it = dst.find(rel);
    bool same_size = it != dst.end() && it->second.size == s.size;
    if (!src_full && s.sha256.empty() && (same_size || s.size > options.part_size)) {
      todo.push_back({ends.src.store.get(), ends.src_prefix + rel, &s});
    }
    if (!dst_full && same_size)
      todo.push_back({ends.dst.store.get(), ends.dst_prefix + rel, &it->second});
  }
  return ParallelFor(todo.size(), jobs, options.stop, [&](size_t i) -> Status {
    auto st = todo[i].store->Stat(todo[i].key);
    if (st.status().code() == StatusCode::kNotFound) return Status();  // vanished: keep listing
    if (!st.ok()) return st.status();
    *todo[i].info = std::move(*st);
    return Status();
  });
}

// For --checksum: fills in SHA-256 where a store does not know it, by reading the bytes.
Status FillMissingHashes(const TransferEndpoints& ends,
                         std::map<std::string, storage::ObjectInfo>& src,
                         std::map<std::string, storage::ObjectInfo>& dst,
                         const TransferOptions& options, size_t jobs) {
  std::vector<Refresh> todo;
  for (auto& [rel, s] : src) {
    auto it = dst.find(rel);
    if (it == dst.end() || it->second.size != s.size) continue;
    if (s.sha256.empty()) todo.push_back({ends.src.store.get(), ends.src_prefix + rel, &s});
    if (it->second.sha256.empty()) {
      todo.push_back({ends.dst.store.get(), ends.dst_prefix + rel, &it->second});
    }
  }
  io::BufferPool buffers(std::min<uint64_t>(options.part_size, 4ull << 20), jobs);
  return ParallelFor(todo.size(), jobs, options.stop, [&](size_t i) -> Status {
    DC_ASSIGN_OR_RETURN(io::PooledBuffer buffer, buffers.Acquire(options.stop));
    DC_ASSIGN_OR_RETURN(todo[i].info->sha256,
                        HashObject(*todo[i].store, todo[i].key, buffer.span()));
    return Status();
  });
}

uint64_t RequiredPartSize(uint64_t size, uint64_t part_size, const storage::Capabilities& caps) {
  uint64_t need = part_size;
  if (caps.max_part_count > 0 && size / need >= caps.max_part_count) {
    need = (size + caps.max_part_count - 1) / caps.max_part_count;
    need = (need + (1 << 20) - 1) & ~uint64_t{(1 << 20) - 1};  // whole MiB
  }
  return std::clamp<uint64_t>(need, std::max<uint64_t>(caps.min_part_size, 1), caps.max_part_size);
}

Status DeleteExtras(const TransferEndpoints& ends, const std::vector<PlanItem>& plan,
                    TransferReport& report, ProgressSink* progress) {
  std::vector<std::string> keys;
  std::vector<const PlanItem*> items;
  for (const auto& item : plan) {
    if (item.action != PlanAction::kDelete) continue;
    keys.push_back(ends.dst_prefix + item.rel);
    items.push_back(&item);
  }
  Status first;
  constexpr size_t kBatch = 1000;  // S3 DeleteObjects' limit; fine for every store
  for (size_t start = 0; start < keys.size(); start += kBatch) {
    size_t end = std::min(keys.size(), start + kBatch);
    std::vector<Status> per_key;
    Status s = ends.dst.store->DeleteMany({keys.data() + start, end - start}, &per_key);
    for (size_t i = start; i < end; ++i) {
      Status ks = i - start < per_key.size() ? per_key[i - start] : s;
      FileResult r{items[i]->rel, ks.ok() ? FileAction::kDeleted : FileAction::kFailed,
                   items[i]->dst ? items[i]->dst->size : 0, "", ks};
      if (ks.ok()) {
        ++report.files_deleted;
      } else {
        ++report.files_failed;
        if (first.ok()) first = ks;
      }
      if (progress) {
        progress->OnFile({r.path, r.action, r.size, "", ks.ok() ? "not in source" : ks.ToString()});
      }
      report.files.push_back(std::move(r));
    }
  }
  return first;
}

}  // namespace

std::string TransferReport::Summary() const {
  double secs = static_cast<double>(elapsed.count()) / 1000.0;
  std::string rate =
      secs > 0 ? FormatBytes(static_cast<uint64_t>(bytes_copied / secs)) + "/s" : "-";
  std::string out = "copied " + std::to_string(files_copied) + " file" +
                    (files_copied == 1 ? "" : "s") + " (" + FormatBytes(bytes_copied) +
                    "), skipped " + std::to_string(files_skipped) + ", deleted " +
                    std::to_string(files_deleted) + ", failed " + std::to_string(files_failed);
  if (keys_refused) out += ", refused " + std::to_string(keys_refused) + " unsafe keys";
  if (files_unverified) {
    out += ", " + std::to_string(files_unverified) + " unverified (the source offered no checksum)";
  }
  if (symlinks_left_out) {
    out += ", left out " + std::to_string(symlinks_left_out) + " symbolic link" +
           (symlinks_left_out == 1 ? "" : "s");
  }
  if (special_files_left_out) {
    out += ", left out " + std::to_string(special_files_left_out) + " special file" +
           (special_files_left_out == 1 ? "" : "s");
  }
  out += " in " + FormatDuration(elapsed) + " (" + rate + ")";
  return out;
}

namespace {

// What exists on each side, by path relative to the transfer's roots.
struct Inventory {
  std::map<std::string, storage::ObjectInfo> src;
  std::map<std::string, storage::ObjectInfo> dst;
  std::map<std::string, std::pair<std::string, std::string>> keys;  // rel -> (src key, dst key)
};

Status InventorySingle(const TransferEndpoints& ends, Inventory& inv) {
  std::string rel = Basename(ends.src.key);
  inv.src[rel] = ends.single_info;
  inv.keys[rel] = {ends.src.key, ends.dst.key};
  auto existing = ends.dst.store->Stat(ends.dst.key);
  if (existing.ok()) {
    inv.dst[rel] = *existing;
  } else if (existing.status().code() != StatusCode::kNotFound) {
    return existing.status();
  }
  return Status();
}

// Lists both trees (filters applied). Keys that cannot map safely onto a local path are refused
// when the destination is local: skipped with a warning, or the run fails with --strict.
Status InventoryTrees(const TransferEndpoints& ends, const TransferOptions& options,
                      TransferReport& report, ProgressSink* progress, Inventory& inv) {
  const bool dst_is_local = ends.dst.location.is_local();
  DC_RETURN_IF_ERROR(ListRelative(
      *ends.src.store, ends.src_prefix,
      [&](std::string rel, storage::ObjectInfo& info) {
        if (!options.filter.Selected(rel)) return Status();
        if (dst_is_local) {
          Status safe = storage::ValidateRelativeKey(rel);
          if (!safe.ok()) {
            ++report.keys_refused;
            if (options.strict_keys) return safe.WithContext("--strict");
            LogWarn("skipping " + ends.src.store->UrlFor(info.key) + ": " +
                    std::string(safe.message()));
            return Status();
          }
        }
        inv.keys[rel] = {ends.src_prefix + rel, ends.dst_prefix + rel};
        inv.src.emplace(std::move(rel), std::move(info));
        return Status();
      },
      [&](std::string rel, const storage::SkippedEntry& e) {
        if (options.filter.Selected(rel)) ReportLeftOut(ends, std::move(rel), e, report, progress);
      }));
  Status listed = ListRelative(*ends.dst.store, ends.dst_prefix,
                               [&](std::string rel, storage::ObjectInfo& info) {
                                 if (options.filter.Selected(rel)) {
                                   inv.dst.emplace(std::move(rel), std::move(info));
                                 }
                                 return Status();
                               });
  if (!listed.ok() && listed.code() != StatusCode::kNotFound) return listed;
  return Status();
}

// The copies to run, with the buffer size they need; skips and conflicts go into the report.
struct CopyPlan {
  std::vector<std::shared_ptr<CopyJob>> copies;
  uint64_t buffer_size = 0;
  uint64_t bytes = 0;
};

CopyPlan CollectCopies(const TransferEndpoints& ends, const std::vector<PlanItem>& plan,
                       Inventory& inv, const TransferOptions& options, TransferReport& report,
                       ProgressSink* progress) {
  CopyPlan out;
  out.buffer_size = options.part_size;
  const storage::Capabilities dst_caps = ends.dst.store->capabilities();
  for (const auto& item : plan) {
    if (item.action == PlanAction::kSkip) {
      ++report.files_skipped;
      std::string sha = item.dst && !item.dst->sha256.empty() ? item.dst->sha256 : item.src.sha256;
      FileResult r{item.rel, FileAction::kSkipped, item.src.size, sha, Status()};
      if (progress) progress->OnFile({r.path, r.action, r.size, r.sha256, item.reason});
      report.files.push_back(std::move(r));
      continue;
    }
    if (item.action == PlanAction::kConflict) {
      // Found before anything is copied; the rest of the tree still copies.
      ++report.files_failed;
      Status s = FailedPreconditionError(
          "cannot copy " + ends.src.store->UrlFor(inv.keys[item.rel].first) + ": " + item.reason);
      if (report.status.ok()) report.status = s;
      if (progress)
        progress->OnFile({item.rel, FileAction::kFailed, item.src.size, "", item.reason});
      report.files.push_back({item.rel, FileAction::kFailed, item.src.size, "", s});
      continue;
    }
    if (item.action != PlanAction::kCopy) continue;
    auto job = std::make_shared<CopyJob>();
    job->item = item;
    job->src_key = inv.keys[item.rel].first;
    job->dst_key = inv.keys[item.rel].second;
    out.bytes += item.src.size;
    if (dst_caps.multipart) {
      out.buffer_size =
          std::max(out.buffer_size, RequiredPartSize(item.src.size, options.part_size, dst_caps));
    }
    out.copies.push_back(std::move(job));
  }
  return out;
}

// --dry-run: the plan, as planned copies and deletes.
void RecordPlan(const std::vector<PlanItem>& plan, TransferReport& report, ProgressSink* progress) {
  for (const auto& item : plan) {
    if (item.action == PlanAction::kSkip) continue;
    FileAction a =
        item.action == PlanAction::kCopy ? FileAction::kPlannedCopy : FileAction::kPlannedDelete;
    uint64_t size = item.action == PlanAction::kCopy ? item.src.size : item.dst->size;
    if (progress) progress->OnFile({item.rel, a, size, "", item.reason});
    report.files.push_back({item.rel, a, size, "", Status()});
  }
}

void RunCopies(const TransferEndpoints& ends, CopyPlan plan, Inventory& inv,
               const TransferOptions& options, size_t jobs, TransferReport& report,
               ProgressSink* progress) {
  // One worker per file is enough for small files; a file split into parts uses them all.
  const bool multipart = ends.dst.store->capabilities().multipart;
  bool any_parts =
      multipart && std::any_of(plan.copies.begin(), plan.copies.end(), [&](const auto& job) {
        return job->item.src.size > options.part_size;
      });
  size_t workers = any_parts ? jobs : std::min(jobs, std::max<size_t>(1, plan.copies.size()));
  Executor executor(ends, options, progress, workers, plan.buffer_size);
  executor.Run(std::move(plan.copies));
  // Small files may still be waiting for the destination's group commit.
  Status flushed = ends.dst.store->Flush();
  if (!flushed.ok()) report.status = flushed.WithContext("publishing copied files");
  std::vector<FileResult> results = executor.TakeResults();
  if (!flushed.ok()) {
    // Which deferred files did not land is not known from one status: every copy that is not at
    // its destination now counts as failed, so the summary never says "failed 0".
    for (auto& r : results) {
      if (r.status.ok() && !ends.dst.store->Stat(inv.keys[r.path].second).ok()) {
        r.action = FileAction::kFailed;
        r.status = report.status;
      }
    }
  }
  for (auto& r : results) {
    if (r.status.ok()) {
      ++report.files_copied;
      report.bytes_copied += r.size;
      if (r.unverified) ++report.files_unverified;
    } else {
      ++report.files_failed;
      if (report.status.ok()) report.status = r.status.WithContext(r.path);
    }
    report.files.push_back(std::move(r));
  }
}

// sync --delete: only after every copy succeeded.
void MirrorDeletes(const TransferEndpoints& ends, const std::vector<PlanItem>& plan,
                   const TransferOptions& options, TransferReport& report, ProgressSink* progress) {
  if (report.files_failed != 0 || options.stop.stop_requested()) {
    LogWarn("not deleting extra destination files because some copies failed");
    return;
  }
  Status s = DeleteExtras(ends, plan, report, progress);
  if (!s.ok() && report.status.ok()) report.status = s;
  // A mirror keeps nothing the source lacks: also the hidden leftovers of interrupted runs.
  auto leftovers = ends.dst.store->RemoveStaleTemporaries(ends.dst_prefix);
  if (!leftovers.ok()) {
    LogWarn("could not remove leftover temporary files: " + leftovers.status().ToString());
  } else if (*leftovers > 0) {
    LogInfo("removed " + std::to_string(*leftovers) +
            " temporary file(s) that interrupted earlier runs left in " +
            ends.dst.store->UrlFor(ends.dst_prefix));
  }
}

}  // namespace

Result<TransferReport> RunTransfer(const TransferEndpoints& ends, const TransferOptions& options,
                                   ProgressSink* progress) {
  auto started = std::chrono::steady_clock::now();
  auto finish = [&](TransferReport& report) {
    report.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
  };
  TransferReport report;
  const size_t jobs = options.jobs ? options.jobs : DefaultJobs();

  // 1. What exists on each side.
  Inventory inv;
  DC_RETURN_IF_ERROR(ends.single ? InventorySingle(ends, inv)
                                 : InventoryTrees(ends, options, report, progress, inv));

  // 2. Decide.
  DC_RETURN_IF_ERROR(StatWhereListingsFallShort(ends, inv.src, inv.dst, options, jobs));
  if (options.compare == CompareMode::kChecksum) {
    DC_RETURN_IF_ERROR(FillMissingHashes(ends, inv.src, inv.dst, options, jobs));
  }
  PlanOptions popts{options.compare, options.delete_extra, ends.dst.location.is_local()};
  std::vector<PlanItem> plan = Plan(inv.src, inv.dst, popts);
  CopyPlan copies = CollectCopies(ends, plan, inv, options, report, progress);
  // Entries the source listing left out (and refused) were reported as file events too.
  const uint64_t left_out =
      report.symlinks_left_out + report.special_files_left_out + report.files_failed;
  if (progress) {
    progress->OnPlanned(copies.copies.size() + report.files_skipped + left_out, copies.bytes);
  }
  if (options.dry_run) {
    RecordPlan(plan, report, progress);
    finish(report);
    return report;
  }

  // 3. Copy, then 4. mirror deletes.
  RunCopies(ends, std::move(copies), inv, options, jobs, report, progress);
  if (options.delete_extra) MirrorDeletes(ends, plan, options, report, progress);
  if (report.status.ok() && report.keys_refused > 0 && options.strict_keys) {
    report.status = InvalidArgumentError("unsafe keys refused");
  }
  std::sort(report.files.begin(), report.files.end(),
            [](const FileResult& a, const FileResult& b) { return a.path < b.path; });
  finish(report);
  return report;
}

}  // namespace datacube::engine
