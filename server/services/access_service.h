// The custody.v1.Access gRPC service (proto/custody/v1/access.proto): users
// with roles and tokens, and access grants that two people approve before
// anyone reads footage (doc/security.md). Every change is a ledger entry and
// an audit event; every refusal is an audit event.
#ifndef CUSTODY_SERVER_SERVICES_ACCESS_SERVICE_H_
#define CUSTODY_SERVER_SERVICES_ACCESS_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <map>
#include <string>

#include "custody/v1/access.grpc.pb.h"
#include "server/node.h"

namespace custody {

// Thread-safe; work runs on the node's read pool.
class AccessService final : public v1::Access::CallbackService {
 public:
  explicit AccessService(Node* node) : node_(node) {}

  grpc::ServerUnaryReactor* WhoAmI(grpc::CallbackServerContext* ctx, const v1::WhoAmIRequest*,
                                   v1::Principal* response) override;
  grpc::ServerUnaryReactor* UserAdd(grpc::CallbackServerContext* ctx,
                                    const v1::UserAddRequest* request,
                                    v1::UserAddResponse* response) override;
  grpc::ServerUnaryReactor* UserList(grpc::CallbackServerContext* ctx,
                                     const v1::UserListRequest* request,
                                     v1::UserListResponse* response) override;
  grpc::ServerUnaryReactor* UserDisable(grpc::CallbackServerContext* ctx,
                                        const v1::UserDisableRequest* request,
                                        v1::UserDisableResponse* response) override;
  grpc::ServerUnaryReactor* RequestAccess(grpc::CallbackServerContext* ctx,
                                          const v1::AccessRequestRequest* request,
                                          v1::AccessGrant* response) override;
  grpc::ServerUnaryReactor* ListAccess(grpc::CallbackServerContext* ctx,
                                       const v1::AccessListRequest* request,
                                       v1::AccessListResponse* response) override;
  grpc::ServerUnaryReactor* Decide(grpc::CallbackServerContext* ctx,
                                   const v1::AccessDecideRequest* request,
                                   v1::AccessGrant* response) override;
  grpc::ServerUnaryReactor* Revoke(grpc::CallbackServerContext* ctx,
                                   const v1::AccessRevokeRequest* request,
                                   v1::AccessGrant* response) override;

 private:
  // Appends the change and its audit event about `audit_subject`.
  absl::Status Change(v1::LedgerEntry entry, const std::string& audit_subject);
  // The entry `by`'s signed decision becomes (DecisionVerifier::FromClient),
  // or its refusal, logged about `audit_subject`.
  absl::StatusOr<v1::LedgerEntry> Decision(const v1::Principal& by, const v1::SignedDecision& s,
                                           const std::string& kind, const std::string& subject,
                                           const std::map<std::string, std::string>& fields,
                                           const std::string& audit_subject);
  // The grant `request_id` as it stands now, or NOT_FOUND.
  absl::StatusOr<v1::AccessGrant> Grant(const std::string& request_id);
  // What an access request is for: the subject of its audit event and of
  // its ledger entry, and the entry's fields naming it (object or record,
  // agency, classification). NOT_FOUND for one the caller may not see.
  struct Target {
    std::string audit_subject;
    std::string ledger_subject;
    std::map<std::string, std::string> fields;
  };
  absl::StatusOr<Target> ObjectTarget(const v1::Principal& by, const std::string& object_id);
  absl::StatusOr<Target> RecordTarget(const v1::Principal& by, const std::string& ref);

  Node* node_;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_SERVICES_ACCESS_SERVICE_H_
