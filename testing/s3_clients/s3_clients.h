// Drives datacube and the reference S3 clients (AWS CLI, rclone, curl) against the real S3
// server of the test run (Ceph RGW from testing/servers/rgw.sh, variables DATACUBE_TEST_S3_*).
//
// Credentials never appear in any argv: every client gets them through its environment, and
// every output datacube produced is kept so a test can check that no secret leaked into it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "testing/test_util/test_util.h"

namespace datacube::testing {

// As a value in S3Clients::Datacube's `env`: remove the variable instead of setting it.
inline constexpr char kUnsetVariable[] = "\x01unset";

struct S3TestServer {
  std::string endpoint;  // http://127.0.0.1:PORT
  std::string access_key;
  std::string secret_key;
  std::string region;
  // "127.0.0.1:PORT", as error messages name it.
  std::string host_port() const;
};

// The server from DATACUBE_TEST_S3_{ENDPOINT,ACCESS_KEY,SECRET_KEY,REGION}; nullopt (and the
// names of the missing variables in *missing) when any is unset.
std::optional<S3TestServer> S3ServerFromEnv(std::string* missing);

class S3Clients {
 public:
  // `scratch` is a directory for client configuration files (it must outlive this object).
  S3Clients(S3TestServer server, std::string scratch);

  const S3TestServer& server() const { return server_; }

  // datacube with the endpoint (AWS_ENDPOINT_URL_S3) and credentials in its environment. `env`
  // overrides them (e.g. a wrong AWS_SECRET_ACCESS_KEY). The output is recorded for SecretLeaks().
  CommandResult Datacube(const std::vector<std::string>& args,
                         const std::map<std::string, std::string>& env = {});
  // /usr/bin/aws (never a pyenv shim) with --endpoint-url and path-style addressing.
  CommandResult Aws(const std::vector<std::string>& args);
  // rclone with a remote named "rgw:" configured through environment variables only, and
  // AWS_CA_BUNDLE removed (rclone 1.60 refuses its S3 transport when it is set).
  CommandResult Rclone(const std::vector<std::string>& args);
  // curl, no configuration files read.
  CommandResult Curl(const std::vector<std::string>& args);

  // Creates `bucket` with the AWS CLI (an existing bucket of ours is fine). Returns an error
  // text, empty on success.
  std::string MakeBucket(const std::string& bucket);

  // Every recorded datacube output (stdout and stderr) containing one of `secrets`, with the
  // command that produced it; empty when nothing leaked.
  std::vector<std::string> SecretLeaks(const std::vector<std::string>& secrets) const;

 private:
  S3TestServer server_;
  std::string scratch_;
  std::vector<std::pair<std::string, std::string>> datacube_outputs_;  // (argv, output)
};

// A bucket name unique to this process and `tag` (lower case, at most 63 characters).
std::string UniqueBucketName(const std::string& tag);
// Whether `text` contains `needle`, for gtest messages that show the haystack.
inline bool Contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

}  // namespace datacube::testing
