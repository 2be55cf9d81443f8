#include "datacube/base/secret.h"

#include <gtest/gtest.h>

#include <sstream>

#include "datacube/base/log.h"

namespace datacube {
namespace {

TEST(SecretTest, NeverPrints) {
  Secret<> s("AKIA-very-secret-value");
  std::ostringstream os;
  os << s;
  EXPECT_EQ(os.str(), "***");
  EXPECT_EQ(s.reveal(), "AKIA-very-secret-value");
}

TEST(SecretTest, RegisteredValuesAreRedacted) {
  RegisterSecretForRedaction("hf_abcdefghijklmnop");
  EXPECT_EQ(Redact("token is hf_abcdefghijklmnop, ok"), "token is ***, ok");
  // Short values are not registered (they would redact ordinary words).
  RegisterSecretForRedaction("ab");
  EXPECT_EQ(Redact("ab cab"), "ab cab");
}

TEST(SecretTest, UrlUserinfoIsRedacted) {
  EXPECT_EQ(Redact("cloning https://ghp_token123@github.com/u/r.git"),
            "cloning https://***@github.com/u/r.git");
  EXPECT_EQ(Redact("https://user:pass@host/x and http://h/y"),
            "https://***@host/x and http://h/y");
  EXPECT_EQ(Redact("no url here"), "no url here");
}

TEST(SecretTest, JsonEscape) {
  EXPECT_EQ(JsonEscape("a\"b\\c\n\x01"), "a\\\"b\\\\c\\n\\u0001");
}

}  // namespace
}  // namespace datacube
