// The one adapter between absl::Status and grpc::Status.
#ifndef CUSTODY_COMMON_GRPC_STATUS_H_
#define CUSTODY_COMMON_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include <chrono>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace custody {

grpc::Status ToGrpcStatus(const absl::Status& s);
absl::Status FromGrpcStatus(const grpc::Status& s);

// A gRPC deadline `d` from now, on the clock gRPC itself reads
// (std::chrono::system_clock). absl::Now() can lag a step of the wall clock
// by seconds: after a +2 h step every peer call made with it expired at once
// (the chaos run's clock step, tests/chaos/chaos.py).
std::chrono::system_clock::time_point DeadlineAfter(absl::Duration d);

}  // namespace custody

#endif  // CUSTODY_COMMON_GRPC_STATUS_H_
