#include "datacube/storage/hf/lfs_upload.h"

#include <mutex>
#include <nlohmann/json.hpp>

#include "datacube/base/cancel.h"

namespace datacube::storage::hf {
namespace {

using nlohmann::json;

// Action headers to send with a request: everything but HF's multipart bookkeeping
// (chunk_size and the numbered part URLs are instructions to us, not headers).
http::Headers SendableHeaders(const http::Headers& header) {
  http::Headers out;
  for (const auto& [k, v] : header) {
    if (k == "chunk_size" || k.find_first_not_of("0123456789") == std::string::npos) continue;
    out.emplace_back(k, v);
  }
  return out;
}

// PUTs [offset, offset + length) of `file` to `url`, retrying transient failures with a fresh
// stream. Returns the response's ETag.
Result<std::string> PutRange(HubClient& client, const std::string& url, const http::Headers& hdrs,
                             const io::File& file, uint64_t offset, uint64_t length,
                             const std::string& what) {
  std::string etag;
  Status s = RetryStatus(client.options().retry, CurrentStopToken(), [&](int) -> Status {
    http::HttpRequest req;
    req.method = "PUT";
    req.url = url;
    req.headers = hdrs;
    req.content_length = length;
    FileRangeSource source(file, offset, length);
    // Through the transport directly, never with the token: upload URLs are pre-signed, and a
    // second credential would leak it to the storage host (and S3 rejects two auth methods).
    auto r = client.transport().Send(req, &source, nullptr);
    if (!r.ok()) return r.status().WithContext(what);
    if (!r->ok()) {
      std::string detail = r->Header("x-error-message").value_or(r->body.substr(0, 200));
      return http::HttpStatusToStatus(r->status, what + " (" + UrlForMessage(url) + ")", detail);
    }
    etag = r->Header("etag").value_or("");
    return Status();
  });
  if (!s.ok()) return s;
  return etag;
}

Status Multipart(HubClient& client, const LfsObjectAnswer& a, const io::File& file,
                 const std::string& display, const TaskRunner& run_parts) {
  const size_t count = a.part_urls.size();
  std::vector<std::string> etags(count);
  std::vector<std::function<Status()>> tasks;
  tasks.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    tasks.push_back([&, i]() -> Status {
      uint64_t offset = static_cast<uint64_t>(i) * a.chunk_size;
      uint64_t length = std::min<uint64_t>(a.chunk_size, a.size - offset);
      std::string what = "uploading part " + std::to_string(i + 1) + " of " +
                         std::to_string(count) + " of " + display + " to LFS storage";
      DC_ASSIGN_OR_RETURN(etags[i],
                          PutRange(client, a.part_urls[i], {}, file, offset, length, what));
      if (etags[i].empty()) return UnavailableError(what + ": no ETag in the answer");
      return Status();
    });
  }
  DC_RETURN_IF_ERROR(run_parts(tasks));
  json body = {{"oid", a.oid}, {"parts", json::array()}};
  for (size_t i = 0; i < count; ++i) {
    body["parts"].push_back({{"partNumber", i + 1}, {"etag", etags[i]}});
  }
  http::HttpRequest req;
  req.method = "POST";
  req.url = a.upload->href;
  req.headers = {{"accept", "application/vnd.git-lfs+json"},
                 {"content-type", "application/vnd.git-lfs+json"}};
  DC_ASSIGN_OR_RETURN(http::HttpResponse r, client.Send(req, body.dump(), nullptr, true));
  if (!r.ok()) {
    std::string detail = r.Header("x-error-message").value_or(r.body.substr(0, 200));
    return http::HttpStatusToStatus(r.status, "completing the multipart upload of " + display,
                                    detail);
  }
  return Status();
}

}  // namespace

Status RunSequentially(std::vector<std::function<Status()>>& tasks) {
  for (auto& t : tasks) DC_RETURN_IF_ERROR(t());
  return Status();
}

Result<size_t> FileRangeSource::Read(std::span<uint8_t> out) {
  if (offset_ >= end_) return size_t{0};
  size_t want = static_cast<size_t>(std::min<uint64_t>(out.size(), end_ - offset_));
  DC_ASSIGN_OR_RETURN(size_t n, file_.ReadAt(offset_, out.subspan(0, want)));
  if (n == 0) return DataLossError(file_.path() + " is shorter than when it was hashed");
  offset_ += n;
  return n;
}

Status UploadLfsObject(HubClient& client, const LfsObjectAnswer& a, const io::File& file,
                       const std::string& display, const TaskRunner& run_parts) {
  if (a.upload) {
    if (a.chunk_size > 0) {
      DC_RETURN_IF_ERROR(Multipart(client, a, file, display, run_parts));
    } else {
      DC_RETURN_IF_ERROR(PutRange(client, a.upload->href, SendableHeaders(a.upload->header), file,
                                  0, a.size, "uploading " + display + " to LFS storage")
                             .status());
    }
  }
  if (a.verify) {
    json body = {{"oid", a.oid}, {"size", a.size}};
    http::HttpRequest req;
    req.method = "POST";
    req.url = a.verify->href;
    req.headers = SendableHeaders(a.verify->header);
    req.headers.emplace_back("accept", "application/vnd.git-lfs+json");
    req.headers.emplace_back("content-type", "application/vnd.git-lfs+json");
    ErrorContext ctx = client.Context("verifying the upload of");
    ctx.path = display;
    DC_RETURN_IF_ERROR(client.Call(req, body.dump(), ctx).status());
  }
  return Status();
}

}  // namespace datacube::storage::hf
