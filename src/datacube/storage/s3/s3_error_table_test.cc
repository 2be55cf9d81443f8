#include "datacube/storage/s3/s3_error_table.h"

#include <gtest/gtest.h>

namespace datacube::storage::s3 {
namespace {

TEST(S3ErrorTable, RetriedColumnIsWhatIsRetryableDecides) {
  for (const ErrorRule& rule : ErrorRules()) {
    EXPECT_EQ(IsRetryable(Status(rule.result, "x")), rule.retried)
        << (rule.codes.empty() ? std::string("(no code)") : std::string(rule.codes[0]));
  }
}

TEST(S3ErrorTable, EveryRuleSaysSomethingAndUsesKnownPlaceholders) {
  http::HttpResponse r;
  r.status = 400;
  r.headers = {{"date", "Wed, 21 Oct 2015 07:28:00 GMT"}};
  S3ErrorContext ctx;
  ctx.bucket = "b";
  ctx.endpoint = "http://e";
  ctx.credentials_source = "environment";
  ErrorFacts facts(r, ctx);
  facts.server_message = "m";
  for (const ErrorRule& rule : ErrorRules()) {
    EXPECT_TRUE(rule.codes.size() + rule.statuses.size() > 0 || rule.applies != nullptr);
    EXPECT_NE(rule.message.empty(), rule.describe == nullptr) << rule.message;
    std::string said = ExpandErrorMessage(rule.message, facts);
    EXPECT_EQ(said.find('{'), std::string::npos) << said;
  }
}

TEST(S3ErrorTable, PlaceholdersAreFilledOnceFromLeftToRight) {
  http::HttpResponse r;
  S3ErrorContext ctx;
  ctx.bucket = "{endpoint}";
  ctx.endpoint = "E";
  ErrorFacts facts(r, ctx);
  facts.server_message = "{bucket}";
  EXPECT_EQ(ExpandErrorMessage("a {bucket} b{: server_message} {creds}c {other}", facts),
            "a {endpoint} b: {bucket} c {other}");
}

}  // namespace
}  // namespace datacube::storage::s3
