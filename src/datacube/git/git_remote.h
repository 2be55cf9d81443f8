// A Git remote as the user gave it, split into a token-free URL and the credentials.
//
// A DataCube may write `url: https://$(TOKEN)@github.com/user/repo.git` (as
// tests/cube_examples/07-git-upload.yaml does). Git would store that URL, token included, in
// .git/config and pass it on the command line of git-remote-https, where every local user can read
// it. We take the credentials out here, once, and from then on only the clean URL travels; the
// token reaches git through a credential helper that reads it from the environment (git_env.h).
#pragma once

#include <string>
#include <string_view>

#include "datacube/base/result.h"
#include "datacube/base/secret.h"

namespace datacube::git {

struct GitRemote {
  // "https://host[:port]/path/repo.git" with no user information, query or fragment.
  std::string url;
  // "https" or "http".
  std::string scheme;
  // "host" or "host:port" exactly as written, lower-cased; names the server in messages.
  std::string host;
  // The last path element without ".git": the name of the repository's directory in a volume
  // (a DataCube git download writes <subPath>/<repo>, an upload pushes it; docs/datacube-spec.md).
  std::string repo_name;
  // User name for HTTP basic auth; empty = the default ("git", accepted by GitHub, GitLab, Gitea
  // and Hugging Face for token authentication).
  std::string username;
  // The token, from the `token` option or the URL's user information.
  Secret<std::string> token;
};

// Parses an https:// (or http://) Git URL. "git+https://" and "git+http://" prefixes are accepted.
// User information is removed from the URL: "TOKEN@host" makes TOKEN the token, "user:TOKEN@host"
// sets both. A non-empty `token_option` wins over a token in the URL. Every token found is
// registered for redaction before this returns. Errors (kInvalidArgument) never quote the
// user information: ssh and scp-style addresses, query strings, a missing host or path, control
// characters or spaces anywhere in the URL, a token with a control character (CheckCredentialText;
// a token given in the URL is checked after percent-decoding), and a token sent over plain http to
// a host that is not loopback.
Result<GitRemote> ParseGitRemote(std::string_view url, std::string_view token_option);

// Refuses a credential (token, user name) holding a control character (below 0x20, or 0x7f): a
// line break would add lines to the credential helper's answer or headers to a request. The
// message names `option` and never quotes the value.
Status CheckCredentialText(std::string_view option, std::string_view value);

// True for 127.0.0.0/8, ::1 and "localhost" (with or without a port).
bool IsLoopbackHost(std::string_view host);

}  // namespace datacube::git
