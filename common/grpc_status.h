// The one adapter between absl::Status and grpc::Status.
#ifndef CUSTODY_COMMON_GRPC_STATUS_H_
#define CUSTODY_COMMON_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace custody {

grpc::Status ToGrpcStatus(const absl::Status& s);
absl::Status FromGrpcStatus(const grpc::Status& s);

}  // namespace custody

#endif  // CUSTODY_COMMON_GRPC_STATUS_H_
