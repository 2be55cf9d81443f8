#include "datacube/storage/s3/s3_endpoint.h"

#include <gtest/gtest.h>

namespace datacube::storage::s3 {
namespace {

EndpointSettings S3(std::string bucket, std::string endpoint = "", std::string region = "",
                    Addressing a = Addressing::kAuto) {
  return {Scheme::kS3, std::move(bucket), std::move(endpoint), a, std::move(region)};
}

TEST(ResolveEndpointTest, AwsDefaultIsVirtualHostedInTheRegion) {
  auto e = ResolveEndpoint(S3("models", "", "eu-west-1"));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_TRUE(e->virtual_hosted);
  EXPECT_TRUE(e->aws_default);
  EXPECT_EQ(e->region, "eu-west-1");
  EXPECT_EQ(e->UrlFor("models", "dir/a b.bin", "x=1"),
            "https://models.s3.eu-west-1.amazonaws.com/dir/a%20b.bin?x=1");
  EXPECT_EQ(e->HostFor("models"), "models.s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(e->PathFor("models", ""), "/");
}

TEST(ResolveEndpointTest, AwsDefaultRegion) {
  auto e = ResolveEndpoint(S3("models"));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->region, "us-east-1");
  EXPECT_EQ(e->Display(), "https://s3.us-east-1.amazonaws.com");
}

TEST(ResolveEndpointTest, DottedBucketStaysPathStyleOverTls) {
  auto e = ResolveEndpoint(S3("my.dotted.bucket"));
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->virtual_hosted);
  EXPECT_EQ(e->UrlFor("my.dotted.bucket", "k", ""),
            "https://s3.us-east-1.amazonaws.com/my.dotted.bucket/k");
}

TEST(ResolveEndpointTest, LoopbackAndCustomHostsArePathStyle) {
  for (const char* ep : {"http://127.0.0.1:7480", "http://localhost:9000",
                         "https://minio.internal.example", "http://[::1]:7480"}) {
    auto e = ResolveEndpoint(S3("bucket", ep));
    ASSERT_TRUE(e.ok()) << ep << ": " << e.status().ToString();
    EXPECT_FALSE(e->virtual_hosted) << ep;
    EXPECT_FALSE(e->aws_default);
  }
  auto e = ResolveEndpoint(S3("bucket", "http://127.0.0.1:7480"));
  EXPECT_EQ(e->UrlFor("bucket", "a/+b", ""), "http://127.0.0.1:7480/bucket/a/%2Bb");
  EXPECT_EQ(e->HostFor("bucket"), "127.0.0.1:7480");
  EXPECT_EQ(e->PathFor("bucket", ""), "/bucket");
}

TEST(ResolveEndpointTest, DotSegmentsAreEncodedSoHttpClientsKeepThem) {
  auto e = ResolveEndpoint(S3("bucket", "http://127.0.0.1:7480"));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->PathFor("bucket", "a/../b/./c..d/."), "/bucket/a/%2E%2E/b/%2E/c..d/%2E");
  EXPECT_EQ(e->PathFor("bucket", "../x"), "/bucket/%2E%2E/x");
}

TEST(ResolveEndpointTest, ExplicitAddressingWins) {
  auto v = ResolveEndpoint(S3("bucket", "http://127.0.0.1:7480", "", Addressing::kVirtual));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->UrlFor("bucket", "k", ""), "http://bucket.127.0.0.1:7480/k");
  auto p = ResolveEndpoint(S3("bucket", "", "us-west-2", Addressing::kPath));
  EXPECT_EQ(p->UrlFor("bucket", "k", ""), "https://s3.us-west-2.amazonaws.com/bucket/k");
}

TEST(ResolveEndpointTest, DefaultPortsAreDropped) {
  auto e = ResolveEndpoint(S3("bucket", "https://s3.example.com:443"));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->HostFor("bucket"), "s3.example.com");
}

TEST(ResolveEndpointTest, MalformedEndpointsAreRefused) {
  for (const char* ep :
       {"127.0.0.1:7480", "ftp://host", "https://host/some/path", "https://host?x=1"}) {
    auto e = ResolveEndpoint(S3("bucket", ep));
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument) << ep;
  }
}

TEST(ResolveEndpointTest, AwsBucketRulesApplyOnAws) {
  EXPECT_FALSE(ResolveEndpoint(S3("Bad_Name")).ok());
  EXPECT_TRUE(ResolveEndpoint(S3("Bad_Name", "http://127.0.0.1:7480")).ok());
}

TEST(ResolveEndpointTest, CoreWeaveIsVirtualHostedAndNeedsAZone) {
  EndpointSettings cw{Scheme::kCoreWeave, "models", "", Addressing::kAuto, "US-EAST-04A"};
  auto e = ResolveEndpoint(cw);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->UrlFor("models", "w.bin", ""), "https://models.cwobject.com/w.bin");
  EXPECT_EQ(e->region, "US-EAST-04A");

  cw.endpoint = "lota";
  e = ResolveEndpoint(cw);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->UrlFor("models", "w.bin", ""), "http://models.cwlota.com/w.bin");

  cw.endpoint = "public";
  EXPECT_EQ(ResolveEndpoint(cw)->Display(), "https://cwobject.com");

  cw.region = "";
  auto missing = ResolveEndpoint(cw);
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(missing.status().message()).find("--region"), std::string::npos);

  cw.region = "US-EAST-04A";
  cw.bucket = "cw-reserved";
  EXPECT_NE(std::string(ResolveEndpoint(cw).status().message()).find("reserved"),
            std::string::npos);
}

TEST(ResolveEndpointTest, S3SchemeOnCoreWeaveHostIsVirtual) {
  auto e = ResolveEndpoint(S3("models", "https://cwobject.com", "US-EAST-04A"));
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->virtual_hosted);
}

TEST(ResolveEndpointTest, GcsXmlApi) {
  EndpointSettings gs{Scheme::kGcs, "my_bucket", "", Addressing::kAuto, ""};
  auto e = ResolveEndpoint(gs);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->region, "auto");
  EXPECT_EQ(e->UrlFor("my_bucket", "o", ""), "https://storage.googleapis.com/my_bucket/o");
}

TEST(AwsEndpointForRegionTest, MovesOnlyTheDefaultEndpoint) {
  auto aws = *ResolveEndpoint(S3("bkt"));
  auto moved = AwsEndpointForRegion(aws, "ap-south-1");
  EXPECT_EQ(moved.HostFor("bkt"), "bkt.s3.ap-south-1.amazonaws.com");
  auto custom = *ResolveEndpoint(S3("b", "http://127.0.0.1:7480"));
  auto same = AwsEndpointForRegion(custom, "other");
  EXPECT_EQ(same.HostFor("b"), "127.0.0.1:7480");
  EXPECT_EQ(same.region, "other");
}

TEST(ParseAddressingTest, Values) {
  EXPECT_EQ(*ParseAddressing("path", "x"), Addressing::kPath);
  EXPECT_EQ(*ParseAddressing("virtual", "x"), Addressing::kVirtual);
  EXPECT_EQ(*ParseAddressing("", "x"), Addressing::kAuto);
  auto bad = ParseAddressing("vhost", "--s3-addressing");
  EXPECT_NE(std::string(bad.status().message()).find("--s3-addressing"), std::string::npos);
}

}  // namespace
}  // namespace datacube::storage::s3
