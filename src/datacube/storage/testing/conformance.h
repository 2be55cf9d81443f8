// The conformance suite every ObjectStore backend registers: the same tests for every backend,
// with capability knobs instead of `if (backend == ...)`, so the contract of object_store.h is
// checked once and holds everywhere.
//
//   TEST registration, in a backend's test file:
//     static bool registered = [] {
//       ConformanceParams p;
//       p.name = "Local";
//       p.make_store = [] { return ...fresh empty store... };
//       RegisterObjectStoreConformanceTests(p);
//       return true;
//     }();
//
// Each test gets a fresh store from make_store (for shared servers, a fresh bucket or prefix).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "datacube/storage/object_store.h"

namespace datacube::storage {

struct ConformanceParams {
  // Test-name prefix, e.g. "Local" -> "Local/Conformance.PutStatRead".
  std::string name;
  // Returns a store with no objects under key_prefix.
  std::function<std::shared_ptr<ObjectStore>()> make_store;
  // Every key used by the tests is below this prefix ("" or ending in '/').
  std::string key_prefix;
  // Part size for multipart tests; must satisfy the store's minimum (S3: 5 MiB).
  uint64_t part_size = 64 << 10;
  // Keys with spaces, UTF-8 and URL-special characters.
  bool test_special_characters = true;
  // Object size used by the "large object" test.
  uint64_t large_object_size = 3 << 20;
};

void RegisterObjectStoreConformanceTests(const ConformanceParams& params);

}  // namespace datacube::storage
