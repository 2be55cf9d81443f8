// ObjectStore: the one interface every storage backend implements (local files, memory, S3,
// Azure, Hugging Face, Git, HTTP).
//
// Keys are '/'-separated UTF-8 strings relative to the store's root (a directory, a bucket, a
// repository). The interface is synchronous and blocking: all parallelism lives in the engine,
// which calls one store from many threads at once, so every implementation must be thread-safe.
//
// Errors are Status values whose message names the location and the action, e.g.
// "reading s3://bucket/key: ...". Codes carry meaning for the engine:
//   kNotFound          the object (or bucket/repository) does not exist
//   kPermissionDenied  / kUnauthenticated: credentials are wrong or lack a right; never retried
//   kInvalidArgument   a key or option is unacceptable (e.g. it would escape the root)
//   kUnavailable / kDeadlineExceeded: transient, retried with backoff
//   kDataLoss          bytes arrived corrupted or truncated; the object is fetched again
//   kResourceExhausted the destination is full (or a quota is hit)
//   kUnimplemented     the store lacks an optional operation (see Capabilities)
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "datacube/base/byte_range.h"
#include "datacube/base/result.h"
#include "datacube/io/byte_stream.h"

namespace datacube::storage {

// What a store can do beyond the required operations. The engine and the conformance suite
// consult this record instead of asking which backend they talk to.
struct Capabilities {
  bool read_only = false;
  // StartMultipart is supported (parts may be uploaded concurrently, in any order).
  bool multipart = false;
  // StartMultipart with a resume fingerprint can pick up an interrupted upload.
  bool resumable_multipart = false;
  // Part limits of the multipart protocol (S3: 5 MiB minimum except the last, 10,000 parts).
  uint64_t min_part_size = 0;
  uint64_t max_part_size = UINT64_MAX;
  uint32_t max_part_count = 10'000;
  bool server_side_copy = false;
  bool presign = false;
  // Put honours WriteOptions::if_none_match.
  bool conditional_write = false;
  // ObjectInfo::sha256 is filled for objects this store wrote (and often for others).
  bool stores_sha256 = false;
  // The store must know the whole-object SHA-256 when an upload *starts* to record it (S3 keeps
  // it in metadata set at creation), so the engine hashes a local source before uploading.
  bool wants_sha256_before_write = false;
  // ObjectInfo::mtime_ns reflects the source modification time passed in WriteOptions.
  bool preserves_mtime = false;
  // List reports what Stat would (SHA-256, the preserved mtime). When false (S3 listings carry
  // no user metadata), the engine Stats the objects a decision or a verification depends on.
  bool list_has_metadata = true;
  // Every operation is a network round trip (S3): a small object's copy is mostly waiting, so
  // the engine keeps twice as many small objects in flight.
  bool remote = false;
};

// A digest of an object's content that its store offers besides ObjectInfo::sha256 (S3: the MD5
// in a single-part ETag, x-amz-checksum-crc32c and the other flexible checksums, rclone's
// x-amz-meta-md5chksum). The engine computes the same digest over the bytes it receives and
// fails the file when they differ.
struct OfferedDigest {
  std::string algorithm;  // "md5", "sha1", "sha256", "crc32", "crc32c" or "crc64nvme"
  std::string value;      // the raw digest (CRCs big-endian)
  std::string origin;     // where it came from, for messages: "ETag", "x-amz-checksum-crc32c"
  // Composite (an S3 multipart checksum "...-N"): `value` is the digest of the part digests
  // concatenated, over `part_count` parts of `part_size` bytes (the last one shorter). Zero for
  // a digest of the whole content.
  uint64_t part_size = 0;
  uint32_t part_count = 0;
};

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  // Modification time in ns since the epoch, when the store keeps one.
  std::optional<int64_t> mtime_ns;
  // Opaque version tag (S3/Azure ETag; local "inode-mtime-size"). Empty when unknown.
  std::string etag;
  // Lower-case hex SHA-256 of the whole content, when the store knows it without reading the
  // data (S3 metadata or checksum, LFS oid, local xattr cache). Empty when unknown.
  std::string sha256;
  // User metadata (S3 x-amz-meta-*, Azure x-ms-meta-*), lower-case names.
  std::map<std::string, std::string> metadata;
  // Other digests the store offers for the content (see OfferedDigest); a SHA-256 is in `sha256`.
  std::vector<OfferedDigest> digests;
};

