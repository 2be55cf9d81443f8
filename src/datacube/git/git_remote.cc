#include "datacube/git/git_remote.h"

#include <algorithm>
#include <cctype>

#include "datacube/location/location.h"

namespace datacube::git {
namespace {

Status Invalid(std::string_view why) {
  return InvalidArgumentError("git url: " + std::string(why));
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view StripPort(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(1, close - 1);
  }
  size_t colon = host.rfind(':');
  return colon == std::string_view::npos ? host : host.substr(0, colon);
}

bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7f; }

// Checks the whole URL's characters and its scheme; sets `scheme` (lower-cased) and returns
// what follows "://".
Result<std::string_view> TakeScheme(std::string_view url, std::string& scheme) {
  std::string_view rest = url;
  if (rest.substr(0, 4) == "git+") rest.remove_prefix(4);
  for (unsigned char c : url) {
    if (IsControl(c) || c == ' ') {
      return Invalid("contains a space or control character; percent-encode it");
    }
  }
  size_t sep = rest.find("://");
  if (sep == std::string_view::npos) {
    return Invalid("\"" + Redact(url) +
                   "\" is not an https:// URL (ssh and scp-style addresses are not supported; "
                   "use https:// with a token)");
  }
  scheme = Lower(rest.substr(0, sep));
  if (scheme != "https" && scheme != "http") {
    return Invalid("scheme \"" + scheme + "\" is not supported; use https://");
  }
  return rest.substr(sep + 3);
}

// Takes "user:TOKEN@" or "TOKEN@" off the front of `authority`, sets `username` (from the first
// form) and returns the token (percent-decoded when it decodes), registered for redaction both
// as written and decoded. Returns "" when there is no user information.
std::string TakeUserInfo(std::string_view& authority, std::string& username) {
  size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return "";
  std::string_view userinfo = authority.substr(0, at);
  authority.remove_prefix(at + 1);
  size_t colon = userinfo.find(':');
  std::string_view user = userinfo.substr(0, colon);
  std::string_view pass = colon == std::string_view::npos ? "" : userinfo.substr(colon + 1);
  // "TOKEN@host" (the form `https://$(TOKEN)@host/...` gives): the user part is the token.
  std::string_view raw_token = colon == std::string_view::npos ? user : pass;
  auto decoded = PercentDecode(raw_token);
  std::string token = decoded.ok() ? *decoded : std::string(raw_token);
  RegisterSecretForRedaction(raw_token);
  RegisterSecretForRedaction(token);
  if (colon != std::string_view::npos) {
    auto u = PercentDecode(user);
    username = u.ok() ? *u : std::string(user);
  }
  return token;
}

// The host must be there, and the path ("/owner/repo.git", trailing slashes dropped here) must
// name a repository without a query or fragment.
Status CheckHostAndPath(std::string_view authority, std::string_view& path) {
  if (authority.empty()) return Invalid("the host is missing");
  if (path.find_first_of("?#") != std::string_view::npos) {
    return Invalid("query strings and fragments are not allowed in a repository URL");
  }
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (path.size() <= 1) return Invalid("the repository path is missing after the host");
  return Status();
}

// The last element of `path` without ".git"; `url` (token-free) names it in the error.
Result<std::string> RepoNameOf(const std::string& url, std::string_view path) {
  std::string_view name = path.substr(path.rfind('/') + 1);
  if (name.size() > 4 && name.substr(name.size() - 4) == ".git") name.remove_suffix(4);
  if (name.empty() || name == "." || name == "..") {
    return Invalid("\"" + url + "\" does not end in a repository name");
  }
  return std::string(name);
}

// The `token` option when given, else the URL's token; trimmed, registered and checked.
Result<std::string> ChooseToken(std::string_view token_option, std::string url_token) {
  bool from_option = !token_option.empty();
  // A Secret mounted from a file often ends with a newline (trimmed); any other control
  // character (a line break inside would add lines to the credential helper's answer) is
  // refused.
  std::string token = from_option ? std::string(token_option) : std::move(url_token);
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
    token.pop_back();
  }
  RegisterSecretForRedaction(token);
  DC_RETURN_IF_ERROR(
      CheckCredentialText(from_option ? "git option \"token\"" : "git url: the token", token));
  return token;
}

}  // namespace

Status CheckCredentialText(std::string_view option, std::string_view value) {
  for (size_t i = 0; i < value.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(value[i]);
    if (!IsControl(c)) continue;
    std::string what = c == '\n' || c == '\r' ? "a line break"
                       : c == 0               ? "a NUL byte"
                       : c == '\t'            ? "a tab"
                                              : "a control character";
    return InvalidArgumentError(std::string(option) + ": contains " + what + " (at byte " +
                                std::to_string(i + 1) +
                                "); a credential must be a single line of printable characters "
                                "(the value is not shown)");
  }
  return Status();
}

bool IsLoopbackHost(std::string_view host) {
  std::string_view h = StripPort(host);
  return h == "localhost" || h == "::1" || h.substr(0, 4) == "127.";
}

Result<GitRemote> ParseGitRemote(std::string_view url, std::string_view token_option) {
  // Register first: whatever happens below, neither value may reach a message.
  RegisterSecretForRedaction(token_option);
  GitRemote remote;
  DC_ASSIGN_OR_RETURN(std::string_view rest, TakeScheme(url, remote.scheme));
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  std::string url_token = TakeUserInfo(authority, remote.username);
  DC_RETURN_IF_ERROR(CheckHostAndPath(authority, path));
  remote.host = Lower(authority);
  remote.url = remote.scheme + "://" + remote.host + std::string(path);
  DC_ASSIGN_OR_RETURN(remote.repo_name, RepoNameOf(remote.url, path));
  if (!remote.username.empty()) {
    DC_RETURN_IF_ERROR(CheckCredentialText("git url: the user name", remote.username));
  }
  DC_ASSIGN_OR_RETURN(std::string token, ChooseToken(token_option, std::move(url_token)));
  remote.token = Secret<std::string>(std::move(token));
  if (!remote.token.empty() && remote.scheme == "http" && !IsLoopbackHost(remote.host)) {
    return Invalid("refusing to send a token over plain http to " + remote.host + "; use https://");
  }
  return remote;
}

}  // namespace datacube::git
