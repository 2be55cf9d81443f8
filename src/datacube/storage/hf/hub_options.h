// Where a Hugging Face repository is and how to reach it: endpoint, repository, revision, token
// and transport settings, gathered from a Location, backend options and the environment with the
// precedence huggingface_hub uses:
//
//   endpoint   HF_ENDPOINT, else https://huggingface.co (trailing '/' removed)
//   token      option `token` (--token, a DataCube `token` option), else HF_TOKEN, else the file
//              HF_TOKEN_PATH, else $HF_HOME/token (HF_HOME defaults to
//              $XDG_CACHE_HOME/huggingface, then ~/.cache/huggingface)
//   revision   the location's @revision or option `revision` (they must agree), else "main"
//   repo type  the location's models/|datasets/|spaces/ prefix or option `repo-type`
//
// Every token found is registered for redaction, so it cannot reach a log line even by accident;
// HubOptions keeps it in a Secret<> and messages name only where it came from.
#pragma once

#include <string>
#include <string_view>

#include "datacube/base/result.h"
#include "datacube/base/secret.h"
#include "datacube/http/http_transport.h"
#include "datacube/location/location.h"
#include "datacube/retry/retry.h"
#include "datacube/storage/store_config.h"

namespace datacube::storage::hf {

inline constexpr std::string_view kDefaultEndpoint = "https://huggingface.co";
inline constexpr std::string_view kDefaultRevision = "main";

enum class RepoType { kModel, kDataset, kSpace };

// Accepts "model", "dataset", "space" and their plurals. kInvalidArgument names the value.
Result<RepoType> ParseRepoType(std::string_view text);
std::string_view RepoTypeName(RepoType type);    // "model"
std::string_view RepoTypePlural(RepoType type);  // "models": API paths and cache folders
// Prefix of file and git URLs: "" for models, "datasets/", "spaces/".
std::string_view RepoTypeUrlPrefix(RepoType type);

struct RepoRef {
  RepoType type = RepoType::kModel;
  std::string id;  // "org/name"

  // "org/name", "datasets/org/name", "spaces/org/name": how users and errors name a repo.
  std::string Display() const;
};

// "org/name": two non-empty segments of letters, digits, '-', '_', '.'; no "..", no leading or
// trailing '-' or '.' (the Hub's own rule, simplified). kInvalidArgument says what is wrong.
Status ValidateRepoId(std::string_view id);

struct HubOptions {
  std::string endpoint = std::string(kDefaultEndpoint);
  RepoRef repo;
  // Branch, tag, commit sha or refs/pr/N; never empty after FromConfig.
  std::string revision = std::string(kDefaultRevision);
  Secret<std::string> token;
  // Where the token came from ("--token", "HF_TOKEN", a file path): for messages only.
  std::string token_source;
  http::TransportOptions transport;
  // For Hub API calls (listing, commits). Data reads are retried by the engine instead.
  RetryPolicy retry;
  // Longest Retry-After we honour by sleeping; a longer one fails the request as unavailable.
  std::chrono::seconds max_retry_after{120};
  // Bounds on one tree listing: a server that never stops paginating is refused, not followed
  // forever. The Hub pages 1,000 entries at a time.
  size_t max_listing_pages = 100'000;
  size_t max_listing_entries = 5'000'000;
};

// Builds HubOptions for `location` (scheme hf). Options read from `config`: token, revision,
// repo-type, repo (when the location has none). kInvalidArgument names the option at fault.
Result<HubOptions> HubOptionsFromConfig(const Location& location, const StoreConfig& config);

// The DataCube form: builds an hf:// Location from the options `repo`, `repo-type` and
// `revision` (a DataCube's huggingface source or sink). kInvalidArgument names the option.
Result<Location> LocationFromOptions(const StoreConfig& config);

// Finds the token by the precedence above. An empty Secret (and empty source) when none is set;
// an unreadable token file is an error naming the file.
Result<Secret<std::string>> FindToken(const StoreConfig& config, std::string* source);

// A token travels in an HTTP header, so it must be one line: kInvalidArgument naming `source`
// (never the value) when it holds a control character (CR, LF, TAB, NUL, DEL, ...).
Status CheckTokenText(std::string_view token, const std::string& source);

// Reads a token file (--token-file, HF_TOKEN_PATH, $HF_HOME/token): a regular file of at most
// 64 KiB; one trailing line ending is dropped, spaces around the token are trimmed, any other
// control character is refused. Errors name `source` and `path`, never the content.
Result<std::string> ReadTokenFile(const std::string& path, const std::string& source);

// huggingface_hub's cache root: HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, $HF_HOME/hub,
// $XDG_CACHE_HOME/huggingface/hub, ~/.cache/huggingface/hub.
std::string DefaultHubCacheDir(const StoreConfig& config);

// Splits the DataCube `files` option ("a.json, b/c.txt") into paths; empty entries are dropped.
std::vector<std::string> SplitFilesOption(std::string_view text);

}  // namespace datacube::storage::hf
