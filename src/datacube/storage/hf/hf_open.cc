#include "datacube/storage/hf/hf_open.h"

#include "datacube/storage/hf/hf_store.h"

namespace datacube::storage::hf {

Result<StoreRef> OpenHfLocation(const Location& location, const StoreConfig& config,
                                OpenMode mode) {
  DC_ASSIGN_OR_RETURN(HubOptions hub, HubOptionsFromConfig(location, config));
  HfStoreOptions o;
  o.hub = std::move(hub);
  // Resolved on first use, not here: opening stays free of network calls (validation probes
  // open every type), and the first listing or Stat reports a missing repo or revision.
  o.pin_at_open = false;
  (void)mode;
  auto files = config.options.find("files");
  if (files != config.options.end()) o.only_files = SplitFilesOption(files->second);
  auto message = config.options.find("commit-message");
  if (message != config.options.end()) o.commit_message = message->second;
  StoreRef ref;
  ref.location = location;
  ref.key = location.path;
  if (mode == OpenMode::kWriteTree && !ref.key.empty() && ref.key.back() != '/') ref.key += '/';
  DC_ASSIGN_OR_RETURN(ref.store, HfStore::Open(std::move(o)));
  return ref;
}

}  // namespace datacube::storage::hf
