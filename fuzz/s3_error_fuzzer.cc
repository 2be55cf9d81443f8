// S3 error answers: the <Error> document and the headers of a failed (or 2xx-with-error) response,
// mapped to a Status for every status code class the mapping distinguishes, plus the wrong-region
// hint. Input: optional "Name: value" header lines, an empty line, then the body (fuzz_input.h).
#include <cstddef>
#include <cstdint>
#include <string>

#include "datacube/storage/s3/s3_errors.h"
#include "fuzz_input.h"

using namespace datacube;
using namespace datacube::storage::s3;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  S3ErrorContext ctx;
  ctx.action = "reading";
  ctx.url = "s3://bucket/key";
  ctx.bucket = "bucket";
  ctx.key = "key";
  ctx.endpoint = "http://127.0.0.1:9";
  ctx.region = "us-east-1";
  ctx.credentials_source = "environment";
  for (int status :
       {200, 206, 301, 307, 400, 403, 404, 405, 408, 409, 412, 416, 429, 500, 501, 503, 504}) {
    http::HttpResponse r = fuzz::ParseResponseText(fuzz::AsText(data, size), status);
    Status s = S3ResponseToStatus(r, ctx);
    fuzz::Check(r.ok() || !s.ok(), "a non-2xx response is never OK");
    (void)WrongRegionHint(r);
  }
  (void)S3TransportErrorToStatus(UnavailableError("connection reset"), ctx);
  return 0;
}
