// The cases S3ResponseToStatus (s3_errors.h) tells apart, as a table: the error codes and HTTP
// statuses each covers, the Status code it becomes, whether that is retried, and what the
// message tells the user. Internal to storage/s3: s3_errors.cc reads it, s3_error_table_test.cc
// checks it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "datacube/base/status.h"
#include "datacube/http/http_transport.h"
#include "datacube/storage/s3/s3_errors.h"

namespace datacube::storage::s3 {

// What the rules look at in one error response.
struct ErrorFacts {
  ErrorFacts(const http::HttpResponse& r, const S3ErrorContext& c) : response(r), context(c) {}

  const http::HttpResponse& response;
  const S3ErrorContext& context;
  bool has_document = false;    // the body is an S3 <Error> document
  std::string code;             // its <Code>
  std::string server_message;   // its <Message>, clipped for logs
  std::string server_endpoint;  // its <Endpoint> (where a redirect points)
};

struct ErrorRule {
  // The rule applies when the error code is one of `codes`, the HTTP status is one of
  // `statuses`, or `applies` says so.
  std::vector<std::string_view> codes;
  std::vector<int> statuses;
  StatusCode result;
  // Whether IsRetryable retries `result`: stated here for the reader, checked by the test.
  bool retried;
  // What happened and what to do. {creds} stands for " (from <credentials source>)", {bucket}
  // and {endpoint} for the context's, {: server_message} for ": <the server's message>" and
  // {server_time} for " (server time: <Date header>)"; each is empty when its value is.
  std::string_view message;
  bool (*applies)(const ErrorFacts&) = nullptr;
  // Says the message where the template cannot.
  std::string (*describe)(const ErrorFacts&) = nullptr;
};

// The rules in the order they are tried; the first that applies decides.
const std::vector<ErrorRule>& ErrorRules();

// `message` with its placeholders filled in from `facts` (see ErrorRule::message).
std::string ExpandErrorMessage(std::string_view message, const ErrorFacts& facts);

}  // namespace datacube::storage::s3
