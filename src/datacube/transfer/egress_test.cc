// The egress check in RunJob: a refused sink is never opened; an allowed one is.
#include "datacube/transfer/egress.h"

#include <gtest/gtest.h>

#include "datacube/storage/memory/memory_store.h"
#include "datacube/transfer/job.h"

namespace datacube::transfer {
namespace {

JobOptions OptionsIn(const std::string& region, int* opens) {
  JobOptions options;
  options.config.options["s3-region"] = region;
  options.config.options["s3-endpoint"] = "http://127.0.0.1:9";
  options.config.getenv = [](const std::string&) { return std::optional<std::string>(); };
  options.policy = &policy::DefaultPolicy();
  options.open_endpoints = [opens]() -> Result<TransferEndpoints> {
    ++*opens;
    auto src = std::make_shared<storage::MemoryStore>();
    src->SetObject("a.bin", "bytes");
    TransferEndpoints ends;
    ends.src.store = src;
    ends.dst.store = std::make_shared<storage::MemoryStore>();
    return ends;
  };
  return options;
}

TEST(Egress, TrainingDataOutsideRegionsIsRefusedBeforeAnyStoreOpens) {
  int opens = 0;
  JobOptions options = OptionsIn("ap-south-1", &opens);
  options.data_class = "training-data";
  auto report =
      RunJob(*ParseLocation("/tmp/src/"), *ParseLocation("s3://sink/data/"), options, nullptr, {});
  ASSERT_FALSE(report.ok());
  EXPECT_TRUE(IsEgressDenied(report.status()));
  EXPECT_EQ(report.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(report.status().message().find(
                "class training-data may not go to region ap-south-1 (rule approved_regions"),
            std::string_view::npos)
      << report.status().ToString();
  EXPECT_EQ(opens, 0);
}

TEST(Egress, ModelWeightsToTheSameSinkGoThrough) {
  int opens = 0;
  JobOptions options = OptionsIn("ap-south-1", &opens);
  options.data_class = "model-weights";
  auto report =
      RunJob(*ParseLocation("/tmp/src/"), *ParseLocation("s3://sink/data/"), options, nullptr, {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(opens, 1);
}

TEST(Egress, UnencryptedUploadOfAnEncryptionRequiredClassIsRefused) {
  int opens = 0;
  JobOptions options = OptionsIn("us-east-1", &opens);
  options.data_class = "training-data";
  auto report =
      RunJob(*ParseLocation("/tmp/src/"), *ParseLocation("s3://sink/data/"), options, nullptr, {});
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.status().message().find("requires encryption"), std::string_view::npos);
  EXPECT_EQ(opens, 0);
}

TEST(Egress, DestinationsOfEachProvider) {
  storage::StoreConfig config;
  config.getenv = [](const std::string&) { return std::optional<std::string>(); };
  config.options["s3-region"] = "US-EAST-04A";
  auto cw = DestinationOf(*ParseLocation("cw://bucket/k"), config, false);
  EXPECT_EQ(cw.provider, "coreweave");
  EXPECT_EQ(cw.region, "US-EAST-04A");
  EXPECT_EQ(cw.endpoint, "cwobject.com");
  auto hf = DestinationOf(*ParseLocation("hf://org/model"), config, false);
  EXPECT_EQ(hf.provider, "huggingface");
  EXPECT_EQ(hf.region, "none");
  auto local = DestinationOf(*ParseLocation("/data/x"), config, false);
  EXPECT_EQ(local.provider, "local");
  EXPECT_EQ(local.region, "local");
  storage::StoreConfig bare;
  bare.getenv = config.getenv;
  EXPECT_EQ(DestinationOf(*ParseLocation("s3://b/k"), bare, false).region, "unknown");
}

}  // namespace
}  // namespace datacube::transfer
