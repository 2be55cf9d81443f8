#include "datacube/git/git_errors.h"

#include <gtest/gtest.h>

#include "datacube/base/secret.h"

namespace datacube::git {
namespace {

Status Classify(const std::string& stderr_text, int exit_code = 128) {
  ProcessResult r;
  r.exit_code = exit_code;
  r.stderr_data = stderr_text;
  return ClassifyGitFailure(r, {"fetching https://h:1/o/r.git", "h:1", "5s"});
}

TEST(GitErrors, WrongToken) {
  Status s = Classify("fatal: Authentication failed for 'https://h:1/o/r.git/'\n");
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(s.message().find("authentication failed for h:1"), std::string::npos);
  EXPECT_FALSE(IsRetryable(s));
  EXPECT_EQ(Classify("fatal: could not read Username for 'https://h:1': terminal prompts "
                     "disabled\n")
                .code(),
            StatusCode::kUnauthenticated);
}

TEST(GitErrors, RejectedPushQuotesTheServer) {
  Status s = Classify(
      "remote: branch main is protected: pushes are not allowed        \n"
      "remote: error: hook declined to update refs/heads/main\n"
      "To https://h:1/o/r.git\n"
      " ! [remote rejected] main -> main (hook declined)\n"
      "error: failed to push some refs to 'https://h:1/o/r.git'\n",
      1);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("branch main is protected: pushes are not allowed"),
            std::string::npos);
  EXPECT_NE(s.message().find("[remote rejected] main -> main (hook declined)"), std::string::npos);
  EXPECT_EQ(Classify(" ! [rejected]        main -> main (non-fast-forward)\n", 1).code(),
            StatusCode::kFailedPrecondition);
}

TEST(GitErrors, NetworkTroubleIsRetryable) {
  for (const char* text :
       {"fatal: unable to access 'https://h:1/o/r.git/': Failed to connect to h port 1: "
        "Connection refused\n",
        "error: RPC failed; HTTP 502 curl 22 The requested URL returned error: 502\n",
        "fatal: the remote end hung up unexpectedly\n",
        "fatal: unable to access 'https://h:1/': Operation too slow. Less than 1 bytes/sec\n"}) {
    Status s = Classify(text);
    EXPECT_EQ(s.code(), StatusCode::kUnavailable) << text;
    EXPECT_TRUE(IsRetryable(s));
  }
}

TEST(GitErrors, NotFoundAndForbidden) {
  EXPECT_EQ(Classify("remote: Repository not found.\nfatal: repository 'https://h:1/o/r.git/' "
                     "not found\n")
                .code(),
            StatusCode::kNotFound);
  EXPECT_EQ(Classify("fatal: unable to access 'https://h:1/o/r.git/': The requested URL "
                     "returned error: 403\n")
                .code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(Classify("fatal: couldn't find remote ref refs/heads/nope\n").code(),
            StatusCode::kNotFound);
}

TEST(GitErrors, CertificateIsNotRetried) {
  Status s = Classify(
      "fatal: unable to access 'https://h:1/o/r.git/': server certificate "
      "verification failed. CAfile: none CRLfile: none\n");
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("GIT_SSL_CAINFO"), std::string::npos);
}

TEST(GitErrors, CorruptLfsObjectIsDataLoss) {
  Status s = Classify(
      "Error downloading object: big.bin (4d7a214): Smudge error: Error "
      "downloading big.bin (4d7a2146): expected OID 4d7a2146, got 9f86d08 after "
      "1048576 bytes written\n",
      2);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
}

TEST(GitErrors, StallAndCancel) {
  ProcessResult r;
  r.stalled = true;
  Status s = ClassifyGitFailure(r, {"fetching x", "10.1.1.1:443", "3s"});
  EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(s.message().find("no response or progress from 10.1.1.1:443 for 3s"),
            std::string::npos);
  r.stalled = false;
  r.cancelled = true;
  EXPECT_EQ(ClassifyGitFailure(r, {"x", "h", "1s"}).code(), StatusCode::kCancelled);
}

TEST(GitErrors, ExplainDropsProgressAndRedacts) {
  RegisterSecretForRedaction("tok-errors-test-9");
  std::string said = ExplainGitStderr(
      "Receiving objects:  45% (9/20)\rReceiving objects: 100% (20/20), done.\n"
      "fatal: something about tok-errors-test-9 and https://user:pw12@h/x\n");
  EXPECT_EQ(said.find("Receiving"), std::string::npos);
  EXPECT_EQ(said.find("tok-errors-test-9"), std::string::npos);
  EXPECT_EQ(said.find("pw12"), std::string::npos);
  EXPECT_NE(said.find("fatal: something about"), std::string::npos);
}

TEST(GitErrors, UnknownKeepsGitsWords) {
  Status s = Classify("fatal: something entirely new\n", 128);
  EXPECT_EQ(s.code(), StatusCode::kUnknown);
  EXPECT_NE(s.message().find("something entirely new"), std::string::npos);
}

}  // namespace
}  // namespace datacube::git
