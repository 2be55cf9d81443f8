#include "datacube/engine/manifest.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "datacube/crypto/sha256.h"
#include "datacube/engine/parallel.h"
#include "datacube/engine/transfer.h"
#include "datacube/io/atomic_file_writer.h"
#include "datacube/io/buffer_pool.h"
#include "datacube/io/small_file.h"

namespace datacube::engine {
namespace {

// Hashing reads in 4 MiB chunks: big enough for full SHA-256 speed, small enough that
// jobs x chunk stays modest.
constexpr size_t kHashChunk = 4 << 20;

void SortByPath(std::vector<ManifestEntry>& entries) {
  std::sort(entries.begin(), entries.end(),
            [](const ManifestEntry& a, const ManifestEntry& b) { return a.path < b.path; });
}

// Hashes `objects` in parallel; results land in `out` (same order).
Status HashAll(storage::ObjectStore& store, const std::vector<storage::ObjectInfo>& objects,
               const std::string& prefix, size_t jobs, ProgressSink* progress,
               std::vector<ManifestEntry>* out) {
  out->resize(objects.size());
  io::BufferPool buffers(kHashChunk, jobs);
  // No stop token of its own: a manifest is computed to the end or fails.
  return ParallelFor(objects.size(), jobs, {}, [&](size_t i) -> Status {
    const auto& obj = objects[i];
    ManifestEntry& e = (*out)[i];
    e.path = obj.key.substr(prefix.size());
    e.size = obj.size;
    std::string sha = obj.sha256;
    if (sha.empty()) {
      DC_ASSIGN_OR_RETURN(auto buffer, buffers.Acquire());
      DC_ASSIGN_OR_RETURN(sha, HashObject(store, obj.key, buffer.span()));
    }
    e.sha256 = std::move(sha);
    if (progress) {
      progress->OnBytes(obj.size);
      progress->OnFile({e.path, FileAction::kCopied, e.size, e.sha256, "hashed"});
    }
    return Status();
  });
}

Result<std::vector<storage::ObjectInfo>> ListTree(storage::ObjectStore& store,
                                                  const std::string& prefix) {
  std::vector<storage::ObjectInfo> objects;
  storage::ListRequest req;
  req.prefix = prefix;
  DC_RETURN_IF_ERROR(storage::ListAll(store, req, [&](const storage::ObjectInfo& o) {
    if (o.key.size() > prefix.size() && o.key.back() != '/') objects.push_back(o);
    return Status();
  }));
  return objects;
}

}  // namespace

std::string FormatManifest(std::vector<ManifestEntry> entries) {
  SortByPath(entries);
  std::string out;
  for (const auto& e : entries) {
    nlohmann::ordered_json j;
    j["path"] = e.path;
    j["size"] = e.size;
    j["sha256"] = e.sha256;
    out += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  return out;
}

Result<std::vector<ManifestEntry>> ParseManifest(std::string_view text, std::string_view name) {
  std::vector<ManifestEntry> entries;
  size_t line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t eol = text.find('\n', pos);
    std::string_view line = text.substr(pos, eol == std::string_view::npos ? text.npos : eol - pos);
    pos = eol == std::string_view::npos ? text.size() : eol + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto where = std::string(name) + ":" + std::to_string(line_no);
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      return InvalidArgumentError(where + ": not a JSON object");
    }
    ManifestEntry e;
    if (!j.contains("path") || !j["path"].is_string() || j["path"].get<std::string>().empty()) {
      return InvalidArgumentError(where + ": \"path\" must be a non-empty string");
    }
    if (!j.contains("size") || !j["size"].is_number_unsigned()) {
      return InvalidArgumentError(where + ": \"size\" must be a non-negative integer");
    }
    if (!j.contains("sha256") || !j["sha256"].is_string() ||
        !crypto::IsSha256Hex(j["sha256"].get<std::string>())) {
      return InvalidArgumentError(where + ": \"sha256\" must be 64 hex characters");
    }
    e.path = j["path"].get<std::string>();
    e.size = j["size"].get<uint64_t>();
    e.sha256 = j["sha256"].get<std::string>();
    std::transform(e.sha256.begin(), e.sha256.end(), e.sha256.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    entries.push_back(std::move(e));
  }
  return entries;
}

Result<std::vector<ManifestEntry>> ReadManifestFile(const std::string& path) {
  auto text = io::ReadSmallFile(path, kMaxManifestBytes, "manifest");
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) {
      return NotFoundError("cannot open manifest " + path);
    }
    return text.status();
  }
  return ParseManifest(*text, path);
}

