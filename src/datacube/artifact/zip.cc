#include "datacube/artifact/zip.h"

#include <zlib.h>

#include <algorithm>
#include <string_view>

namespace datacube::artifact {
namespace {

constexpr uint32_t kLocalHeaderSignature = 0x04034b50;
constexpr uint32_t kCentralSignature = 0x02014b50;
constexpr uint32_t kEndSignature = 0x06054b50;
constexpr uint32_t kEnd64LocatorSignature = 0x07064b50;
constexpr uint32_t kEnd64Signature = 0x06064b50;
constexpr uint64_t kEndRecordBytes = 22;
constexpr uint64_t kMaxCommentBytes = 0xffff;
constexpr uint64_t kCentralHeaderBytes = 46;
constexpr uint64_t kLocalHeaderBytes = 30;

Status Invalid(std::string message) { return InvalidArgumentError("zip: " + message); }

uint64_t Le(const uint8_t* p, int bytes) {
  uint64_t value = 0;
  for (int i = bytes - 1; i >= 0; --i) value = (value << 8) | p[i];
  return value;
}

Result<std::string> ReadRange(ByteReader& reader, uint64_t offset, uint64_t length,
                              std::string_view what) {
  if (offset > reader.size() || length > reader.size() - offset) {
    return Invalid(std::string(what) + " past end of file");
  }
  std::string bytes(length, '\0');
  DC_RETURN_IF_ERROR(reader.ReadAt(
      offset, std::span<uint8_t>(reinterpret_cast<uint8_t*>(bytes.data()), bytes.size())));
  return bytes;
}

const uint8_t* U8(const std::string& s, size_t at = 0) {
  return reinterpret_cast<const uint8_t*>(s.data()) + at;
}

struct Directory {
  uint64_t entries = 0;
  uint64_t size = 0;
  uint64_t offset = 0;
};

// The zip64 end record, found through the locator just before the classic end record.
Result<Directory> ReadEnd64(ByteReader& reader, uint64_t end_offset) {
  if (end_offset < 20) return Invalid("zip64 locator missing");
  DC_ASSIGN_OR_RETURN(std::string locator, ReadRange(reader, end_offset - 20, 20, "zip64 locator"));
  if (Le(U8(locator), 4) != kEnd64LocatorSignature) return Invalid("zip64 locator missing");
  DC_ASSIGN_OR_RETURN(std::string end, ReadRange(reader, Le(U8(locator, 8), 8), 56, "zip64 end"));
  if (Le(U8(end), 4) != kEnd64Signature) return Invalid("bad zip64 end record signature");
  return Directory{Le(U8(end, 32), 8), Le(U8(end, 40), 8), Le(U8(end, 48), 8)};
}

// Finds the end-of-central-directory record in the file's last 64 KiB + 22 bytes.
Result<Directory> ReadEnd(ByteReader& reader) {
  uint64_t size = reader.size();
  if (size < kEndRecordBytes) return Invalid("file too small for an end record");
  uint64_t tail = std::min(size, kEndRecordBytes + kMaxCommentBytes);
  DC_ASSIGN_OR_RETURN(std::string bytes, ReadRange(reader, size - tail, tail, "end record"));
  for (uint64_t at = tail - kEndRecordBytes + 1; at-- > 0;) {
    if (Le(U8(bytes, at), 4) != kEndSignature) continue;
    const uint8_t* p = U8(bytes, at);
    Directory dir{Le(p + 10, 2), Le(p + 12, 4), Le(p + 16, 4)};
    if (dir.entries == 0xffff || dir.size == 0xffffffff || dir.offset == 0xffffffff) {
      return ReadEnd64(reader, size - tail + at);
    }
    return dir;
  }
  return Invalid("no end of central directory record");
}

// Replaces 0xffffffff sizes and offset by their zip64 extra-field values.
Status ApplyZip64Extra(std::string_view extra, ZipEntry& entry) {
  while (extra.size() >= 4) {
    uint64_t id = Le(reinterpret_cast<const uint8_t*>(extra.data()), 2);
    uint64_t length = Le(reinterpret_cast<const uint8_t*>(extra.data()) + 2, 2);
    if (length > extra.size() - 4) return Invalid("extra field past its entry: " + entry.name);
    std::string_view body = extra.substr(4, length);
    if (id == 1) {
      for (uint64_t* field : {&entry.size, &entry.compressed_size, &entry.local_header_offset}) {
        if (*field != 0xffffffff) continue;
        if (body.size() < 8) return Invalid("short zip64 extra field: " + entry.name);
        *field = Le(reinterpret_cast<const uint8_t*>(body.data()), 8);
        body.remove_prefix(8);
      }
    }
    extra.remove_prefix(4 + length);
  }
  return Status::Ok();
}

Result<ZipEntry> ParseCentralEntry(const std::string& dir, uint64_t& at) {
  if (dir.size() - at < kCentralHeaderBytes) return Invalid("central directory truncated");
  const uint8_t* p = U8(dir, at);
  if (Le(p, 4) != kCentralSignature) return Invalid("bad central directory entry signature");
  ZipEntry entry;
  entry.method = static_cast<uint16_t>(Le(p + 10, 2));
  entry.crc32 = static_cast<uint32_t>(Le(p + 16, 4));
  entry.compressed_size = Le(p + 20, 4);
  entry.size = Le(p + 24, 4);
  entry.local_header_offset = Le(p + 42, 4);
  uint64_t name_len = Le(p + 28, 2), extra_len = Le(p + 30, 2), comment_len = Le(p + 32, 2);
  uint64_t total = kCentralHeaderBytes + name_len + extra_len + comment_len;
  if (dir.size() - at < total) return Invalid("central directory entry truncated");
  entry.name = dir.substr(at + kCentralHeaderBytes, name_len);
  DC_RETURN_IF_ERROR(ApplyZip64Extra(
      std::string_view(dir).substr(at + kCentralHeaderBytes + name_len, extra_len), entry));
  at += total;
  return entry;
}

// The entry's data offset, from its local header (whose extra field may differ in length).
Result<uint64_t> DataOffset(ByteReader& reader, const ZipEntry& entry) {
  DC_ASSIGN_OR_RETURN(std::string header, ReadRange(reader, entry.local_header_offset,
                                                    kLocalHeaderBytes, "local header"));
  if (Le(U8(header), 4) != kLocalHeaderSignature) {
    return Invalid("bad local header signature: " + entry.name);
  }
  return entry.local_header_offset + kLocalHeaderBytes + Le(U8(header, 26), 2) +
         Le(U8(header, 28), 2);
}

Result<std::string> Inflate(const std::string& compressed, const ZipEntry& entry) {
  std::string out(entry.size, '\0');
  z_stream stream{};
  if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) return Invalid("inflate init failed");
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  int rc = inflate(&stream, Z_FINISH);
  uint64_t produced = stream.total_out;
  inflateEnd(&stream);
  if (rc != Z_STREAM_END || produced != entry.size) {
    return Invalid("deflated data does not inflate to its size: " + entry.name);
  }
  return out;
}

}  // namespace

