// Hugging Face on the command line (docs/huggingface.md):
//
//   datacube cp hf://[datasets/]org/name[@rev][/path] DIR     download (plain files, verified)
//   datacube cp DIR hf://org/name[@branch][/path-in-repo]     upload as commits (one session)
//   datacube hf download org/name [FILE...] (--local-dir DIR | --cache-dir DIR)
//   datacube hf upload org/name LOCAL [PATH_IN_REPO] [--commit-message M] [--create-repo] ...
//
// Backend flags (top level, also after the subcommand): --token, --token-file, --revision,
// --repo-type. They fill StoreConfig options of the same names a DataCube spec uses. A token on
// the command line is visible to other local users in the process list: prefer HF_TOKEN,
// --token-file or the token file huggingface_hub writes ($HF_HOME/token).
#pragma once

#include <CLI/CLI.hpp>

#include "datacube/cli/common.h"
#include "datacube/location/location.h"

namespace datacube::cli {

// --token, --token-file, --revision, --repo-type on the top-level app.
void AddHfFlags(CLI::App& app);

}  // namespace datacube::cli
