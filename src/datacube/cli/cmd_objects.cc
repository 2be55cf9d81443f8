// ls, stat, cat, rm: looking at and removing objects in any store.
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>

#include "datacube/base/log.h"
#include "datacube/base/units.h"
#include "datacube/cli/commands.h"
#include "datacube/cli/common.h"
#include "datacube/location/location.h"
#include "datacube/transfer/registry.h"

namespace datacube::cli {
namespace {

std::string FormatTime(std::optional<int64_t> ns) {
  if (!ns) return "                   ";
  std::time_t t = static_cast<std::time_t>(*ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

Result<transfer::StoreRef> OpenForRead(const std::string& text) {
  DC_ASSIGN_OR_RETURN(Location loc, ParseLocation(text));
  return transfer::OpenLocation(loc, MakeStoreConfig(), transfer::OpenMode::kRead);
}

// JSON output keeps every valid UTF-8 name exactly (control characters become \u00XX escapes);
// a byte that is not UTF-8 cannot be represented in JSON and becomes U+FFFD instead of
// aborting the listing.
std::string DumpJson(const nlohmann::ordered_json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

// The prefix to list for a location: "" for a store root, "key/" for a directory-like key.
std::string DirPrefix(const std::string& key) {
  if (key.empty() || key.back() == '/') return key;
  return key + "/";
}

int RunLs(const std::string& where, bool recursive, bool json) {
  auto ref = OpenForRead(where);
  if (!ref.ok()) return ReportError(ref.status());
  // A single object lists as itself.
  if (!ref->key.empty() && ref->key.back() != '/') {
    auto st = ref->store->Stat(ref->key);
    if (st.ok()) {
      std::printf("%12llu  %s  %s\n", static_cast<unsigned long long>(st->size),
                  FormatTime(st->mtime_ns).c_str(), EscapeForDisplay(st->key).c_str());
      return kExitOk;
    }
    if (st.status().code() != StatusCode::kNotFound) return ReportError(st.status());
  }
  storage::ListRequest req;
  req.prefix = DirPrefix(ref->key);
  req.recursive = recursive;
  uint64_t count = 0;
  while (true) {
    auto page = ref->store->List(req);
    if (!page.ok()) return ReportError(page.status());
    for (const auto& p : page->common_prefixes) {
      std::string rel = p.substr(req.prefix.size());
      if (json) {
        std::printf("%s\n", DumpJson({{"path", rel}, {"dir", true}}).c_str());
      } else {
        std::printf("%12s  %19s  %s\n", "DIR", "", EscapeForDisplay(rel).c_str());
      }
    }
    for (const auto& o : page->objects) {
      std::string rel = o.key.substr(req.prefix.size());
      ++count;
      if (json) {
        nlohmann::ordered_json j{{"path", rel}, {"size", o.size}};
        if (o.mtime_ns) j["mtime"] = FormatTime(o.mtime_ns);
        if (!o.sha256.empty()) j["sha256"] = o.sha256;
        std::printf("%s\n", DumpJson(j).c_str());
      } else {
        std::printf("%12llu  %s  %s\n", static_cast<unsigned long long>(o.size),
                    FormatTime(o.mtime_ns).c_str(), EscapeForDisplay(rel).c_str());
      }
    }
    if (page->next_page_token.empty()) break;
    req.page_token = page->next_page_token;
  }
  if (count == 0 && !ref->key.empty()) {
    // Distinguish "empty directory" from "nothing there" for non-local stores the same way.
    auto probe = ref->store->List({DirPrefix(ref->key), true, "", 1});
    if (probe.ok() && probe->objects.empty() && !ref->location.is_local()) {
      return ReportError(NotFoundError("nothing at " + where));
    }
  }
  return kExitOk;
}

int RunStat(const std::string& where) {
  auto ref = OpenForRead(where);
  if (!ref.ok()) return ReportError(ref.status());
  if (ref->key.empty()) {
    return ReportError(InvalidArgumentError(where + " is a directory; stat needs a file"));
  }
  auto st = ref->store->Stat(ref->key);
  if (!st.ok()) return ReportError(st.status());
  nlohmann::ordered_json j;
  j["url"] = ref->store->UrlFor(st->key);
  j["size"] = st->size;
  if (st->mtime_ns) j["mtime"] = FormatTime(st->mtime_ns);
  if (!st->etag.empty()) j["etag"] = st->etag;
  if (!st->sha256.empty()) j["sha256"] = st->sha256;
  if (!st->metadata.empty()) j["metadata"] = st->metadata;
  std::printf("%s\n", DumpJson(j, 2).c_str());
  return kExitOk;
}

int RunCat(const std::string& where, const std::string& offset_text,
           const std::string& count_text) {
  uint64_t offset = 0;
  std::optional<uint64_t> count;
  if (!offset_text.empty()) {
    auto parsed = ParseSize(offset_text);
    if (!parsed.ok()) return ReportError(parsed.status().WithContext("--offset"));
    offset = *parsed;
  }
  if (!count_text.empty()) {
    auto parsed = ParseSize(count_text);
    if (!parsed.ok()) return ReportError(parsed.status().WithContext("--count"));
    count = *parsed;
  }
  auto ref = OpenForRead(where);
  if (!ref.ok()) return ReportError(ref.status());
  if (ref->key.empty()) return ReportError(InvalidArgumentError(where + " is a directory"));
  struct StdoutSink : io::ByteSink {
    Status Write(std::span<const uint8_t> data) override {
      size_t done = 0;
      while (done < data.size()) {
        ssize_t n = ::write(STDOUT_FILENO, data.data() + done, data.size() - done);
        if (n < 0) {
          if (errno == EINTR) continue;
          return ErrnoToStatus(errno, "writing to standard output");
        }
        done += static_cast<size_t>(n);
      }
      return Status();
    }
  } sink;
  ByteRange range{offset, count ? *count : ByteRange::kToEnd};
  return ReportError(ref->store->Read(ref->key, range, sink));
}

int RunRm(const std::string& where, bool recursive, bool dry_run) {
  auto ref = OpenForRead(where);
  if (!ref.ok()) return ReportError(ref.status());
  std::vector<std::string> keys;
  if (!ref->key.empty() && ref->key.back() != '/') {
    auto st = ref->store->Stat(ref->key);
    if (st.ok())
      keys.push_back(ref->key);
    else if (st.status().code() != StatusCode::kNotFound)
      return ReportError(st.status());
  }
  if (keys.empty()) {
    if (!recursive) {
      return ReportError(InvalidArgumentError(
          "no file at " + where + "; to remove everything below a directory or prefix, add -r"));
    }
    Status s = storage::ListAll(*ref->store, {DirPrefix(ref->key), true, "", 0},
                                [&](const storage::ObjectInfo& o) {
                                  keys.push_back(o.key);
                                  return Status();
                                });
    if (!s.ok()) return ReportError(s);
  }
  if (dry_run) {
    for (const auto& k : keys) {
      std::printf("would-delete %s\n", EscapeForDisplay(ref->store->UrlFor(k)).c_str());
    }
    return kExitOk;
  }
  std::vector<Status> per_key;
  Status first;
  for (size_t start = 0; start < keys.size(); start += 1000) {
    size_t end = std::min(keys.size(), start + 1000);
    per_key.clear();
    Status s = ref->store->DeleteMany({keys.data() + start, end - start}, &per_key);
    if (!s.ok() && first.ok()) first = s;
  }
  if (!first.ok()) return ReportError(first);
  LogInfo("deleted " + std::to_string(keys.size()) + " object" + (keys.size() == 1 ? "" : "s"));
  return kExitOk;
}

}  // namespace

void RegisterObjectCommands(CLI::App& app) {
  struct LsArgs {
    std::string where;
    bool recursive = false;
    bool json = false;
  };
  auto ls = std::make_shared<LsArgs>();
  auto* lcmd = app.add_subcommand("ls", "List files: size, modification time (UTC) and path");
  lcmd->add_option("LOCATION", ls->where, "Directory, prefix or file")->required();
  lcmd->add_flag("-R,--recursive", ls->recursive, "List everything below, not just one level");
  lcmd->add_flag("--json", ls->json, "One JSON object per line");
  lcmd->callback([ls] { SetExitCode(RunLs(ls->where, ls->recursive, ls->json)); });

  auto stat_where = std::make_shared<std::string>();
  auto* scmd = app.add_subcommand("stat", "Show one object's size, time, ETag and SHA-256 as JSON");
  scmd->add_option("LOCATION", *stat_where, "File or object")->required();
  scmd->callback([stat_where] { SetExitCode(RunStat(*stat_where)); });

  struct CatArgs {
    std::string where;
    std::string offset;  // parsed by RunCat, so "-1" is refused by name instead of wrapping
    std::string count;
  };
  auto cat = std::make_shared<CatArgs>();
  auto* ccmd = app.add_subcommand("cat", "Write an object's bytes to standard output");
  ccmd->add_option("LOCATION", cat->where, "File or object")->required();
  ccmd->add_option("--offset", cat->offset, "Start at this byte (a size: 1024, 4K, 1Mi)");
  ccmd->add_option("--count", cat->count, "Write at most this many bytes (a size: 100, 64K)");
  ccmd->callback([cat] { SetExitCode(RunCat(cat->where, cat->offset, cat->count)); });

  struct RmArgs {
    std::string where;
    bool recursive = false;
    bool dry_run = false;
  };
  auto rm = std::make_shared<RmArgs>();
  auto* rcmd = app.add_subcommand("rm", "Delete an object, or with -r everything below a prefix");
  rcmd->add_option("LOCATION", rm->where, "File, object, directory or prefix")->required();
  rcmd->add_flag("-r,--recursive", rm->recursive, "Delete everything below LOCATION");
  rcmd->add_flag("--dry-run,-n", rm->dry_run, "Show what would be deleted");
  rcmd->callback([rm] { SetExitCode(RunRm(rm->where, rm->recursive, rm->dry_run)); });
}

}  // namespace datacube::cli
