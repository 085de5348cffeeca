// The custody.v1.Audit gRPC service of a node (callback API).
#ifndef CUSTODY_SERVER_SERVICES_AUDIT_SERVICE_H_
#define CUSTODY_SERVER_SERVICES_AUDIT_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "custody/v1/audit.grpc.pb.h"
#include "replication/witness/attester.h"
#include "server/node.h"

namespace custody {

// Thread-safe. All work runs on the node's read pool.
class AuditService final : public v1::Audit::CallbackService {
 public:
  // `attester` (may be null) gives checkpoints their witness's cosignature
  // and their TSA token.
  explicit AuditService(Node* node, Attester* attester = nullptr)
      : node_(node), attester_(attester) {}

  grpc::ServerUnaryReactor* Log(grpc::CallbackServerContext* ctx,
                                const v1::AuditLogRequest* request,
                                v1::AuditLogResponse* response) override;
  grpc::ServerUnaryReactor* LatestCheckpoint(grpc::CallbackServerContext* ctx,
                                             const v1::AuditCheckpointRequest* request,
                                             v1::AuditCheckpointResponse* response) override;
  grpc::ServerUnaryReactor* Export(grpc::CallbackServerContext* ctx,
                                   const v1::AuditExportRequest* request,
                                   v1::AuditBundle* response) override;
  grpc::ServerUnaryReactor* VerifyNode(grpc::CallbackServerContext* ctx,
                                       const v1::AuditVerifyNodeRequest* request,
                                       v1::AuditVerifyNodeResponse* response) override;

 private:
  // The register: this node's events that pass `req`'s filters.
  absl::Status Register(const v1::AuditLogRequest& req, v1::AuditLogResponse* response);
  // Puts a verification on record (audit.verified, or audit.verify-failed).
  // A passed one that was `unbroken` from event 0 (it started at 0 or at the
  // last point the node remembers) makes the node remember the checkpoint it
  // reached; a failed one makes it forget.
  absl::Status RecordVerification(const v1::AuditVerifyNodeResponse& r, bool unbroken);
  // Leaves out events about objects and records above `who`'s clearance.
  void DropUncleared(const v1::Principal& who, v1::AuditLogResponse* response);
  bool SubjectCleared(const v1::Principal& who, const std::string& subject);
  // The caller, if it may take the bundle of `subject`.
  absl::StatusOr<v1::Principal> AuthorizeExport(const grpc::ServerContextBase& ctx,
                                                const std::string& subject);
  // For an object's bundle: adds the object's manifest and the export's
  // context for `who`, each with this node's signature
  // (common/export_manifest.h).
  absl::Status SignManifest(const v1::Principal& who, v1::AuditBundle* bundle);
  // The records object `id` belongs to (those within `who`'s clearance),
  // and `who`'s live export grant for it, if any.
  absl::StatusOr<v1::ExportContext> ExportContextFor(const v1::Principal& who,
                                                     const std::string& id);
  Node* node_;
  Attester* attester_;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_SERVICES_AUDIT_SERVICE_H_
