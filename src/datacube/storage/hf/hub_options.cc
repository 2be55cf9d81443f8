#include "datacube/storage/hf/hub_options.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "datacube/io/file.h"

namespace datacube::storage::hf {
namespace {

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
}

// Spaces only: every other character below 0x20 is refused in a token, not trimmed.
std::string TrimSpaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return std::string(s);
}

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// StoreConfig's own accessors live in the registry library, which links this one; reading the
// fields directly keeps the dependency one-way.
std::optional<std::string> EnvOf(const StoreConfig& config, const std::string& name) {
  if (config.getenv) return config.getenv(name);
  const char* v = std::getenv(name.c_str());
  return v ? std::optional<std::string>(v) : std::nullopt;
}

std::string OptionOf(const StoreConfig& config, const std::string& name) {
  auto it = config.options.find(name);
  return it == config.options.end() ? std::string() : it->second;
}

std::string NonEmptyEnv(const StoreConfig& config, const char* name) {
  auto v = EnvOf(config, name);
  return v ? *v : std::string();
}

// $HF_HOME, else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface.
std::string HfHome(const StoreConfig& config) {
  if (std::string home = NonEmptyEnv(config, "HF_HOME"); !home.empty()) return home;
  if (std::string xdg = NonEmptyEnv(config, "XDG_CACHE_HOME"); !xdg.empty()) {
    return xdg + "/huggingface";
  }
  return NonEmptyEnv(config, "HOME") + "/.cache/huggingface";
}

}  // namespace

Result<RepoType> ParseRepoType(std::string_view text) {
  if (text == "model" || text == "models") return RepoType::kModel;
  if (text == "dataset" || text == "datasets") return RepoType::kDataset;
  if (text == "space" || text == "spaces") return RepoType::kSpace;
  return InvalidArgumentError("repo-type: \"" + std::string(text) +
                              "\" is not one of model, dataset, space");
}

std::string_view RepoTypeName(RepoType type) {
  switch (type) {
    case RepoType::kModel:
      return "model";
    case RepoType::kDataset:
      return "dataset";
    case RepoType::kSpace:
      return "space";
  }
  return "model";
}

std::string_view RepoTypePlural(RepoType type) {
  switch (type) {
    case RepoType::kModel:
      return "models";
    case RepoType::kDataset:
      return "datasets";
    case RepoType::kSpace:
      return "spaces";
  }
  return "models";
}

std::string_view RepoTypeUrlPrefix(RepoType type) {
  switch (type) {
    case RepoType::kModel:
      return "";
    case RepoType::kDataset:
      return "datasets/";
    case RepoType::kSpace:
      return "spaces/";
  }
  return "";
}

std::string RepoRef::Display() const { return std::string(RepoTypeUrlPrefix(type)) + id; }

Status ValidateRepoId(std::string_view id) {
  auto bad = [&](const std::string& why) {
    return InvalidArgumentError("repo: \"" + std::string(id) + "\" is not a repository id (" + why +
                                "); expected ORG/NAME, e.g. openai/whisper-large-v3");
  };
  size_t slash = id.find('/');
  if (slash == std::string_view::npos) return bad("no '/'");
  if (id.find('/', slash + 1) != std::string_view::npos) return bad("more than one '/'");
  for (std::string_view part : {id.substr(0, slash), id.substr(slash + 1)}) {
    if (part.empty()) return bad("empty segment");
    if (part.size() > 96) return bad("a segment is longer than 96 characters");
    for (char c : part) {
      if (!IsNameChar(c)) return bad(std::string("character '") + c + "' is not allowed");
    }
    if (part.find("..") != std::string_view::npos) return bad("\"..\" is not allowed");
    if (part.front() == '-' || part.front() == '.' || part.back() == '-' || part.back() == '.') {
      return bad("a segment starts or ends with '-' or '.'");
    }
  }
  return Status();
}

Status CheckTokenText(std::string_view token, const std::string& source) {
  for (char c : token) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      // The value is never shown: naming where it came from is enough to fix it.
      return InvalidArgumentError("the Hugging Face token from " + source +
                                  " contains a control character (CR, LF, TAB, ...); a token "
                                  "is a single line of printable characters");
    }
  }
  return Status();
}

Result<std::string> ReadTokenFile(const std::string& path, const std::string& source) {
  // O_NONBLOCK: a FIFO without a writer must not hang the open; it is refused below anyway.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return ErrnoToStatus(errno, source + ": cannot read " + path);
  io::File file(fd, path);
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoToStatus(errno, source + ": cannot read " + path);
  if (!S_ISREG(st.st_mode)) {
    return InvalidArgumentError(source + ": " + path + " is not a regular file" +
                                (S_ISDIR(st.st_mode) ? " (a directory)" : ""));
  }
  constexpr off_t kMaxTokenFile = 64 << 10;
  if (st.st_size > kMaxTokenFile) {
    return InvalidArgumentError(source + ": " + path + " is " + std::to_string(st.st_size) +
                                " bytes, too large for a token file");
  }
  std::string text(static_cast<size_t>(st.st_size), '\0');
  DC_ASSIGN_OR_RETURN(size_t n,
                      file.ReadAt(0, {reinterpret_cast<uint8_t*>(text.data()), text.size()}));
  text.resize(n);
  // One line ending, as `echo` (or an editor) leaves it; anything else is part of the value.
  if (text.size() >= 2 && text.compare(text.size() - 2, 2, "\r\n") == 0) {
    text.resize(text.size() - 2);
  } else if (!text.empty() && text.back() == '\n') {
    text.pop_back();
  }
  RegisterSecretForRedaction(text);
  DC_RETURN_IF_ERROR(CheckTokenText(text, source + " (" + path + ")"));
  return TrimSpaces(text);
}

