// The AWS shared configuration files (~/.aws/credentials and ~/.aws/config), read the way the
// AWS CLI and SDKs read them, so a user's existing set-up (profiles, region, endpoint_url,
// CoreWeave's "s3 = / addressing_style = virtual") works unchanged.
//
//   [default]                      credentials file: sections are bare profile names
//   aws_access_key_id = AKIA...
//   [profile cw]                   config file: "profile NAME" (except [default])
//   region = US-EAST-04A
//   s3 =                           a sub-section: indented lines below a key with no value
//     addressing_style = virtual   -> key "s3.addressing_style"
//
// Values are returned as written; secrets among them are wrapped by the caller.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "datacube/base/result.h"

namespace datacube::storage::s3 {

// Profile name -> key -> value. Keys are lower-case; sub-section keys are "parent.child".
using AwsIniFile = std::map<std::string, std::map<std::string, std::string>>;

// Parses the text of a credentials file (config_file=false) or a config file (true; section
// "[profile NAME]" names profile NAME, "[default]" the default profile, other section kinds such
// as "[sso-session x]" are skipped). Lines starting with '#' or ';' are comments. Errors name
// the line number.
Result<AwsIniFile> ParseAwsIni(std::string_view text, bool config_file);

// The settings of one profile, merged from both files (the credentials file wins for keys
// present in both, as in the AWS CLI).
struct AwsProfile {
  std::string name;
  std::map<std::string, std::string> values;
  // Files that were read, for messages ("~/.aws/credentials, ~/.aws/config").
  std::string sources;
  // True when either file had a section for this profile.
  bool found = false;

  // The value of `key`, or empty.
  std::string Get(const std::string& key) const;
};

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// Loads profile `name` (empty: AWS_PROFILE, then "default") from AWS_SHARED_CREDENTIALS_FILE
// (default $HOME/.aws/credentials) and AWS_CONFIG_FILE (default $HOME/.aws/config). Missing files
// are fine. A profile that was asked for by name but exists in neither file is kNotFound naming
// both files; an unreadable or malformed file is kInvalidArgument naming the file and line.
Result<AwsProfile> LoadAwsProfile(const std::string& name, const EnvLookup& env);

}  // namespace datacube::storage::s3
