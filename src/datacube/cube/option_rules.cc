#include "datacube/cube/option_rules.h"

#include <array>

namespace datacube::cube {
namespace {

// Required-ness follows the DataCube guide, which marks git token and ref, huggingface token,
// files and commit-message, and s3-no-check-bucket optional (path-in-repo defaults to the
// repository root). Options marked "extension" are ours (docs/datacube-spec.md lists them).
constexpr std::array<OptionRule, 11> kGitRules = {{
    {"url", true, true, true, false, false,
     "repository URL (https://host/owner/repo.git); may embed $(TOKEN)"},
    {"token", true, true, false, false, true, "personal access token"},
    {"ref", true, false, false, false, false,
     "branch, tag or commit to check out (default master)"},
    // Extensions read by the git module (src/datacube/git/git_transfer.h).
    {"branch", false, true, false, false, false,
     "extension: local branch to push (default: the checked-out one)"},
    {"depth", true, false, false, false, false, "extension: shallow clone depth (default full)"},
    {"lfs", true, true, false, false, false, "extension: \"false\" skips Git LFS objects"},
    {"username", true, true, false, false, false,
     "extension: HTTP user name sent with the token (default git)"},
    {"ca-file", true, true, false, false, false, "extension: PEM CA bundle for the server"},
    {"stall-timeout", true, true, false, false, false,
     "extension: kill and retry a git command without progress for this long (e.g. 5m)"},
    {"timeout", true, true, false, false, false, "extension: limit per git command"},
    {"retries", true, true, false, false, false, "extension: attempts for network commands"},
}};

constexpr std::array<OptionRule, 7> kHuggingFaceRules = {{
    {"repo", true, true, true, false, false, "repository id, e.g. openai/whisper-large-v3"},
    {"token", true, true, false, false, true, "Hugging Face token"},
    {"files", true, false, false, true, false, "comma-separated files to download (default: all)"},
    {"revision", true, true, false, false, false,
     "extension: branch, tag or commit (default main)"},
    {"repo-type", true, true, false, false, false, "extension: model (default), dataset or space"},
    {"path-in-repo", false, true, false, false, false,
     "where in the repository to upload (default: the root)"},
    {"commit-message", false, true, false, false, false, "commit message of the upload"},
}};

constexpr std::array<OptionRule, 11> kS3Rules = {{
    {"s3-endpoint", true, true, true, false, false, "endpoint URL, e.g. https://s3.example.com"},
    {"s3-access-key-id", true, true, true, false, true, "access key id"},
    {"s3-secret-access-key", true, true, true, false, true, "secret access key"},
    {"s3-uri", true, true, true, true, false, "s3://bucket/path"},
    {"s3-no-check-bucket", false, true, false, false, false,
     "\"true\": do not check that the bucket exists"},
    // Extensions read by the S3 backend (src/datacube/storage/s3/s3_options.h).
    {"s3-region", true, true, false, false, false, "extension: signing region (default us-east-1)"},
    {"s3-session-token", true, true, false, false, true,
     "extension: session token of temporary credentials"},
    {"s3-addressing", true, true, false, false, false,
     "extension: path or virtual (default: chosen by endpoint)"},
    {"s3-ca-bundle", true, true, false, false, false, "extension: PEM CA bundle for the endpoint"},
    {"s3-upload-checksum", false, true, false, false, false,
     "extension: auto or sha256 (checksum stored with uploads)"},
    {"require-checksum", true, false, false, false, false,
     "extension: \"true\" fails objects that offer no checksum to verify the download against"},
}};

}  // namespace

std::span<const OptionRule> OptionRulesFor(EndpointType type) {
  switch (type) {
    case EndpointType::kGit:
      return kGitRules;
    case EndpointType::kHuggingFace:
      return kHuggingFaceRules;
    case EndpointType::kS3:
      return kS3Rules;
    case EndpointType::kPvc:
      break;
  }
  return {};
}

const OptionRule* FindOptionRule(EndpointType type, bool is_sink, std::string_view name) {
  for (const OptionRule& rule : OptionRulesFor(type)) {
    if (rule.name == name && (is_sink ? rule.on_sink : rule.on_source)) return &rule;
  }
  return nullptr;
}

std::vector<std::string_view> OptionNamesFor(EndpointType type, bool is_sink) {
  std::vector<std::string_view> out;
  for (const OptionRule& rule : OptionRulesFor(type)) {
    if (is_sink ? rule.on_sink : rule.on_source) out.push_back(rule.name);
  }
  return out;
}

}  // namespace datacube::cube
