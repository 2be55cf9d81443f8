#include "testing/s3_clients/s3_clients.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>

namespace datacube::testing {
namespace {

// Variables of the caller's environment that would change which credentials, endpoint or
// profile a client uses; each client runs with them removed and gets ours instead.
const std::vector<std::string> kAmbientAwsVariables = {
    "AWS_PROFILE",        "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL",   "AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION", "AWS_REGION",          "RCLONE_CONFIG",     "HTTP_PROXY",
    "HTTPS_PROXY",        "http_proxy",          "https_proxy",       "ALL_PROXY",
    "all_proxy"};

std::string Join(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

// Runs `args` through `/usr/bin/env -u VAR ...`, removing the ambient variables (and
// `extra_unset`) that `env` does not set itself; `env` reaches the child through its
// environment, never its argv.
CommandResult RunClean(const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& env,
                       const std::vector<std::string>& extra_unset = {}) {
  std::vector<std::string> argv = {"/usr/bin/env"};
  std::vector<std::string> unset = kAmbientAwsVariables;
  unset.insert(unset.end(), extra_unset.begin(), extra_unset.end());
  for (const auto& v : unset) {
    if (env.count(v)) continue;
    argv.push_back("-u");
    argv.push_back(v);
  }
  argv.insert(argv.end(), args.begin(), args.end());
  CommandOptions options;
  options.env = env;
  options.timeout = std::chrono::minutes(10);
  return RunCommand(argv, options);
}

}  // namespace

std::string S3TestServer::host_port() const {
  std::string hp = endpoint;
  size_t p = hp.find("://");
  if (p != std::string::npos) hp = hp.substr(p + 3);
  while (!hp.empty() && hp.back() == '/') hp.pop_back();
  return hp;
}

std::optional<S3TestServer> S3ServerFromEnv(std::string* missing) {
  S3TestServer s;
  std::string absent;
  auto get = [&](const char* name, std::string* out) {
    auto v = Env(name);
    if (v) {
      *out = *v;
    } else {
      absent += (absent.empty() ? "" : ", ") + std::string(name);
    }
  };
  get("DATACUBE_TEST_S3_ENDPOINT", &s.endpoint);
  get("DATACUBE_TEST_S3_ACCESS_KEY", &s.access_key);
  get("DATACUBE_TEST_S3_SECRET_KEY", &s.secret_key);
  get("DATACUBE_TEST_S3_REGION", &s.region);
  if (!absent.empty()) {
    if (missing) *missing = absent;
    return std::nullopt;
  }
  return s;
}

S3Clients::S3Clients(S3TestServer server, std::string scratch)
    : server_(std::move(server)), scratch_(std::move(scratch)) {
  // The AWS CLI reads its addressing style from a config file only.
  WriteFile(scratch_ + "/aws-config", "[default]\ns3 =\n    addressing_style = path\n");
  WriteFile(scratch_ + "/rclone.conf", "");
  ::mkdir((scratch_ + "/home").c_str(), 0700);
}

CommandResult S3Clients::Datacube(const std::vector<std::string>& args,
                                  const std::map<std::string, std::string>& env) {
  std::map<std::string, std::string> e = {
      {"AWS_ACCESS_KEY_ID", server_.access_key},
      {"AWS_SECRET_ACCESS_KEY", server_.secret_key},
      {"AWS_REGION", server_.region},
      // The endpoint as most users give it once for all commands; tests that check the
      // --endpoint flag pass it themselves.
      {"AWS_ENDPOINT_URL_S3", server_.endpoint},
      // No profile files of the person running the tests.
      {"AWS_CONFIG_FILE", scratch_ + "/no-such-aws-config"},
      {"AWS_SHARED_CREDENTIALS_FILE", scratch_ + "/no-such-aws-credentials"},
      {"HOME", scratch_ + "/home"},
  };
  std::vector<std::string> unset;
  for (const auto& [k, v] : env) {
    if (v == kUnsetVariable) {
      e.erase(k);
      unset.push_back(k);
    } else {
      e[k] = v;
    }
  }
  std::vector<std::string> argv = {DatacubeBin()};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult r = RunClean(argv, e, unset);
  datacube_outputs_.emplace_back(Join(argv), r.out + r.err);
  return r;
}

CommandResult S3Clients::Aws(const std::vector<std::string>& args) {
  std::map<std::string, std::string> e = {
      {"AWS_ACCESS_KEY_ID", server_.access_key},
      {"AWS_SECRET_ACCESS_KEY", server_.secret_key},
      {"AWS_DEFAULT_REGION", server_.region},
      {"AWS_CONFIG_FILE", scratch_ + "/aws-config"},
      {"AWS_SHARED_CREDENTIALS_FILE", scratch_ + "/aws-config"},
      {"AWS_PAGER", ""},
      {"AWS_CLI_AUTO_PROMPT", "off"},
      {"HOME", scratch_ + "/home"},
  };
  std::vector<std::string> argv = {"/usr/bin/aws", "--endpoint-url", server_.endpoint};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunClean(argv, e);
}

CommandResult S3Clients::Rclone(const std::vector<std::string>& args) {
  std::map<std::string, std::string> e = {
      {"RCLONE_CONFIG", scratch_ + "/rclone.conf"},
      {"RCLONE_CONFIG_RGW_TYPE", "s3"},
      {"RCLONE_CONFIG_RGW_PROVIDER", "Ceph"},
      {"RCLONE_CONFIG_RGW_ENDPOINT", server_.endpoint},
      {"RCLONE_CONFIG_RGW_ACCESS_KEY_ID", server_.access_key},
      {"RCLONE_CONFIG_RGW_SECRET_ACCESS_KEY", server_.secret_key},
      {"RCLONE_CONFIG_RGW_REGION", server_.region},
      {"RCLONE_CONFIG_RGW_FORCE_PATH_STYLE", "true"},
      {"HOME", scratch_ + "/home"},
  };
  std::vector<std::string> argv = {"rclone"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunClean(argv, e, {"AWS_CA_BUNDLE"});
}

CommandResult S3Clients::Curl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"curl", "-q", "--silent", "--show-error"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunClean(argv, {});
}

std::string S3Clients::MakeBucket(const std::string& bucket) {
  auto r = Aws({"s3api", "create-bucket", "--bucket", bucket});
  if (r.exit_code == 0 || Contains(r.err, "BucketAlreadyOwnedByYou")) return "";
  return "aws s3api create-bucket " + bucket + " failed (exit " + std::to_string(r.exit_code) +
         "): " + r.err;
}

std::vector<std::string> S3Clients::SecretLeaks(const std::vector<std::string>& secrets) const {
  std::vector<std::string> leaks;
  for (const auto& [argv, output] : datacube_outputs_) {
    for (const auto& secret : secrets) {
      if (!secret.empty() && (Contains(output, secret) || Contains(argv, secret))) {
        leaks.push_back(argv + "\n" + output);
      }
    }
  }
  return leaks;
}

std::string UniqueBucketName(const std::string& tag) {
  static std::atomic<int> counter{0};
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  std::string name = "dc-" + tag + "-" + std::to_string(::getpid()) + "-" +
                     std::to_string(now % 100000000) + "-" + std::to_string(counter++);
  for (auto& c : name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) c = '-';
  }
  return name.substr(0, 63);
}

}  // namespace datacube::testing
