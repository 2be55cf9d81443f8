#include "datacube/storage/object_store.h"

#include <functional>

#include "datacube/base/log.h"

namespace datacube::storage {

Status MultipartUpload::ReadBack(ByteRange, io::ByteSink&) {
  return UnimplementedError("this store cannot read back an unfinished upload");
}

Result<std::unique_ptr<MultipartUpload>> ObjectStore::StartMultipart(std::string_view key,
                                                                     const MultipartOptions&) {
  return UnimplementedError("multipart upload is not supported for " + UrlFor(key));
}

Status ObjectStore::DeleteMany(std::span<const std::string> keys, std::vector<Status>* per_key) {
  Status first;
  for (const auto& key : keys) {
    Status s = Delete(key);
    if (per_key) per_key->push_back(s);
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

Result<ObjectInfo> ObjectStore::CopyWithin(std::string_view src_key, std::string_view) {
  return UnimplementedError("server-side copy is not supported for " + UrlFor(src_key));
}

Result<ObjectInfo> ObjectStore::CopyFrom(ObjectStore& src, std::string_view src_key,
                                         std::string_view) {
  return UnimplementedError("no server-side copy from " + src.UrlFor(src_key) + " to " +
                            UrlFor(""));
}

Result<std::string> ObjectStore::Presign(std::string_view key, std::string_view, int64_t) {
  return UnimplementedError("pre-signed URLs are not supported for " + UrlFor(key));
}

Status ValidateRelativeKey(std::string_view key) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError("unsafe object key \"" + EscapeForDisplay(key) +
                                "\": " + std::string(why));
  };
  if (key.empty()) return bad("it is empty");
  if (key.front() == '/') return bad("it starts with '/' (absolute path)");
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view seg = key.substr(start, end - start);
    if (seg.empty()) return bad("it has an empty path segment (\"//\" or a trailing '/')");
    if (seg == ".") return bad("it has a \".\" segment");
    if (seg == "..") return bad("it has a \"..\" segment that would escape the destination");
    if (seg.size() > 255) return bad("a path segment is longer than 255 bytes");
    start = end + 1;
  }
  for (char c : key) {
    if (c == '\0') return bad("it contains a NUL byte");
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return bad("it contains a control character");
    if (c == '\\') return bad("it contains a backslash");
  }
  return Status();
}

Status ListAll(ObjectStore& store, ListRequest request,
               const std::function<Status(const ObjectInfo&)>& fn) {
  return ListAll(store, std::move(request), fn, nullptr);
}

Status ListAll(ObjectStore& store, ListRequest request,
               const std::function<Status(const ObjectInfo&)>& fn,
               const std::function<void(const SkippedEntry&)>& on_skipped) {
  while (true) {
    DC_ASSIGN_OR_RETURN(ListPage page, store.List(request));
    if (on_skipped) {
      for (const auto& s : page.skipped) on_skipped(s);
    }
    for (const auto& obj : page.objects) DC_RETURN_IF_ERROR(fn(obj));
    if (page.next_page_token.empty()) return Status();
    request.page_token = std::move(page.next_page_token);
  }
}

}  // namespace datacube::storage
