// Command-line flags of the storage backends. Each flag fills one entry of
// StoreConfig::options under the same name a DataCube spec uses for it, so the CLI and
// `datacube run` configure backends identically. Backends read their options in their own
// Options::FromConfig and report unknown or invalid values by option name.
#include "datacube/cli/common.h"
#include "datacube/cli/git_copy.h"
#include "datacube/cli/hf_copy.h"

namespace datacube::cli {

void AddBackendFlags(CLI::App& app) {
  AddGitFlags(app);
  AddHfFlags(app);
  (void)app;  // backends add their flags here as they land
}

}  // namespace datacube::cli