struct ListRequest {
  // Only keys starting with this prefix. "dir/" lists a directory.
  std::string prefix;
  // false: stop at the next '/' after the prefix and report those as common prefixes.
  bool recursive = true;
  // Resume after this opaque token from a previous page; empty for the first page.
  std::string page_token;
  // Upper bound on objects per page; 0 lets the store choose.
  size_t max_keys = 0;
};

// An entry a listing left out although it sits where an object would (local stores): a symbolic
// link that does not lead to a regular file beneath the root, a special file (FIFO, socket,
// device), or a file whose reported size cannot be trusted (kernel pseudo-files such as /proc,
// which report 0 bytes and have content). Reported so that nothing is skipped silently.
struct SkippedEntry {
  enum class Kind { kSymlink, kSpecial, kUnsizedFile };
  std::string key;
  Kind kind = Kind::kSpecial;
  // Why, for messages: "symbolic link to a directory", "FIFO", ...
  std::string reason;
};

struct ListPage {
  // Sorted by key in byte order; temporary files of in-progress writes are never listed.
  std::vector<ObjectInfo> objects;
  // Entries left out of `objects` (see SkippedEntry), in listing order.
  std::vector<SkippedEntry> skipped;
  // With recursive=false: each ends with '/'.
  std::vector<std::string> common_prefixes;
  // Empty on the last page.
  std::string next_page_token;
};

struct ReadOptions {
  // Fail with kFailedPrecondition when the object's etag differs (all parts of one object must
  // come from one version).
  std::string if_match;
  // When set, a store that hashes what it reads (S3 checks whole-object reads against the
  // recorded SHA-256) leaves the hex SHA-256 of the bytes it passed to the sink here, once the
  // read covered the whole object; the caller then need not hash the same bytes again. Left
  // untouched otherwise.
  std::string* whole_sha256 = nullptr;
  // When set, a store that learns while reading the whole object what digests it offers (S3 sends
  // them with the GET) leaves them here, its SHA-256 included as algorithm "sha256", for the
  // caller to check the bytes against. Left untouched otherwise.
  std::vector<OfferedDigest>* offered = nullptr;
};

struct WriteOptions {
  // Expected size in bytes, when known.
  std::optional<uint64_t> size;
  // Whole-object SHA-256 (hex), when known before the write. Stores record it (S3 metadata, the
  // local xattr cache); network stores also have the server verify it. The local store trusts it
  // without re-hashing: callers pass the digest of the very bytes they hand over.
  std::string sha256;
  // Source modification time to preserve, where the store can.
  std::optional<int64_t> mtime_ns;
  std::string content_type;
  std::map<std::string, std::string> metadata;
  // Fail with kAlreadyExists rather than overwrite (Capabilities::conditional_write).
  bool if_none_match = false;
  // The store may make the object durable and visible later, at the latest in Flush(), to commit
  // many small objects at once (the local store's group commit). A caller that sets this must
  // call Flush() before it reports the objects as written.
  bool defer_visibility = false;
};

struct MultipartOptions : WriteOptions {
  // Size of every part except the last.
  uint64_t part_size = 0;
  // When non-empty, an interrupted upload of the same key with the same fingerprint and part size
  // is resumed (Capabilities::resumable_multipart). The engine derives it from the source's
  // identity (size, etag or mtime), so a changed source never resumes stale parts.
  std::string resume_fingerprint;
};

struct PartInfo {
  uint32_t number = 0;  // 1-based, in offset order
  uint64_t offset = 0;
  uint64_t size = 0;
  std::string etag;
  // Hex SHA-256 of the part's bytes.
  std::string sha256;
};

// One object being written in parts. Thread-safe: UploadPart may run concurrently for distinct
// part numbers. Exactly one of Complete or Abort should end it; destroying it without either
// leaves it resumable (that is what a crash does too).
class MultipartUpload {
 public:
  virtual ~MultipartUpload() = default;

