// From a validated, resolved DataCube to what the engine runs: two locations, their store
// configurations and the transfer options.
//
//   pvc          -> pvc://NAME/subPath under --pvc-root
//   s3           -> the s3-uri; s3-* options go to the S3 backend under the same names
//   huggingface  -> hf://[datasets/|spaces/]ORG/NAME[@revision][/path-in-repo]
//   git          -> git+https://host/owner/repo.git@ref, for display; the git module gets the
//                   `url` option as written and takes a token out of its user information (the
//                   DataCube guide's https://$(TOKEN)@host/...) itself. The PVC side is the parent
//                   directory; the repository is <subPath>/<repo> (attempt.h).
//
// executor.env applies through StoreConfig::getenv, without touching the process environment.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "datacube/cube/cube.h"
#include "datacube/cube/extra_args.h"
#include "datacube/cube/resolve.h"
#include "datacube/location/location.h"
#include "datacube/transfer/job.h"

namespace datacube::cube {

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

struct CubeTransfer {
  Location source;
  Location sink;
  // The same configuration serves both sides: the PVC root, the service's options, the env.
  transfer::StoreConfig config;
  // Without a stop token; the runner adds one per attempt.
  transfer::TransferOptions options;
  // "<pvc-root>/<name>": the volume as mounted.
  std::string pvc_volume_dir;
  // The PVC side is the sink and has a template: create the volume when it does not exist.
  bool create_pvc_if_missing = false;
  bool pvc_is_sink = false;
};

struct PlanContext {
  std::string pvc_root;   // --pvc-root; empty: DATACUBE_PVC_ROOT from process_env
  EnvLookup process_env;  // unset: std::getenv
};

// Environment seen by the transfer: executor.env first, then the process environment. Setting
// either case of a proxy variable (HTTPS_PROXY / https_proxy, ...) in executor.env hides both
// cases of the process's, because HTTP clients prefer the lower-case one.
EnvLookup MakeTransferEnv(std::map<std::string, std::string> env, EnvLookup process_env);

// Maps the cube. Errors are kInvalidArgument naming the option (a URI that does not parse after
// expansion) or the missing PVC root.
Result<CubeTransfer> PlanCubeTransfer(const DataCube& cube, const ResolvedCube& resolved,
                                      const ExtraArgs& extra_args, const PlanContext& context);

// Removes the userinfo of an http(s) URL and returns the token in it ("user:token" -> token,
// "token" -> token), or "" when there is none.
std::string TakeUrlToken(std::string& url);

}  // namespace datacube::cube
