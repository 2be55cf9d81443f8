// presign: print a URL that lets anyone holding it download (GET) or upload (PUT) one object
// until it expires, e.g. for curl or a browser. Nothing is sent to the server: the URL is signed
// locally with the store's credentials (S3 SigV4 query authentication for s3://, cw://, gs://).
#include <cstdio>

#include "datacube/base/units.h"
#include "datacube/cli/commands.h"
#include "datacube/cli/common.h"
#include "datacube/location/location.h"
#include "datacube/transfer/registry.h"

namespace datacube::cli {
namespace {

struct PresignFlags {
  std::string location;
  std::string expires = "1h";
  std::string method = "GET";
};

int RunPresign(const PresignFlags& f) {
  auto loc = ParseLocation(f.location);
  if (!loc.ok()) return ReportError(loc.status());
  auto duration = ParseDuration(f.expires);
  if (!duration.ok()) return ReportError(duration.status().WithContext("--expires"));
  if (duration->count() % 1000 != 0 || duration->count() < 1000) {
    return ReportError(InvalidArgumentError("--expires: \"" + f.expires +
                                            "\" must be a whole number of seconds, at least 1"));
  }
  std::string method = f.method;
  for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto ref = transfer::OpenLocation(*loc, MakeStoreConfig(), transfer::OpenMode::kRead);
  if (!ref.ok()) return ReportError(ref.status());
  if (ref->key.empty() || ref->key.back() == '/') {
    return ReportError(InvalidArgumentError(f.location +
                                            " names a bucket or folder; presign "
                                            "needs one object, e.g. s3://bucket/path/file.bin"));
  }
  if (!ref->store->capabilities().presign) {
    return ReportError(InvalidArgumentError(
        "cannot presign " + f.location +
        ": this store has no presigned URLs (or no credentials to sign with)"));
  }
  auto url = ref->store->Presign(ref->key, method, duration->count() / 1000);
  if (!url.ok()) return ReportError(url.status());
  std::printf("%s\n", url->c_str());
  return kExitOk;
}

}  // namespace

void RegisterPresignCommand(CLI::App& app) {
  static PresignFlags flags;
  auto* cmd = app.add_subcommand(
      "presign",
      "Print a presigned URL for one object (s3://, cw://, gs://) that curl can use; nothing is "
      "sent to the server");
  cmd->add_option("location", flags.location, "The object, e.g. s3://bucket/dir/file.bin")
      ->required();
  cmd->add_option("--expires,-e", flags.expires,
                  "How long the URL is valid: seconds or a duration (900, 15m, 1h, 7d); at most "
                  "7 days (default 1h)");
  cmd->add_option("--method,-X", flags.method, "GET to download (default) or PUT to upload")
      ->check(CLI::IsMember({"GET", "PUT"}, CLI::ignore_case));
  cmd->callback([] { SetExitCode(RunPresign(flags)); });
}

}  // namespace datacube::cli