  virtual const std::string& id() const = 0;
  // Parts already durable from an earlier, interrupted run; empty for a fresh upload.
  virtual std::vector<PartInfo> completed_parts() const = 0;
  // Stores part `number` covering [offset, offset + data.size()).
  virtual Result<PartInfo> UploadPart(uint32_t number, uint64_t offset,
                                      std::span<const uint8_t> data) = 0;
  // Reads back bytes already uploaded, so a resumed transfer can hash them without fetching the
  // source again. kUnimplemented when the store cannot.
  virtual Status ReadBack(ByteRange range, io::ByteSink& sink);
  // Makes the object visible with all `parts` (sorted by number). `sha256` is the whole-object
  // digest the engine computed while the bytes moved.
  virtual Result<ObjectInfo> Complete(const std::vector<PartInfo>& parts,
                                      const std::string& sha256) = 0;
  // Discards the upload and everything stored for it.
  virtual Status Abort() = 0;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  virtual Capabilities capabilities() const = 0;

  // The user-facing URL of `key` in this store ("s3://bucket/key", "/data/x"), for messages.
  virtual std::string UrlFor(std::string_view key) const = 0;

  // Metadata of one object. kNotFound when there is no object at `key` (a directory or a common
  // prefix is not an object).
  virtual Result<ObjectInfo> Stat(std::string_view key) = 0;

  // One page of a listing (see ListRequest/ListPage).
  virtual Result<ListPage> List(const ListRequest& request) = 0;

  // Streams the bytes of `range` into `sink`. Reading past the end returns what exists; a range
  // that starts past the end is kOutOfRange.
  virtual Status Read(std::string_view key, ByteRange range, io::ByteSink& sink,
                      const ReadOptions& options = {}) = 0;

  // Writes a whole object from `data` in one operation; the object appears atomically.
  virtual Result<ObjectInfo> Put(std::string_view key, io::ByteSource& data,
                                 const WriteOptions& options) = 0;

  // Starts (or with a resume fingerprint, resumes) a multipart upload. Default: kUnimplemented.
  virtual Result<std::unique_ptr<MultipartUpload>> StartMultipart(std::string_view key,
                                                                  const MultipartOptions& options);

  // Deletes one object; deleting a missing object is OK.
  virtual Status Delete(std::string_view key) = 0;

  // Deletes many objects; per_key (if given) receives one Status per key. Default: loops over
  // Delete. Returns the first error.
  virtual Status DeleteMany(std::span<const std::string> keys, std::vector<Status>* per_key);

  // Server-side copy within this store. Default: kUnimplemented.
  virtual Result<ObjectInfo> CopyWithin(std::string_view src_key, std::string_view dst_key);

  // Server-side copy from `src`, another store of the same service that this store can reach
  // directly (S3 to S3 on one endpoint with the same credentials): the bytes never pass through
  // this machine, and the object keeps its metadata (SHA-256 included). kUnimplemented when `src`
  // is not such a store; the caller then copies the bytes itself. Default: kUnimplemented.
  virtual Result<ObjectInfo> CopyFrom(ObjectStore& src, std::string_view src_key,
                                      std::string_view dst_key);

  // A URL that grants `method` ("GET" or "PUT") on `key` for `expires_seconds`.
  // Default: kUnimplemented.
  virtual Result<std::string> Presign(std::string_view key, std::string_view method,
                                      int64_t expires_seconds);

  // Removes what interrupted writes into this store left below `prefix` (hidden temporary files
  // and resume journals of earlier runs; nothing a write of this store object still owns), for
  // `sync --delete`, which mirrors the source and must not keep them forever. Returns how many
  // files it removed. Default: stores without such leftovers remove nothing.
  virtual Result<uint64_t> RemoveStaleTemporaries(std::string_view prefix) {
    (void)prefix;
    return uint64_t{0};
  }

  // Makes every Put so far durable and visible (see WriteOptions::defer_visibility). Returns the
  // first failure; objects that failed to publish are not left half-visible. Default: OK, for
  // stores that publish on Put.
  virtual Status Flush() { return Status(); }
};

// Checks that a relative key is safe to map onto a file system: non-empty, no leading '/', no
// empty, "." or ".." segments, no NUL or other control characters, no backslash, each segment
// at most 255 bytes. The error names the key and why.
Status ValidateRelativeKey(std::string_view key);

// Drains every page of a listing, calling `fn` for each object. Stops at the first error.
Status ListAll(ObjectStore& store, ListRequest request,
               const std::function<Status(const ObjectInfo&)>& fn);
// The same, also handing every skipped entry of every page to `on_skipped`.
Status ListAll(ObjectStore& store, ListRequest request,
               const std::function<Status(const ObjectInfo&)>& fn,
               const std::function<void(const SkippedEntry&)>& on_skipped);

}  // namespace datacube::storage
