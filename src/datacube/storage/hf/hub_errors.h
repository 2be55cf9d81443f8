// The one place where a Hugging Face Hub HTTP error becomes a Status, so every message about the
// Hub says the same thing the same way (the table is in docs/huggingface.md, Errors; the Hub's side
// in docs/protocols/huggingface.md, Errors).
//
// The Hub says what went wrong in headers: X-Error-Code (RepoNotFound,
// RevisionNotFound, EntryNotFound, GatedRepo) and X-Error-Message, with a JSON body
// {"error": "..."} most of the time. The Status code tells the engine what to do:
//   kNotFound          repository, revision or file missing (the message says which)
//   kUnauthenticated   the token was rejected, or a gated repo needs one
//   kPermissionDenied  gated repo not yet granted (the message says how to request access),
//                      no write access, disabled repo
//   kUnavailable       429 (after Retry-After) and 5xx: retried
//   kAlreadyExists     409 (repo exists); kFailedPrecondition 412 (the branch moved)
// Messages never contain the token; URLs are printed without their query (signatures).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "datacube/base/status.h"
#include "datacube/http/http_transport.h"
#include "datacube/storage/hf/hub_options.h"

namespace datacube::storage::hf {

// What the failing request was about, so the message can say which thing is missing.
struct ErrorContext {
  std::string action;    // "listing", "downloading", "committing to", ...
  std::string endpoint;  // the Hub, for "visit <endpoint>/<repo>" hints
  RepoRef repo;
  std::string revision;  // empty when not relevant
  std::string path;      // file in the repo; empty when not relevant
  bool authenticated = false;
  std::string token_source;  // where the token came from (never the token)
  std::string url;           // the request URL (query is stripped when printed)
};

// Maps a non-2xx Hub response. OK for 2xx.
Status HubErrorToStatus(const http::HttpResponse& response, const ErrorContext& context);

// Retry-After as a duration: delta-seconds or an HTTP date. nullopt when absent or unparseable.
std::optional<std::chrono::milliseconds> RetryAfter(const http::HttpResponse& response);

// "https://host/path" of a URL without its query string, for messages.
std::string UrlForMessage(std::string_view url);

}  // namespace datacube::storage::hf
