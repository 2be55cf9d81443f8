#include "datacube/storage/s3/s3_listing.h"

#include <cstdio>

#include "datacube/base/log.h"
#include "datacube/storage/s3/s3_store.h"
#include "datacube/storage/s3/validate.h"

namespace datacube::storage::s3 {
namespace {

constexpr std::string_view kCursorMagic = "dc1:";

void AppendField(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
}

// Reads "<length>:<bytes>" at `pos`; false when the text is not in that form.
bool ReadField(std::string_view text, size_t& pos, std::string& field) {
  size_t colon = text.find(':', pos);
  if (colon == std::string_view::npos || colon == pos || colon - pos > 6) return false;
  size_t n = 0;
  for (size_t i = pos; i < colon; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    n = n * 10 + static_cast<size_t>(text[i] - '0');
  }
  if (n > text.size() - colon - 1) return false;
  field.assign(text.substr(colon + 1, n));
  pos = colon + 1 + n;
  return true;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

Status Malformed(const std::string& why) { return MalformedResponseError(why); }

// Checks one kind of entry (keys or common prefixes): inside the prefix, ascending, after
// `last`. Advances `last`.
Status CheckEntries(const ListCheck& check, std::string_view kind,
                    const std::vector<std::string_view>& entries, std::string& last) {
  for (std::string_view e : entries) {
    if (!StartsWith(e, check.prefix)) {
      return Malformed(std::string(kind) + " " + QuoteKey(e) + " is outside the requested prefix " +
                       QuoteKey(check.prefix));
    }
    if (e.size() > kMaxObjectKeyBytes) {
      return Malformed(std::string(kind) + " " + QuoteKey(e.substr(0, 64)) + "... is " +
                       std::to_string(e.size()) + " bytes long; S3 keys have at most " +
                       std::to_string(kMaxObjectKeyBytes));
    }
    if (check.ordered && !last.empty() && e <= std::string_view(last)) {
      return Malformed(std::string(kind) + " " + QuoteKey(e) + " does not sort after " +
                       QuoteKey(last) +
                       ": the server repeated or reordered entries (a listing is in ascending "
                       "key order)");
    }
    if (!check.ordered || e > std::string_view(last)) last.assign(e);
  }
  return Status();
}

}  // namespace

std::string EncodeListCursor(const ListCursor& c) {
  std::string out(kCursorMagic);
  AppendField(out, c.server_token);
  AppendField(out, c.last_key);
  AppendField(out, c.last_prefix);
  out += std::to_string(c.empty_pages);
  return out;
}

ListCursor DecodeListCursor(std::string_view token) {
  ListCursor c;
  if (!StartsWith(token, kCursorMagic)) {
    c.server_token = std::string(token);
    return c;
  }
  size_t pos = kCursorMagic.size();
  ListCursor parsed;
  if (!ReadField(token, pos, parsed.server_token) || !ReadField(token, pos, parsed.last_key) ||
      !ReadField(token, pos, parsed.last_prefix)) {
    c.server_token = std::string(token);
    return c;
  }
  std::string_view rest = token.substr(pos);
  if (rest.empty() || rest.size() > 6) {
    c.server_token = std::string(token);
    return c;
  }
  for (char ch : rest) {
    if (ch < '0' || ch > '9') {
      c.server_token = std::string(token);
      return c;
    }
    parsed.empty_pages = parsed.empty_pages * 10 + static_cast<uint32_t>(ch - '0');
  }
  return parsed;
}

Status CheckListPage(const ListCheck& check, const ListObjectsPage& page, ListCursor& cursor) {
  const size_t entries = page.objects.size() + page.common_prefixes.size();
  if (entries > kMaxKeysPerList) {
    return Malformed("a page holds " + std::to_string(entries) + " entries; a page has at most " +
                     std::to_string(kMaxKeysPerList));
  }
  std::vector<std::string_view> keys, prefixes;
  keys.reserve(page.objects.size());
  for (const auto& o : page.objects) keys.push_back(o.key);
  for (const auto& p : page.common_prefixes) {
    if (p.empty() || p.back() != '/') {
      return Malformed("common prefix " + QuoteKey(p) + " does not end with the delimiter '/'");
    }
    prefixes.push_back(p);
  }
  DC_RETURN_IF_ERROR(CheckEntries(check, "key", keys, cursor.last_key));
  DC_RETURN_IF_ERROR(CheckEntries(check, "common prefix", prefixes, cursor.last_prefix));
  if (!page.truncated) return Status();
  if (!cursor.server_token.empty() && page.next_continuation_token == cursor.server_token) {
    return Malformed("the server answered continuation token " + QuoteKey(cursor.server_token) +
                     " with the same token again (the listing would never end)");
  }
  cursor.empty_pages = entries == 0 ? cursor.empty_pages + 1 : 0;
  if (cursor.empty_pages > kMaxEmptyPagesInARow) {
    return Malformed(std::to_string(cursor.empty_pages) +
                     " pages in a row brought no keys but said the listing continues (it would "
                     "never end)");
  }
  cursor.server_token = page.next_continuation_token;
  return Status();
}

std::string QuoteKey(std::string_view key) { return QuoteEscaped(key); }

bool IsDirectoryBucket(std::string_view bucket) {
  return bucket.size() > 6 && bucket.substr(bucket.size() - 6) == "--x-s3";
}

}  // namespace datacube::storage::s3