bool LooksLikeZip(ByteReader& reader) {
  uint8_t magic[4];
  if (reader.size() < 4 || !reader.ReadAt(0, magic).ok()) return false;
  return Le(magic, 4) == kLocalHeaderSignature;
}

Result<std::vector<ZipEntry>> ReadZipDirectory(ByteReader& reader) {
  DC_ASSIGN_OR_RETURN(Directory end, ReadEnd(reader));
  if (end.entries > kMaxZipEntries) return Invalid("too many entries");
  DC_ASSIGN_OR_RETURN(std::string dir,
                      ReadRange(reader, end.offset, end.size, "central directory"));
  std::vector<ZipEntry> entries;
  uint64_t at = 0;
  for (uint64_t i = 0; i < end.entries; ++i) {
    DC_ASSIGN_OR_RETURN(ZipEntry entry, ParseCentralEntry(dir, at));
    entries.push_back(std::move(entry));
  }
  return entries;
}

Result<std::string> ReadZipEntry(ByteReader& reader, const ZipEntry& entry, uint64_t max_bytes) {
  if (entry.size > max_bytes || entry.compressed_size > max_bytes) {
    return Invalid("entry too large to scan: " + entry.name);
  }
  if (entry.method != 0 && entry.method != 8) {
    return Invalid("unsupported compression method " + std::to_string(entry.method) + ": " +
                   entry.name);
  }
  DC_ASSIGN_OR_RETURN(uint64_t offset, DataOffset(reader, entry));
  DC_ASSIGN_OR_RETURN(std::string data,
                      ReadRange(reader, offset, entry.compressed_size, "entry data"));
  if (entry.method == 8) {
    DC_ASSIGN_OR_RETURN(data, Inflate(data, entry));
  } else if (data.size() != entry.size) {
    return Invalid("stored entry sizes differ: " + entry.name);
  }
  uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(data.data()), data.size());
  if (crc != entry.crc32) return Invalid("CRC-32 mismatch: " + entry.name);
  return data;
}

}  // namespace datacube::artifact
