// Checks on every page of a ListObjectsV2 listing before its keys reach the engine: a server's
// listing is untrusted input. A page is refused as malformed when it
//   - holds a key or common prefix outside the requested prefix (it is never re-mapped),
//   - goes backwards: S3 lists keys in ascending byte order, so every entry must sort after
//     the previous one, on this page and across pages (a repeated continuation token, or one
//     that leads back, shows up here),
//   - repeats the continuation token it was asked with, or is one of too many empty pages in
//     a row (a listing that never ends without bringing anything new),
//   - has more entries than a page may (1,000) or a key longer than S3 allows.
//
// The state needed across pages travels inside the page token the store hands out (ListCursor),
// so S3Store::List stays stateless and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "datacube/base/status.h"
#include "datacube/storage/s3/s3_xml.h"

namespace datacube::storage::s3 {

// Truncated pages with no entries tolerated in a row before the listing is refused.
inline constexpr uint32_t kMaxEmptyPagesInARow = 100;

struct ListCursor {
  std::string server_token;  // the continuation token to send; empty on the first page
  std::string last_key;      // the greatest key listed so far
  std::string last_prefix;   // the greatest common prefix listed so far
  uint32_t empty_pages = 0;  // consecutive truncated pages without entries
};

// The opaque page token for `cursor`, and back. A token that is not one of ours is taken as a
// bare continuation token (the first page of a listing that did not start here).
std::string EncodeListCursor(const ListCursor& cursor);
ListCursor DecodeListCursor(std::string_view token);

struct ListCheck {
  std::string_view prefix;
  bool recursive = true;
  // Directory buckets (S3 Express One Zone) do not list in order; only the order checks are
  // skipped for them.
  bool ordered = true;
};

// Checks `page` (the answer to a request sent with `cursor`) and advances `cursor` past it.
// kInternal with the reason (keys shown escaped) when the page is malformed.
Status CheckListPage(const ListCheck& check, const ListObjectsPage& page, ListCursor& cursor);

// `key` for messages: quoted, control characters and '"' and '\' as C escapes (\n, \x1b).
std::string QuoteKey(std::string_view key);

// Whether `bucket` is an S3 Express One Zone directory bucket ("name--usw2-az1--x-s3").
bool IsDirectoryBucket(std::string_view bucket);

}  // namespace datacube::storage::s3
