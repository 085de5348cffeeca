// The custody.v1.Witness gRPC service (callback API) of a custodyd run with
// --role witness or --role offsite: cosigns cluster nodes' checkpoints.
#ifndef CUSTODY_REPLICATION_WITNESS_WITNESS_SERVICE_H_
#define CUSTODY_REPLICATION_WITNESS_WITNESS_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "custody/v1/witness.grpc.pb.h"
#include "replication/witness/witness_book.h"
#include "server/node.h"

namespace custody {

// Thread-safe. The work runs on the node's read pool.
class WitnessService final : public v1::Witness::CallbackService {
 public:
  WitnessService(Node* node, WitnessBook* book) : node_(node), book_(book) {}

  grpc::ServerUnaryReactor* AddCheckpoint(grpc::CallbackServerContext* ctx,
                                          const v1::AddCheckpointRequest* request,
                                          v1::AddCheckpointResponse* response) override;
  grpc::ServerUnaryReactor* WitnessInfo(grpc::CallbackServerContext* ctx,
                                        const v1::WitnessInfoRequest* request,
                                        v1::WitnessInfoResponse* response) override;

 private:
  Node* node_;
  WitnessBook* book_;
};

}  // namespace custody

#endif  // CUSTODY_REPLICATION_WITNESS_WITNESS_SERVICE_H_
