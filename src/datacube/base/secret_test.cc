#include "datacube/base/secret.h"

#include <gtest/gtest.h>

#include <sstream>
#include <thread>

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
  EXPECT_EQ(Redact("https://user:pass@host/x and http://h/y"), "https://***@host/x and http://h/y");
  EXPECT_EQ(Redact("no url here"), "no url here");
}

TEST(SecretTest, Base64OfKnownValues) {
  EXPECT_EQ(Base64ForRedaction(""), "");
  EXPECT_EQ(Base64ForRedaction("f"), "Zg==");
  EXPECT_EQ(Base64ForRedaction("fo"), "Zm8=");
  EXPECT_EQ(Base64ForRedaction("foo"), "Zm9v");
  EXPECT_EQ(Base64ForRedaction("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64ForRedaction("\xfb\xff", false), "+/8=");
  EXPECT_EQ(Base64ForRedaction("\xfb\xff", true), "-_8=");
}

TEST(SecretTest, BasicAuthValueOfAUserAndTokenIsRedacted) {
  const std::string token = "ghp_basicAuthTok3n_0123456789";
  RegisterCredentialPairForRedaction("git", token);
  std::string basic = Base64ForRedaction("git:" + token);
  std::string line = "< Authorization: Basic " + basic;
  EXPECT_EQ(Redact(line), "< Authorization: Basic ***");
  // Another user name in front: the aligned part of the token's encoding still goes.
  std::string other = Base64ForRedaction("x-access-token:" + token);
  std::string redacted = Redact("Basic " + other);
  EXPECT_EQ(redacted.find(other), std::string::npos) << redacted;
  EXPECT_NE(redacted.find("***"), std::string::npos) << redacted;
}

TEST(SecretTest, EncodedFormsOfASecretAreRedacted) {
  const std::string secret = "s3cr3t/with+special=chars&more";
  RegisterSecretForRedaction(secret);
  for (bool url_safe : {false, true}) {
    std::string b64 = Base64ForRedaction(secret, url_safe);
    EXPECT_EQ(Redact("x " + b64 + " y"), "x *** y") << b64;
    // Inside a longer encoded blob, at each byte alignment.
    for (const std::string& prefix :
         {std::string(""), std::string("a"), std::string("ab"), std::string("{\"token\":\"")}) {
      std::string blob = Base64ForRedaction(prefix + secret + "\"}", url_safe);
      std::string out = Redact(blob);
      EXPECT_NE(out.find("***"), std::string::npos) << prefix << " " << blob;
      // No 8 characters in a row of the secret's own encoding survive.
      std::string core = b64.substr(4, 8);
      EXPECT_EQ(out.find(core), std::string::npos) << out;
    }
  }
  EXPECT_EQ(Redact("q=s3cr3t%2Fwith%2Bspecial%3Dchars%26more&x=1"), "q=***&x=1");
  EXPECT_EQ(Redact("q=s3cr3t%2fwith%2bspecial%3dchars%26more"), "q=***");
}

TEST(SecretTest, ShortSecretsDoNotRedactRandomText) {
  RegisterSecretForRedaction("k9Zq");
  // base64("k9Zq") = "azlacQ==": the whole form goes, but not 4-character fragments of it.
  EXPECT_EQ(Redact("azlacQ=="), "***");
  EXPECT_EQ(Redact("YWJjazlhYmM"), "YWJjazlhYmM");
}

TEST(SecretTest, ScopedSecretsBelongToTheirJobAndEndWithIt) {
  const size_t process_before = ProcessRedactor().size();
  {
    auto job = std::make_shared<Redactor>();
    RedactionScope scope(job);
    RegisterSecretForRedaction("job-secret-7d1e");
    EXPECT_EQ(Redact("x job-secret-7d1e y"), "x *** y");
    EXPECT_GT(job->size(), 0u);
    // Another thread outside the job does not know the job's secret.
    std::string seen_elsewhere;
    std::thread other([&] { seen_elsewhere = Redact("job-secret-7d1e"); });
    other.join();
    EXPECT_EQ(seen_elsewhere, "job-secret-7d1e");
    {
      // Scopes nest: an inner job sees its own secrets, not the outer one's.
      RedactionScope inner(std::make_shared<Redactor>());
      EXPECT_EQ(Redact("job-secret-7d1e"), "job-secret-7d1e");
    }
    EXPECT_EQ(Redact("job-secret-7d1e"), "***");
  }
  EXPECT_EQ(CurrentRedactor(), nullptr);
  EXPECT_EQ(Redact("job-secret-7d1e"), "job-secret-7d1e");
  EXPECT_EQ(ProcessRedactor().size(), process_before);
}

TEST(SecretTest, JsonEscape) { EXPECT_EQ(JsonEscape("a\"b\\c\n\x01"), "a\\\"b\\\\c\\n\\u0001"); }

}  // namespace
}  // namespace datacube
