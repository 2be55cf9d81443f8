// Where a job's sink is, as the egress policy sees it: the provider and the region of a
// destination, found without sending a request when the region is configured.
//
//   s3://, gs://  the configured region (s3-region, AWS_REGION, AWS_DEFAULT_REGION); when none is
//                 configured the region is "unknown", which only a class approving "*" accepts
//   cw://         the CoreWeave availability zone (s3-region / --region)
//   hf://         provider huggingface, region "none"
//   file, pvc://  provider local, region "local"
//   git           provider git, region "none"
#pragma once

#include "datacube/location/location.h"
#include "datacube/policy/policy.h"
#include "datacube/storage/store_config.h"

namespace datacube::transfer {

struct JobOptions;

// The policy's view of `sink`; `encrypted` says whether the upload is client-side encrypted.
policy::Destination DestinationOf(const Location& sink, const storage::StoreConfig& config,
                                  bool encrypted);

// True when the job's uploads are client-side encrypted. No encryption exists yet, so every
// upload is unencrypted; the encryption settings fill this in.
bool SinkIsEncrypted(const JobOptions& options);

// OK, or the EgressDenied status (kPermissionDenied, message naming rule, class and region) when
// options.policy forbids data of options.data_class going to `sink`. No request is sent.
Status CheckSinkEgress(const Location& sink, const JobOptions& options);

}  // namespace datacube::transfer
