// Status: condition transitions, the reason taxonomy, and the YAML document (parsed back with
// yaml-cpp, redacted, written atomically).
#include "datacube/cube/status.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>

#include "datacube/base/secret.h"

namespace datacube::cube {
namespace {

TEST(Status, ConditionTransitionsKeepOrderAndTransitionTimes) {
  CubeStatus s;
  s.SetCondition("Failed", false, "Initialized", "", "t1");
  s.SetCondition("Initialized", true, "Initialized", "The DataCube is initialized", "t1");
  s.SetCondition("Complete", false, "Initialized", "", "t1");
  ASSERT_EQ(s.conditions.size(), 3u);
  EXPECT_EQ(s.conditions[0].type, "Initialized");
  EXPECT_EQ(s.conditions[1].type, "Complete");
  EXPECT_EQ(s.conditions[2].type, "Failed");
  s.SetCondition("Failed", false, "Retrying", "attempt 1 failed", "t2");
  EXPECT_EQ(s.FindCondition("Failed")->last_transition_time, "t1");  // still False
  EXPECT_EQ(s.FindCondition("Failed")->last_probe_time, "t2");
  s.SetCondition("Failed", true, "DeadlineExceeded", "late", "t3");
  EXPECT_EQ(s.FindCondition("Failed")->last_transition_time, "t3");
}

TEST(Status, ReasonTaxonomy) {
  EXPECT_EQ(ReasonFor(UnauthenticatedError("x")), "AuthFailed");
  EXPECT_EQ(ReasonFor(PermissionDeniedError("x")), "PermissionDenied");
  EXPECT_EQ(ReasonFor(PermissionDeniedError("policy: egress to eu-west-1 denied")), "EgressDenied");
  EXPECT_EQ(ReasonFor(EgressDeniedError("class secret may not go to s3")), "EgressDenied");
  EXPECT_EQ(ReasonFor(NotFoundError("x")), "NotFound");
  EXPECT_EQ(ReasonFor(DataLossError("x")), "ChecksumMismatch");
  EXPECT_EQ(ReasonFor(UnavailableError("x")), "Unavailable");
  EXPECT_EQ(ReasonFor(ResourceExhaustedError("x")), "InsufficientStorage");
  EXPECT_EQ(ReasonFor(InvalidArgumentError("x")), "InvalidSpec");
  EXPECT_EQ(ReasonFor(CancelledError("x")), "Interrupted");
  EXPECT_EQ(ReasonFor(InternalError("x")), "TransferFailed");
  // A listing the server got wrong is not a checksum mismatch, however it is wrapped.
  EXPECT_EQ(ReasonFor(MalformedResponseError("malformed listing from s3://b/p/")),
            "MalformedResponse");
  EXPECT_EQ(ReasonFor(MalformedResponseError("x").WithContext("listing")), "MalformedResponse");
}

TEST(Status, YamlParsesBackRedactedAndQuoted) {
  RegisterSecretForRedaction("status-secret-9876");
  CubeStatus s;
  s.name = "cube";
  s.namespace_ = "ns";
  s.phase = Phase::kFailed;
  s.attempts = 2;
  s.start_time = "2024-04-25T06:28:38Z";
  s.SetCondition("Initialized", true, "Initialized", "The DataCube is initialized",
                 "2024-04-25T06:28:45Z");
  s.SetCondition("Failed", true, "AuthFailed",
                 "bad key \"status-secret-9876\"\nsecond line: with colon", "2024-04-25T06:28:45Z");
  s.progress = ProgressStatus{10, 20, 1, 2, 5};
  s.result = ResultStatus{"sha256:abc", 2, 20, 1, 1, 0, 0, 10};
  std::string text = StatusToYaml(s);
  EXPECT_EQ(text.find("status-secret-9876"), std::string::npos);
  YAML::Node doc = YAML::Load(text);
  EXPECT_EQ(doc["apiVersion"].as<std::string>(), "tensorstack.dev/v1beta1");
  EXPECT_EQ(doc["kind"].as<std::string>(), "DataCube");
  EXPECT_EQ(doc["metadata"]["name"].as<std::string>(), "cube");
  YAML::Node st = doc["status"];
  EXPECT_EQ(st["phase"].as<std::string>(), "Failed");
  EXPECT_EQ(st["attempts"].as<int>(), 2);
  EXPECT_EQ(st["conditions"][1]["type"].as<std::string>(), "Failed");
  EXPECT_EQ(st["conditions"][1]["status"].as<std::string>(), "True");
  EXPECT_EQ(st["conditions"][1]["reason"].as<std::string>(), "AuthFailed");
  EXPECT_EQ(st["conditions"][1]["message"].as<std::string>(),
            "bad key \"***\"\nsecond line: with colon");
  EXPECT_EQ(st["conditions"][0]["lastTransitionTime"].as<std::string>(), "2024-04-25T06:28:45Z");
  EXPECT_EQ(st["progress"]["bytesTotal"].as<uint64_t>(), 20u);
  EXPECT_EQ(st["progress"]["bytesPerSecond"].as<uint64_t>(), 5u);
  EXPECT_EQ(st["result"]["manifestDigest"].as<std::string>(), "sha256:abc");
  EXPECT_EQ(st["startTime"].as<std::string>(), "2024-04-25T06:28:38Z");
  EXPECT_FALSE(st["pod"]);  // the controller's; omitted locally
}

TEST(Status, Rfc3339) {
  EXPECT_EQ(FormatRfc3339(std::chrono::system_clock::from_time_t(1714026525)),
            "2024-04-25T06:28:45Z");
}

TEST(Status, WritesAtomically) {
  auto dir = std::filesystem::temp_directory_path() / ("status-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "status.yaml").string();
  CubeStatus s;
  s.name = "a";
  ASSERT_TRUE(WriteStatusFile(path, s).ok());
  s.phase = Phase::kRunning;
  ASSERT_TRUE(WriteStatusFile(path, s).ok());
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(text.find("phase: Running"), std::string::npos);
  // Only the status file: no temporary left beside it.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);
  Status bad = WriteStatusFile((dir / "missing" / "s.yaml").string(), s);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("status file"), std::string_view::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace datacube::cube
