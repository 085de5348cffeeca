// The custody.internal.v1.OffsitePeer service of custodyd --role offsite
// (proto/custody/internal/v1/offsite_peer.proto): only cluster nodes (certificates
// node:ID from the CA) may call it; it has no call that deletes anything.
#ifndef CUSTODY_REPLICATION_OFFSITE_OFFSITE_PEER_SERVICE_H_
#define CUSTODY_REPLICATION_OFFSITE_OFFSITE_PEER_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "custody/internal/v1/offsite_peer.grpc.pb.h"
#include "custody/v1/offsite.grpc.pb.h"
#include "replication/offsite/offsite_vault.h"
#include "server/node.h"

namespace custody {

// Thread-safe. Work runs on the node's pools, never on a gRPC thread.
class OffsitePeerService final : public internal::v1::OffsitePeer::CallbackService {
 public:
  explicit OffsitePeerService(Node* node) : node_(node), vault_(node) {}

  grpc::ServerUnaryReactor* Offer(grpc::CallbackServerContext* ctx, const v1::Snapshot* request,
                                  internal::v1::OfferResponse* response) override;
  grpc::ServerUnaryReactor* FindMissing(grpc::CallbackServerContext* ctx,
                                        const internal::v1::PeerKeys* request,
                                        internal::v1::PeerKeys* response) override;
  grpc::ServerUnaryReactor* PutBlob(grpc::CallbackServerContext* ctx,
                                    const internal::v1::PeerPutRequest* request,
                                    internal::v1::PeerPutResponse* response) override;
  grpc::ServerUnaryReactor* GetBlob(grpc::CallbackServerContext* ctx,
                                    const internal::v1::PeerGetRequest* request,
                                    internal::v1::PeerGetResponse* response) override;
  grpc::ServerUnaryReactor* Seal(grpc::CallbackServerContext* ctx, const v1::SnapshotRef* request,
                                 v1::Receipt* response) override;
  grpc::ServerUnaryReactor* Verify(grpc::CallbackServerContext* ctx, const v1::SnapshotRef* request,
                                   v1::OffsiteVerifyReport* response) override;
  grpc::ServerUnaryReactor* ListSealed(grpc::CallbackServerContext* ctx,
                                       const v1::ListSnapshotsRequest* request,
                                       internal::v1::PeerSnapshotsResponse* response) override;
  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* ctx,
                                   const internal::v1::PeerStatusRequest* request,
                                   internal::v1::PeerStatus* response) override;
  grpc::ServerUnaryReactor* Challenge(grpc::CallbackServerContext* ctx,
                                      const internal::v1::ChallengeRequest* request,
                                      internal::v1::ChallengeResponse* response) override;

 private:
  // Authorizes a PutBlob and parses its key and chunk position.
  absl::Status CheckPut(const grpc::CallbackServerContext& ctx,
                        const internal::v1::PeerPutRequest& request, absl::StatusOr<Digest>* key,
                        std::optional<ChunkPosition>* at);
  // Runs `work(caller name)` on `pool` once the caller is a cluster node.
  template <typename Work>
  grpc::ServerUnaryReactor* Run(grpc::CallbackServerContext* ctx, ThreadPool* pool,
                                const std::string& subject, Work work);

  Node* node_;
  OffsiteVault vault_;
};

}  // namespace custody

#endif  // CUSTODY_REPLICATION_OFFSITE_OFFSITE_PEER_SERVICE_H_
