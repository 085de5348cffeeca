#include "replication/witness/witness_service.h"

#include "common/status_macros.h"
#include "common/unary.h"

namespace custody {

grpc::ServerUnaryReactor* WitnessService::AddCheckpoint(grpc::CallbackServerContext* ctx,
                                                        const v1::AddCheckpointRequest* request,
                                                        v1::AddCheckpointResponse* response) {
  return RunUnary(ctx, node_->read_pool(), [this, ctx, request, response]() -> absl::Status {
    ASSIGN_OR_RETURN(v1::Principal who, node_->Authorize(*ctx, Action::kWitness, "witness"));
    ASSIGN_OR_RETURN(*response, book_->Add(*request, who.name()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* WitnessService::WitnessInfo(grpc::CallbackServerContext* ctx,
                                                      const v1::WitnessInfoRequest*,
                                                      v1::WitnessInfoResponse* response) {
  return RunUnary(ctx, node_->read_pool(), [this, ctx, response]() -> absl::Status {
    RETURN_IF_ERROR(node_->Authorize(*ctx, Action::kStatus).status());
    ASSIGN_OR_RETURN(*response, book_->Info());
    return absl::OkStatus();
  });
}

}  // namespace custody
