// The custody.v1.Custody gRPC service of a node (callback API).
#ifndef CUSTODY_SERVER_SERVICES_CUSTODY_SERVICE_H_
#define CUSTODY_SERVER_SERVICES_CUSTODY_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "custody/v1/custody.grpc.pb.h"
#include "replication/witness/attester.h"
#include "server/node.h"
#include "server/objects/object_sm3.h"
#include "server/services/clock_watch.h"
#include "server/services/playbacks.h"

namespace custody {

// Thread-safe. Streaming RPCs get a reactor each; unary RPCs run their
// RocksDB work on the node's read pool, never on a gRPC thread.
class CustodyService final : public v1::Custody::CallbackService {
 public:
  // `attester` (may be null) answers for the node's witness and TSA.
  explicit CustodyService(Node* node, const Attester* attester = nullptr)
      : node_(node), attester_(attester) {}

  grpc::ServerReadReactor<v1::UploadRequest>* Upload(grpc::CallbackServerContext* ctx,
                                                     v1::UploadResponse* response) override;
  grpc::ServerUnaryReactor* QueryUpload(grpc::CallbackServerContext* ctx,
                                        const v1::QueryUploadRequest* request,
                                        v1::QueryUploadResponse* response) override;
  grpc::ServerWriteReactor<v1::DownloadResponse>* Download(
      grpc::CallbackServerContext* ctx, const v1::DownloadRequest* request) override;
  grpc::ServerUnaryReactor* Stat(grpc::CallbackServerContext* ctx, const v1::StatRequest* request,
                                 v1::ObjectInfo* response) override;
  grpc::ServerUnaryReactor* List(grpc::CallbackServerContext* ctx, const v1::ListRequest* request,
                                 v1::ListResponse* response) override;
  grpc::ServerUnaryReactor* NodeStatus(grpc::CallbackServerContext* ctx,
                                       const v1::NodeStatusRequest* request,
                                       v1::NodeStatusResponse* response) override;
  grpc::ServerUnaryReactor* ClusterStatus(grpc::CallbackServerContext* ctx,
                                          const v1::ClusterStatusRequest* request,
                                          v1::ClusterStatusResponse* response) override;
  // The cluster map (server/services/cluster_map_rpcs.cc).
  grpc::ServerUnaryReactor* GetClusterMap(grpc::CallbackServerContext* ctx,
                                          const v1::GetClusterMapRequest* request,
                                          v1::ClusterMapResponse* response) override;
  grpc::ServerUnaryReactor* ApplyClusterMap(grpc::CallbackServerContext* ctx,
                                            const v1::ApplyClusterMapRequest* request,
                                            v1::ClusterMapResponse* response) override;
  // Maintenance (server/services/maintenance_rpcs.cc).
  grpc::ServerUnaryReactor* Repair(grpc::CallbackServerContext* ctx,
                                   const v1::RepairRequest* request,
                                   v1::RepairResponse* response) override;
  grpc::ServerUnaryReactor* Scrub(grpc::CallbackServerContext* ctx, const v1::ScrubRequest* request,
                                  v1::ScrubResponse* response) override;

 private:
  Node* node_;
  const Attester* attester_;
  Playbacks playbacks_;  // the web console's viewings, recorded once each
  ObjectSm3 sm3_{node_->index(), node_->trail(), node_->cluster_chunks()};
  ClockWatch clock_watch_{node_};
};

}  // namespace custody

#endif  // CUSTODY_SERVER_SERVICES_CUSTODY_SERVICE_H_
