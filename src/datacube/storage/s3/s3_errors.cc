#include "datacube/storage/s3/s3_errors.h"

#include <algorithm>

#include "datacube/storage/s3/s3_error_table.h"

namespace datacube::storage::s3 {
namespace {

std::string Suffix(int status, const std::string& code, const std::string& request_id,
                   const S3ErrorContext& ctx) {
  std::string s = " (HTTP " + std::to_string(status);
  if (!code.empty()) s += " " + code;
  if (!request_id.empty()) s += ", request id " + request_id;
  if (!ctx.endpoint.empty()) s += ", endpoint " + ctx.endpoint;
  return s + ")";
}

std::string Clip(std::string s) {
  constexpr size_t kMaxServerMessage = 300;  // enough for any S3 message, bounded for logs
  if (s.size() > kMaxServerMessage) s = s.substr(0, kMaxServerMessage) + "...";
  return s;
}

bool Applies(const ErrorRule& rule, const ErrorFacts& f) {
  return std::find(rule.codes.begin(), rule.codes.end(), f.code) != rule.codes.end() ||
         std::find(rule.statuses.begin(), rule.statuses.end(), f.response.status) !=
             rule.statuses.end() ||
         (rule.applies != nullptr && rule.applies(f));
}

// An answer no rule covers: the server refused, for reasons its message (if any) may say.
std::pair<StatusCode, std::string> Unexplained(const ErrorFacts& f) {
  std::string what = "the server refused the request" +
                     (f.server_message.empty() ? std::string() : ": " + f.server_message);
  const int status = f.response.status;
  switch (status) {
    case 401:
      return {StatusCode::kUnauthenticated, what};
    case 403:
      return {StatusCode::kPermissionDenied, what};
    case 409:
      return {StatusCode::kAborted, what};
    default:
      if (status >= 200 && status < 300) return {StatusCode::kUnknown, what};
      return {
          status >= 400 && status < 500 ? StatusCode::kFailedPrecondition : StatusCode::kUnknown,
          what};
  }
}

// The Status code and the message (what happened, what to do) of an error response.
std::pair<StatusCode, std::string> Classify(const ErrorFacts& f) {
  for (const ErrorRule& rule : ErrorRules()) {
    if (!Applies(rule, f)) continue;
    return {rule.result, rule.describe ? rule.describe(f) : ExpandErrorMessage(rule.message, f)};
  }
  return Unexplained(f);
}

}  // namespace

std::optional<std::string> WrongRegionHint(const http::HttpResponse& r) {
  auto doc = ParseErrorDocument(r.body);
  std::string code = doc ? doc->code : "";
  bool redirect = r.status == 301 || r.status == 307 || code == "PermanentRedirect" ||
                  code == "TemporaryRedirect";
  bool malformed =
      code == "AuthorizationHeaderMalformed" || code == "IllegalLocationConstraintException";
  // A HEAD has no body: a 301 or 400 with x-amz-bucket-region is the only clue.
  bool head_hint = (r.status == 400 || r.status == 403) && !doc;
  if (!redirect && !malformed && !head_hint) return std::nullopt;
  if (auto h = r.Header("x-amz-bucket-region"); h && !h->empty()) return *h;
  if (doc && !doc->region.empty()) return doc->region;
  return std::nullopt;
}

Status S3TransportErrorToStatus(const Status& error, const S3ErrorContext& ctx) {
  if (error.ok()) return error;
  std::string hint;
  if (error.code() == StatusCode::kUnavailable)
    hint = " (will retry; check that the endpoint is reachable)";
  if (error.code() == StatusCode::kFailedPrecondition) {
    hint =
        " (TLS: set --ca-bundle or AWS_CA_BUNDLE to the CA that signed the server's certificate)";
  }
  return Status(error.code(), ctx.action + " " + ctx.url + " at " + ctx.endpoint + ": " +
                                  std::string(error.message()) + hint);
}

Status S3ResponseToStatus(const http::HttpResponse& r, const S3ErrorContext& ctx) {
  std::optional<S3ErrorDocument> doc;
  if (!r.body.empty()) doc = ParseErrorDocument(r.body);
  if (r.ok() && !doc) return Status();

  ErrorFacts facts(r, ctx);
  std::string request_id;
  if (doc) {
    facts.has_document = true;
    facts.code = doc->code;
    facts.server_message = Clip(doc->message);
    facts.server_endpoint = doc->endpoint;
    request_id = doc->request_id;
  }
  if (request_id.empty()) request_id = r.Header("x-amz-request-id").value_or("");
  auto [code, what] = Classify(facts);
  return Status(code, ctx.action + " " + ctx.url + ": " + what +
                          Suffix(r.status, facts.code, request_id, ctx));
}

}  // namespace datacube::storage::s3
