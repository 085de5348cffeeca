#include "server/authenticator.h"

#include "absl/time/clock.h"
#include "common/log.h"
#include "server/node.h"

namespace custody {

grpc::Status Authenticator::Process(const InputMetadata& auth_metadata, grpc::AuthContext* context,
                                    OutputMetadata*, OutputMetadata*) {
  if (context->IsPeerAuthenticated()) return grpc::Status::OK;
  std::string path, reason = "no client certificate of the cluster CA and no bearer token";
  if (auto it = auth_metadata.find(":path"); it != auth_metadata.end()) {
    path.assign(it->second.data(), it->second.size());
  }
  if (auto it = auth_metadata.find("authorization"); it != auth_metadata.end()) {
    std::string v(it->second.data(), it->second.size());
    absl::StatusOr<std::shared_ptr<const AccessState>> st = node_->access_state();
    absl::Status s = !st.ok() ? st.status()
                     : v.rfind("Bearer ", 0) != 0
                         ? absl::UnauthenticatedError("not a bearer token")
                         : TokenUser(v.substr(7), **st).status();
    if (s.ok()) return grpc::Status::OK;
    reason = std::string(s.message());
    // A wrong token costs its sender time: guessing is slow.
    absl::SleepFor(absl::Milliseconds(500));
  }
  v1::AuditEvent e = NewEvent("auth.refused", "node");
  AddDetail(&e, "reason", reason);
  if (!path.empty()) AddDetail(&e, "method", path);
  absl::Status s = node_->Record(std::move(e));
  if (!s.ok()) LOG(ERROR) << "recording a refused call: " << s;
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                      reason + ": this node needs a client certificate from the cluster CA "
                               "(`custody ca issue --user NAME`, passed with --tls DIR) or a "
                               "user token (`custody user add`, passed with --token)");
}

}  // namespace custody
