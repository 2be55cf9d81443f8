#include "datacube/crypto/sha256.h"

#include <gtest/gtest.h>

#include "datacube/crypto/hmac.h"

namespace datacube::crypto {
namespace {

// FIPS 180-2 examples.
TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256Test, StreamingEqualsOneShot) {
  std::string data(1'000'003, 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31);
  Sha256 h;
  for (size_t off = 0; off < data.size(); off += 65536) {
    h.Update(std::string_view(data).substr(off, 65536));
  }
  EXPECT_EQ(h.FinishHex(), Sha256Hex(data));
  // Reusable after Finish.
  h.Update("abc");
  EXPECT_EQ(h.FinishHex(), Sha256Hex("abc"));
}

// RFC 4231 test case 2.
TEST(HmacTest, Rfc4231) {
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(CodecTest, HexAndBase64RoundTrip) {
  std::string out;
  ASSERT_TRUE(HexDecode("00ff10", &out));
  EXPECT_EQ(out, std::string("\x00\xff\x10", 3));
  EXPECT_FALSE(HexDecode("0g", &out));
  EXPECT_TRUE(IsSha256Hex(Sha256Hex("x")));
  EXPECT_FALSE(IsSha256Hex("abc"));
  EXPECT_EQ(Base64Encode("hello"), "aGVsbG8=");
  ASSERT_TRUE(Base64Decode("aGVsbG8=", &out));
  EXPECT_EQ(out, "hello");
  EXPECT_EQ(Base64Encode(Md5("")), "1B2M2Y8AsgTpgAmY7PhCfg==");
}

}  // namespace
}  // namespace datacube::crypto
