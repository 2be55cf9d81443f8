// Hugging Face Hub answers: the JSON of tree pages, paths-info, revision info, preupload, the LFS
// batch API and commits, the error mapping (X-Error-Code, {"error": ...}, Retry-After) and the
// Link header of paginated listings. Every API call is answered with the same input through a
// mock transport; nothing leaves the process.
//
// Input: optional "Name: value" header lines, an empty line, then the body (fuzz_input.h).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "datacube/http/testing/mock_http_transport.h"
#include "datacube/storage/hf/hub_client.h"
#include "datacube/storage/hf/hub_errors.h"
#include "fuzz_input.h"

using namespace datacube;
using namespace datacube::storage::hf;

namespace {

HubOptions Options() {
  HubOptions o;
  o.endpoint = "http://127.0.0.1:9";
  o.repo.type = RepoType::kModel;
  o.repo.id = "org/name";
  o.retry.max_attempts = 1;  // answers are the same every time; retrying only costs time
  o.max_retry_after = std::chrono::seconds(0);
  return o;
}

void CallEveryApi(const http::HttpResponse& answer) {
  auto transport = std::make_shared<http::MockHttpTransport>();
  transport->SetHandler([&](const http::HttpRequest&,
                            const std::string&) -> Result<http::HttpResponse> { return answer; });
  HubClient client(Options(), transport);

  size_t entries = 0;
  (void)client.ListTree("main", "", /*recursive=*/true, [&](TreeEntry e) {
    ++entries;
    fuzz::Check(!e.path.empty(), "a listed entry has a path");
    return Status();
  });
  (void)client.PathsInfo("main", {"a.json", "b/c.bin"});
  (void)client.GetRepoInfo("main");
  (void)client.Preupload("main", {{"a.json", 12, "{\"a\": 1}\n"}}, /*create_pr=*/false);
  std::string oid(64, 'a');
  (void)client.LfsBatchUpload("main", {{oid, 1u << 20}}, /*create_pr=*/false);
  (void)client.Commit("main", "summary", "", /*parent_commit=*/"",
                      {{CommitOperation::Kind::kLfsFile, "b/c.bin", "", oid, 1u << 20}},
                      /*create_pr=*/false);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = fuzz::AsText(data, size);
  CallEveryApi(fuzz::ParseResponseText(text, 200));

  ErrorContext ctx;
  ctx.action = "downloading";
  ctx.endpoint = "http://127.0.0.1:9";
  ctx.repo = Options().repo;
  ctx.revision = "main";
  ctx.path = "a.json";
  ctx.url = "http://127.0.0.1:9/org/name/resolve/main/a.json?X-Amz-Signature=s";
  for (int status : {200, 400, 401, 403, 404, 409, 412, 416, 429, 500, 503}) {
    http::HttpResponse r = fuzz::ParseResponseText(text, status);
    Status s = HubErrorToStatus(r, ctx);
    fuzz::Check(r.ok() || !s.ok(), "a non-2xx Hub answer is never OK");
    (void)RetryAfter(r);
    (void)NextPageUrl(r);
  }
  return 0;
}
