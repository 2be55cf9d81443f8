// Locations as users and specs write them (pvc://, s3://, hf://, git+https://, paths, ...), and
// the percent-encoding helpers. Properties the header promises: ParseLocation(ToString()) yields
// an equal Location, and PercentDecode undoes PercentEncode.
#include <cstddef>
#include <cstdint>
#include <string>

#include "datacube/location/location.h"
#include "fuzz_input.h"

using namespace datacube;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = fuzz::AsText(data, size);
  if (auto loc = ParseLocation(text); loc.ok()) {
    std::string canonical = loc->ToString();
    auto again = ParseLocation(canonical);
    fuzz::Check(again.ok(), "the canonical form of a location parses");
    fuzz::Check(*again == *loc, "ParseLocation(ToString()) is the same location");
  }
  for (bool keep_slash : {false, true}) {
    std::string encoded = PercentEncode(text, keep_slash);
    auto decoded = PercentDecode(encoded);
    fuzz::Check(decoded.ok() && *decoded == text, "PercentDecode undoes PercentEncode");
  }
  (void)PercentDecode(text);
  return 0;
}
