#include "datacube/storage/memory/memory_store.h"

#include <gtest/gtest.h>

#include "datacube/storage/testing/conformance.h"

namespace datacube::storage {
namespace {

const bool registered = [] {
  ConformanceParams p;
  p.name = "Memory";
  p.make_store = [] { return std::make_shared<MemoryStore>(); };
  RegisterObjectStoreConformanceTests(p);
  return true;
}();

TEST(MemoryStoreTest, HelpersSeeWhatTheInterfaceWrote) {
  MemoryStore store;
  store.SetObject("a", "1");
  EXPECT_EQ(store.GetObject("a"), "1");
  EXPECT_EQ(store.Keys(), std::vector<std::string>{"a"});
  EXPECT_FALSE(store.GetObject("b").has_value());
}

}  // namespace
}  // namespace datacube::storage
