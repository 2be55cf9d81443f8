#include "datacube/storage/store_config.h"

#include <cstdlib>

namespace datacube::storage {

std::optional<std::string> StoreConfig::Env(const std::string& name) const {
  if (getenv) return getenv(name);
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

std::string StoreConfig::Option(const std::string& name) const {
  auto it = options.find(name);
  return it == options.end() ? std::string() : it->second;
}

}  // namespace datacube::storage
