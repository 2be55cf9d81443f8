#include "datacube/base/log.h"

#include <gtest/gtest.h>

#include <string>

namespace datacube {
namespace {

TEST(EscapeForDisplayTest, PrintableUtf8PassesUnchanged) {
  EXPECT_EQ(EscapeForDisplay("models/llama-3 8b/config.json"), "models/llama-3 8b/config.json");
  EXPECT_EQ(EscapeForDisplay("日本語/ünïcødé.txt"), "日本語/ünïcødé.txt");
  EXPECT_EQ(EscapeForDisplay("emoji \xF0\x9F\x98\x80"), "emoji \xF0\x9F\x98\x80");
  EXPECT_EQ(EscapeForDisplay(""), "");
}

TEST(EscapeForDisplayTest, ControlCharactersBecomeTwoHexDigits) {
  EXPECT_EQ(EscapeForDisplay("a\nb"), "a\\nb");
  EXPECT_EQ(EscapeForDisplay("a\tb\rc"), "a\\tb\\rc");
  // ESC is 27 decimal, 0x1b: the escape must be hexadecimal.
  EXPECT_EQ(EscapeForDisplay("\x1b[31mred"), "\\x1b[31mred");
  EXPECT_EQ(EscapeForDisplay(std::string("nul\0x", 5)), "nul\\x00x");
  EXPECT_EQ(EscapeForDisplay("\x01\x1f"), "\\x01\\x1f");
  EXPECT_EQ(EscapeForDisplay("del\x7f"), "del\\x7f");
  EXPECT_EQ(EscapeForDisplay("back\\slash"), "back\\slash");
}

TEST(EscapeForDisplayTest, InvalidUtf8BytesAreEscapedOneByOne) {
  EXPECT_EQ(EscapeForDisplay("\xff"), "\\xff");
  EXPECT_EQ(EscapeForDisplay("a\x80z"), "a\\x80z");                // stray continuation byte
  EXPECT_EQ(EscapeForDisplay("\xc3"), "\\xc3");                    // truncated sequence
  EXPECT_EQ(EscapeForDisplay("\xc0\xaf"), "\\xc0\\xaf");           // overlong '/'
  EXPECT_EQ(EscapeForDisplay("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // UTF-16 surrogate
  EXPECT_EQ(EscapeForDisplay("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // > U+10FFFF
  EXPECT_EQ(EscapeForDisplay("\x9b"
                             "31m"),
            "\\x9b31m");  // 8-bit CSI byte
}

TEST(EscapeForDisplayTest, UnicodeControlsThatMoveOrHideTextAreEscaped) {
  EXPECT_EQ(EscapeForDisplay("\xc2\x9b"
                             "2J"),
            "\\u{009b}2J");  // C1 CSI, UTF-8 encoded
  EXPECT_EQ(EscapeForDisplay("abc\xe2\x80\xaetxt.exe"), "abc\\u{202e}txt.exe");  // RLO
}

TEST(EscapeForDisplayTest, EscapingTwiceChangesNothingMore) {
  for (const char* raw : {"a\nb", "\x1b[2J", "\xff\xfe", "x\xe2\x80\xaey", "\\x1b"}) {
    std::string once = EscapeForDisplay(raw);
    EXPECT_EQ(EscapeForDisplay(once), once) << raw;
  }
}

TEST(EscapeForDisplayTest, OutputIsOneLineOfPrintableCharacters) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  std::string shown = EscapeForDisplay(all);
  for (unsigned char c : shown) {
    EXPECT_TRUE(c >= 0x20 && c != 0x7f) << "raw control byte " << static_cast<int>(c);
    EXPECT_LT(c, 0x80) << "a lone byte of 0x80-0xff cannot be valid UTF-8 here";
  }
}

TEST(JsonEscapeTest, StaysValidJsonForAnyBytes) {
  EXPECT_EQ(JsonEscape("a\"b\\c\n\x01"), "a\\\"b\\\\c\\n\\u0001");
  EXPECT_EQ(JsonEscape("\x1b[2J"), "\\u001b[2J");
  EXPECT_EQ(JsonEscape("\x7f"), "\\u007f");
  EXPECT_EQ(JsonEscape("ok \xff!"), "ok \\ufffd!");
  EXPECT_EQ(JsonEscape("日本語"), "日本語");
}

}  // namespace
}  // namespace datacube

namespace datacube {
namespace {

TEST(EscapeControlCharsTest, ControlsBecomeHexOthersPass) {
  EXPECT_EQ(EscapeControlChars("a\nb\x1b[31m\x7f"), "a\\x0ab\\x1b[31m\\x7f");
  EXPECT_EQ(EscapeControlChars("caf\xc3\xa9 \"q\" \\"), "caf\xc3\xa9 \"q\" \\");
}

TEST(QuoteEscapedTest, QuotesCannotBeEndedNorLinesBroken) {
  EXPECT_EQ(QuoteEscaped("plain"), "\"plain\"");
  EXPECT_EQ(QuoteEscaped("a\"b\\c\nd\te\rf\x01"), "\"a\\\"b\\\\c\\nd\\te\\rf\\x01\"");
}

}  // namespace
}  // namespace datacube