Result<Secret<std::string>> FindToken(const StoreConfig& config, std::string* source) {
  source->clear();
  auto found = [&](std::string t, std::string from) -> Result<Secret<std::string>> {
    RegisterSecretForRedaction(t);
    DC_RETURN_IF_ERROR(CheckTokenText(t, from));
    t = TrimSpaces(t);
    if (!t.empty()) *source = std::move(from);
    return Secret<std::string>(std::move(t));
  };
  if (std::string t = OptionOf(config, "token"); !TrimSpaces(t).empty()) {
    return found(std::move(t), "the token option");
  }
  if (std::string t = NonEmptyEnv(config, "HF_TOKEN"); !TrimSpaces(t).empty()) {
    return found(std::move(t), "HF_TOKEN");
  }
  std::string path = NonEmptyEnv(config, "HF_TOKEN_PATH");
  bool explicit_path = !path.empty();
  if (!explicit_path) path = HfHome(config) + "/token";
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) {
    if (explicit_path) {
      return NotFoundError("HF_TOKEN_PATH names " + path + ", which cannot be read");
    }
    return Secret<std::string>();  // no token anywhere: anonymous access
  }
  DC_ASSIGN_OR_RETURN(std::string t,
                      ReadTokenFile(path, explicit_path ? "HF_TOKEN_PATH" : "the token file"));
  if (t.empty()) return Secret<std::string>();
  *source = path;
  return Secret<std::string>(t);
}

Result<HubOptions> HubOptionsFromConfig(const Location& location, const StoreConfig& config) {
  HubOptions o;
  if (std::string ep = NonEmptyEnv(config, "HF_ENDPOINT"); !ep.empty()) o.endpoint = ep;
  for (char c : o.endpoint) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return InvalidArgumentError("HF_ENDPOINT contains a space or control character");
    }
  }
  while (!o.endpoint.empty() && o.endpoint.back() == '/') o.endpoint.pop_back();
  if (o.endpoint.rfind("http://", 0) != 0 && o.endpoint.rfind("https://", 0) != 0) {
    return InvalidArgumentError("HF_ENDPOINT: \"" + o.endpoint +
                                "\" must start with https:// (or http:// for a local server)");
  }

  o.repo.id = location.repo.empty() ? Trim(OptionOf(config, "repo")) : location.repo;
  DC_RETURN_IF_ERROR(ValidateRepoId(o.repo.id));
  DC_ASSIGN_OR_RETURN(o.repo.type, ParseRepoType(location.repo_type.empty() ? std::string("model")
                                                                            : location.repo_type));
  if (std::string t = Trim(OptionOf(config, "repo-type")); !t.empty()) {
    DC_ASSIGN_OR_RETURN(RepoType from_option, ParseRepoType(t));
    // The location parser reports "model" when no prefix was written, so only a non-model
    // prefix can conflict with the option.
    if (o.repo.type != RepoType::kModel && o.repo.type != from_option) {
      return InvalidArgumentError("repo-type: \"" + t + "\" contradicts the location " +
                                  location.ToString());
    }
    o.repo.type = from_option;
  }

  std::string rev_option = Trim(OptionOf(config, "revision"));
  if (!location.revision.empty() && !rev_option.empty() && location.revision != rev_option) {
    return InvalidArgumentError("revision: \"" + rev_option + "\" contradicts @" +
                                location.revision + " in " + location.ToString());
  }
  o.revision = !location.revision.empty() ? location.revision
               : !rev_option.empty()      ? rev_option
                                          : std::string(kDefaultRevision);

  std::string source;
  DC_ASSIGN_OR_RETURN(o.token, FindToken(config, &source));
  o.token_source = source;
  o.transport = http::TransportOptionsFromEnv(
      [&config](const std::string& name) { return EnvOf(config, name); });
  o.transport.user_agent = "datacube (+https://huggingface.co/docs/hub/api)";
  return o;
}

Result<Location> LocationFromOptions(const StoreConfig& config) {
  std::string repo = Trim(OptionOf(config, "repo"));
  if (repo.empty()) return InvalidArgumentError("repo: required (e.g. openai/whisper-large-v3)");
  DC_RETURN_IF_ERROR(ValidateRepoId(repo));
  Location loc;
  loc.scheme = Scheme::kHuggingFace;
  loc.repo = repo;
  loc.repo_type = "model";
  if (std::string t = Trim(OptionOf(config, "repo-type")); !t.empty()) {
    DC_ASSIGN_OR_RETURN(RepoType type, ParseRepoType(t));
    loc.repo_type = std::string(RepoTypeName(type));
  }
  loc.revision = Trim(OptionOf(config, "revision"));
  return loc;
}

std::string DefaultHubCacheDir(const StoreConfig& config) {
  if (std::string v = NonEmptyEnv(config, "HF_HUB_CACHE"); !v.empty()) return v;
  if (std::string v = NonEmptyEnv(config, "HUGGINGFACE_HUB_CACHE"); !v.empty()) return v;
  return HfHome(config) + "/hub";
}

std::vector<std::string> SplitFilesOption(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string item = Trim(text.substr(start, comma - start));
    while (!item.empty() && item.front() == '/') item.erase(0, 1);
    if (!item.empty()) out.push_back(std::move(item));
    start = comma + 1;
  }
  return out;
}

}  // namespace datacube::storage::hf
