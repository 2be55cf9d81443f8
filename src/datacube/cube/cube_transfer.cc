#include "datacube/cube/cube_transfer.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "datacube/base/secret.h"

namespace datacube::cube {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool IsProxyVariable(const std::string& lower) {
  return lower == "http_proxy" || lower == "https_proxy" || lower == "no_proxy" ||
         lower == "all_proxy";
}

// "dev/git/" -> "dev/git"; "./a//b" -> "a/b".
std::string CleanSubPath(std::string_view sub) {
  std::string out;
  size_t i = 0;
  while (i < sub.size()) {
    size_t slash = sub.find('/', i);
    std::string_view part = sub.substr(i, slash == std::string_view::npos ? sub.npos : slash - i);
    if (!part.empty() && part != ".") {
      if (!out.empty()) out += '/';
      out += part;
    }
    if (slash == std::string_view::npos) break;
    i = slash + 1;
  }
  return out;
}

std::string Option(const ResolvedCube& r, const std::string& name, std::string fallback = "") {
  auto it = r.options.find(name);
  return it == r.options.end() ? fallback : it->second;
}

Result<Location> GitLocation(const ResolvedCube& r, bool is_sink) {
  // The git module takes the URL as written (it moves user information out of it itself); the
  // Location, which is printed, never holds it.
  std::string url = Option(r, "url");
  std::string clean = url;
  std::string token = TakeUrlToken(clean);
  if (!token.empty()) RegisterSecretForRedaction(token);
  bool tls = clean.rfind("https://", 0) == 0;
  std::string rest = clean.substr(clean.find("://") + 3);
  size_t slash = rest.find('/');
  Location loc;
  loc.scheme = Scheme::kGit;
  loc.tls = tls;
  loc.authority = rest.substr(0, slash);
  loc.repo = slash == std::string::npos ? "" : rest.substr(slash + 1);
  while (!loc.repo.empty() && loc.repo.back() == '/') loc.repo.pop_back();
  if (loc.authority.empty() || loc.repo.empty()) {
    return InvalidArgumentError("option \"url\": \"" + clean +
                                "\" must name a host and a repository");
  }
  if (!is_sink) loc.revision = Option(r, "ref", "master");
  return loc;
}

Result<Location> ServiceLocation(const Endpoint& e, const ResolvedCube& r) {
  bool is_sink = e.path == "spec.sink";
  switch (*e.type) {
    case EndpointType::kS3: {
      std::string uri = Option(r, "s3-uri");
      auto loc = ParseLocation(uri);
      if (!loc.ok() || loc->scheme != Scheme::kS3) {
        return InvalidArgumentError("option \"s3-uri\": \"" + uri + "\" is not s3://bucket/path");
      }
      return *loc;
    }
    case EndpointType::kHuggingFace: {
      Location loc;
      loc.scheme = Scheme::kHuggingFace;
      loc.repo = Option(r, "repo");
      loc.repo_type = Option(r, "repo-type", "model");
      loc.revision = Option(r, "revision");
      if (is_sink) loc.path = CleanSubPath(Option(r, "path-in-repo"));
      return loc;
    }
    case EndpointType::kGit:
      return GitLocation(r, is_sink);
    case EndpointType::kPvc:
      break;
  }
  return InternalError("not a service endpoint");
}

// Hugging Face `files`: besides passing the option to the backend (which may list only those),
// select exactly those paths in the engine, so the cube downloads what it names whatever the
// backend does. Names with glob characters are left to the backend.
Status AddFileFilters(const std::string& files, transfer::TransferOptions& options) {
  size_t start = 0;
  while (start <= files.size()) {
    size_t comma = files.find(',', start);
    std::string f = files.substr(start, comma == std::string::npos ? files.npos : comma - start);
    f.erase(0, f.find_first_not_of(' '));
    f.erase(f.find_last_not_of(' ') + 1);
    if (!f.empty() && f.find_first_of("*?[]{}") == std::string::npos) {
      DC_RETURN_IF_ERROR(options.filter.AddInclude("/" + f));
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return Status();
}

}  // namespace

EnvLookup MakeTransferEnv(std::map<std::string, std::string> env, EnvLookup process_env) {
  return [env = std::move(env), process_env = std::move(process_env)](
             const std::string& name) -> std::optional<std::string> {
    if (auto it = env.find(name); it != env.end()) return it->second;
    std::string lower = Lower(name);
    if (IsProxyVariable(lower)) {
      for (const auto& [k, v] : env) {
        if (Lower(k) == lower) return v;
      }
    }
    if (process_env) return process_env(name);
    const char* v = std::getenv(name.c_str());
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
}

std::string TakeUrlToken(std::string& url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return "";
  size_t start = scheme_end + 3;
  size_t end = url.find('/', start);
  size_t at = url.rfind('@', end == std::string::npos ? url.npos : end);
  if (at == std::string::npos || at < start) return "";
  std::string userinfo = url.substr(start, at - start);
  url.erase(start, at - start + 1);
  size_t colon = userinfo.find(':');
  return colon == std::string::npos ? userinfo : userinfo.substr(colon + 1);
}

Result<CubeTransfer> PlanCubeTransfer(const DataCube& cube, const ResolvedCube& resolved,
                                      const ExtraArgs& extra_args, const PlanContext& context) {
  const Endpoint* service = cube.service();
  const Endpoint* pvc_side = cube.pvc_side();
  if (service == nullptr || pvc_side == nullptr || !pvc_side->pvc) {
    return InvalidArgumentError("exactly one of spec.source and spec.sink must be a pvc");
  }
  CubeTransfer t;
  t.pvc_is_sink = pvc_side == &cube.sink;
  EnvLookup process_env = context.process_env;
  t.config.getenv = MakeTransferEnv(resolved.env, process_env);
  t.config.options = resolved.options;
  if (!extra_args.cache_dir.empty()) t.config.options["cache-dir"] = extra_args.cache_dir;
  // The PVC root is the operator's: --pvc-root, else DATACUBE_PVC_ROOT of the process, never
  // the cube's executor.env (validation refuses DATACUBE_* names there as well).
  t.config.pvc_root = context.pvc_root;
  if (t.config.pvc_root.empty()) {
    std::optional<std::string> root;
    if (process_env) {
      root = process_env("DATACUBE_PVC_ROOT");
    } else if (const char* v = std::getenv("DATACUBE_PVC_ROOT")) {
      root = v;
    }
    t.config.pvc_root = root.value_or("");
  }
  if (t.config.pvc_root.empty()) {
    return InvalidArgumentError("the cube uses PVC \"" + pvc_side->pvc->name +
                                "\": set --pvc-root or DATACUBE_PVC_ROOT to the directory where "
                                "PVCs are mounted");
  }

  DC_ASSIGN_OR_RETURN(Location service_loc, ServiceLocation(*service, resolved));
  Location pvc_loc;
  pvc_loc.scheme = Scheme::kPvc;
  pvc_loc.authority = pvc_side->pvc->name;
  pvc_loc.path = CleanSubPath(pvc_side->pvc->sub_path);
  t.pvc_volume_dir = t.config.pvc_root + "/" + pvc_side->pvc->name;
  t.create_pvc_if_missing = t.pvc_is_sink && pvc_side->pvc->template_spec.has_value();
  t.source = t.pvc_is_sink ? service_loc : pvc_loc;
  t.sink = t.pvc_is_sink ? pvc_loc : service_loc;

  DC_RETURN_IF_ERROR(ApplyExtraArgs(extra_args, t.options));
  if (*service->type == EndpointType::kHuggingFace && t.pvc_is_sink) {
    std::string files = Option(resolved, "files");
    if (!files.empty()) DC_RETURN_IF_ERROR(AddFileFilters(files, t.options));
  }
  t.options.delete_extra = cube.executor.options.sync;
  t.options.require_checksum = Option(resolved, "require-checksum") == "true";
  return t;
}

}  // namespace datacube::cube