Status WriteManifestFile(const std::string& path, std::vector<ManifestEntry> entries) {
  // The rename below would replace whatever the path names; only a manifest may go.
  DC_RETURN_IF_ERROR(io::CheckReplaceableFile(path, "manifest"));
  std::string text = FormatManifest(std::move(entries));
  DC_ASSIGN_OR_RETURN(io::AtomicFileWriter writer, io::AtomicFileWriter::Create(path));
  DC_RETURN_IF_ERROR(writer.Append(io::AsBytes(text)));
  return writer.Commit();
}

std::string ManifestDigest(std::vector<ManifestEntry> entries) {
  return crypto::Sha256Hex(FormatManifest(std::move(entries)));
}

Result<std::vector<ManifestEntry>> BuildManifest(storage::ObjectStore& store,
                                                 const std::string& prefix, size_t jobs,
                                                 ProgressSink* progress) {
  DC_ASSIGN_OR_RETURN(auto objects, ListTree(store, prefix));
  if (progress) {
    uint64_t bytes = 0;
    for (const auto& o : objects) bytes += o.size;
    progress->OnPlanned(objects.size(), bytes);
  }
  std::vector<ManifestEntry> entries;
  DC_RETURN_IF_ERROR(HashAll(store, objects, prefix, jobs, progress, &entries));
  SortByPath(entries);
  return entries;
}

Result<VerifyReport> VerifyManifest(storage::ObjectStore& store, const std::string& prefix,
                                    const std::vector<ManifestEntry>& manifest, size_t jobs,
                                    ProgressSink* progress) {
  VerifyReport report;
  DC_ASSIGN_OR_RETURN(auto objects, ListTree(store, prefix));
  std::map<std::string, const ManifestEntry*> expected;
  for (const auto& e : manifest) expected[e.path] = &e;
  // Files whose size already differs need no hashing; a cached hash is not trusted for
  // verification (it could be stale in ways mtime does not show), so everything is re-read.
  std::vector<storage::ObjectInfo> to_hash;
  for (auto& o : objects) {
    std::string rel = o.key.substr(prefix.size());
    auto it = expected.find(rel);
    if (it == expected.end()) {
      report.extra.push_back(rel);
      continue;
    }
    if (o.size != it->second->size) {
      report.corrupted.push_back(rel + ": size is " + std::to_string(o.size) + ", manifest says " +
                                 std::to_string(it->second->size));
      expected.erase(it);
      continue;
    }
    o.sha256.clear();
    to_hash.push_back(o);
  }
  if (progress) {
    uint64_t bytes = 0;
    for (const auto& o : to_hash) bytes += o.size;
    progress->OnPlanned(to_hash.size(), bytes);
  }
  std::vector<ManifestEntry> actual;
  DC_RETURN_IF_ERROR(HashAll(store, to_hash, prefix, jobs, progress, &actual));
  for (const auto& a : actual) {
    auto it = expected.find(a.path);
    if (a.sha256 != it->second->sha256) {
      report.corrupted.push_back(a.path + ": SHA-256 is " + a.sha256 + ", manifest says " +
                                 it->second->sha256);
    } else {
      ++report.verified;
    }
    expected.erase(it);
  }
  // What is left was in the manifest but not in the tree (size mismatches were erased above).
  for (const auto& [path, e] : expected) report.missing.push_back(path);
  std::sort(report.corrupted.begin(), report.corrupted.end());
  return report;
}

}  // namespace datacube::engine
