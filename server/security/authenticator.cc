#include "server/security/authenticator.h"

#include "absl/strings/match.h"
#include "common/log.h"
#include "server/audit/audited_write.h"

namespace custody {

grpc::Status Authenticator::Process(const InputMetadata& auth_metadata, grpc::AuthContext* context,
                                    OutputMetadata*, OutputMetadata*) {
  if (context->IsPeerAuthenticated()) return grpc::Status::OK;
  std::string path, reason = "no client certificate of the cluster CA and no bearer token";
  if (auto it = auth_metadata.find(":path"); it != auth_metadata.end()) {
    path.assign(it->second.data(), it->second.size());
  }
  if (auto it = auth_metadata.find("authorization"); it != auth_metadata.end()) {
    // Checked by each service, which knows the peer's address and slows
    // down its repeated failures (Node::Authorize).
    if (absl::StartsWith(absl::string_view(it->second.data(), it->second.size()), "Bearer ")) {
      return grpc::Status::OK;
    }
    reason = "the authorization header is not a bearer token";
  }
  v1::AuditEvent e = NewEvent("auth.refused", "node", "unauthenticated");
  AddDetail(&e, "reason", reason);
  if (!path.empty()) AddDetail(&e, "method", path);
  absl::Status s = trail_->Record(std::move(e));
  if (!s.ok()) LOG(ERROR) << "recording a refused call: " << s;
  return grpc::Status(
      grpc::StatusCode::UNAUTHENTICATED,
      reason +
          ": this node needs a client certificate from the cluster CA "
          "(`custody ca issue --user NAME`, passed with --tls DIR) or a "
          "user token (`custody user add`, passed with --token-file or $CUSTODY_TOKEN)");
}

}  // namespace custody
