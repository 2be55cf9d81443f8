#include "datacube/artifact/zip.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

namespace datacube::artifact {
namespace {

std::string Le(uint64_t value, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  return out;
}

// One stored entry, built the way any zip writer lays it out.
std::string StoredZip(const std::string& name, const std::string& data, uint32_t crc) {
  std::string local = Le(0x04034b50, 4) + Le(20, 2) + Le(0, 2) + Le(0, 2) + Le(0, 4) + Le(crc, 4) +
                      Le(data.size(), 4) + Le(data.size(), 4) + Le(name.size(), 2) + Le(0, 2) +
                      name + data;
  std::string central = Le(0x02014b50, 4) + Le(20, 2) + Le(20, 2) + Le(0, 2) + Le(0, 2) + Le(0, 4) +
                        Le(crc, 4) + Le(data.size(), 4) + Le(data.size(), 4) + Le(name.size(), 2) +
                        Le(0, 2) + Le(0, 2) + Le(0, 2) + Le(0, 2) + Le(0, 4) + Le(0, 4) + name;
  std::string end = Le(0x06054b50, 4) + Le(0, 2) + Le(0, 2) + Le(1, 2) + Le(1, 2) +
                    Le(central.size(), 4) + Le(local.size(), 4) + Le(0, 2);
  return local + central + end;
}

uint32_t Crc(const std::string& data) {
  return static_cast<uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(data.data()), data.size()));
}

TEST(ZipTest, ReadsAStoredEntry) {
  StringReader reader(StoredZip("archive/data.pkl", "hello", Crc("hello")));
  ASSERT_TRUE(LooksLikeZip(reader));
  auto entries = ReadZipDirectory(reader);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].name, "archive/data.pkl");
  auto data = ReadZipEntry(reader, (*entries)[0], 1 << 20);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(*data, "hello");
}

TEST(ZipTest, CrcMismatchIsNamed) {
  StringReader reader(StoredZip("a/data.pkl", "hello", 1234));
  auto entries = ReadZipDirectory(reader);
  ASSERT_TRUE(entries.ok());
  auto data = ReadZipEntry(reader, (*entries)[0], 1 << 20);
  ASSERT_FALSE(data.ok());
  EXPECT_NE(data.status().message().find("CRC-32 mismatch: a/data.pkl"), std::string::npos);
}

TEST(ZipTest, TruncatedArchiveHasNoEndRecord) {
  std::string zip = StoredZip("a/data.pkl", "hello", Crc("hello"));
  StringReader reader(zip.substr(0, zip.size() - 10));
  auto entries = ReadZipDirectory(reader);
  ASSERT_FALSE(entries.ok());
  EXPECT_NE(entries.status().message().find("no end of central directory record"),
            std::string::npos);
}

}  // namespace
}  // namespace datacube::artifact
