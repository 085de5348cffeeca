// The custody.internal.v1.Replica gRPC service of a node: what other nodes of the
// cluster ask of it (proto/custody/internal/v1/replica.proto). Every call is refused unless the
// caller runs the same cluster map version.
#ifndef CUSTODY_SERVER_SERVICES_REPLICA_SERVICE_H_
#define CUSTODY_SERVER_SERVICES_REPLICA_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "common/event_throttle.h"
#include "custody/internal/v1/replica.grpc.pb.h"
#include "replication/cluster/chunk_read_policy.h"
#include "server/node.h"
#include "server/objects/manifest_guard.h"

namespace custody {

// Thread-safe. Work runs on the node's read pool (maintenance on its
// maintenance pool), and writes go through its committer.
class ReplicaService final : public internal::v1::Replica::CallbackService {
 public:
  explicit ReplicaService(Node* node)
      : node_(node),
        guard_(node->placement(), [node](v1::AuditEvent e) { return node->Record(std::move(e)); }),
        reads_(
            node->placement(),
            [node](const std::string& reader, const std::string& object,
                   const std::string& purpose) -> absl::StatusOr<bool> {
              absl::StatusOr<std::optional<v1::AccessGrant>> g =
                  node->LiveGrant(reader, object, purpose);
              if (!g.ok()) return g.status();
              return g->has_value();
            },
            [node](const Digest& id, const std::string& not_from) {
              absl::StatusOr<v1::ObjectManifest> m = node->objects()->GetManifest(id);
              if (m.ok() || !absl::IsNotFound(m.status()) || node->placement() == nullptr) return m;
              return node->placement()->FindManifest(id, not_from);
            }) {}

  grpc::ServerUnaryReactor* PutBlob(grpc::CallbackServerContext* ctx,
                                    const internal::v1::PutBlobRequest* request,
                                    internal::v1::PutBlobResponse* response) override;
  grpc::ServerUnaryReactor* GetBlob(grpc::CallbackServerContext* ctx,
                                    const internal::v1::GetBlobRequest* request,
                                    internal::v1::GetBlobResponse* response) override;
  grpc::ServerUnaryReactor* FindMissing(grpc::CallbackServerContext* ctx,
                                        const internal::v1::FindMissingRequest* request,
                                        internal::v1::FindMissingResponse* response) override;
  grpc::ServerUnaryReactor* Buckets(grpc::CallbackServerContext* ctx,
                                    const internal::v1::BucketsRequest* request,
                                    internal::v1::BucketsResponse* response) override;
  grpc::ServerUnaryReactor* RunRepair(grpc::CallbackServerContext* ctx,
                                      const internal::v1::RunRepairRequest* request,
                                      v1::RepairReport* response) override;
  grpc::ServerUnaryReactor* ArchiveRecord(grpc::CallbackServerContext* ctx,
                                          const internal::v1::ArchiveRecordRequest* request,
                                          v1::Record* response) override;
  grpc::ServerUnaryReactor* ChunksInUse(grpc::CallbackServerContext* ctx,
                                        const internal::v1::ChunksInUseRequest* request,
                                        internal::v1::ChunksInUseResponse* response) override;
  grpc::ServerUnaryReactor* ListObjects(grpc::CallbackServerContext* ctx,
                                        const internal::v1::ListObjectsRequest* request,
                                        internal::v1::ListObjectsResponse* response) override;
  grpc::ServerUnaryReactor* AuditSnapshot(grpc::CallbackServerContext* ctx,
                                          const internal::v1::AuditSnapshotRequest* request,
                                          v1::SnapshotAuditLog* response) override;
  grpc::ServerUnaryReactor* AuditPage(grpc::CallbackServerContext* ctx,
                                      const internal::v1::AuditPageRequest* request,
                                      internal::v1::AuditPageResponse* response) override;
  grpc::ServerUnaryReactor* MirrorLive(grpc::CallbackServerContext* ctx,
                                       const internal::v1::LiveMirrorRequest* request,
                                       internal::v1::LiveMirrorResponse* response) override;
  grpc::ServerUnaryReactor* HandOffLive(grpc::CallbackServerContext* ctx,
                                        const internal::v1::LiveHandOffRequest* request,
                                        internal::v1::LiveHandOffResponse* response) override;
  grpc::ServerUnaryReactor* RunScrub(grpc::CallbackServerContext* ctx,
                                     const internal::v1::RunScrubRequest* request,
                                     v1::ScrubReport* response) override;

 private:
  // `peer` (CheckPeer's answer); a PERMISSION_DENIED one is also recorded
  // as replica.refused naming `caller` and `method`.
  absl::Status Audited(const absl::Status& peer, const std::string& caller, const char* method);
  absl::Status PutChunk(const Digest& key, std::string data, bool* held);
  absl::Status PutManifest(const Digest& key, const internal::v1::PutBlobRequest& request,
                           const std::string& from, bool* held);

  void RecordRelayed(const std::string& caller, const internal::v1::GetBlobRequest& req);

  Node* node_;
  ManifestGuard guard_;
  ChunkReadPolicy reads_;
  EventThrottle relayed_{absl::Minutes(1)};
};

}  // namespace custody

#endif  // CUSTODY_SERVER_SERVICES_REPLICA_SERVICE_H_
