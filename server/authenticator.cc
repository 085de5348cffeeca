#include "server/authenticator.h"

#include "common/log.h"
#include "server/node.h"

namespace custody {

grpc::Status Authenticator::Process(const InputMetadata& auth_metadata, grpc::AuthContext* context,
                                    OutputMetadata*, OutputMetadata*) {
  if (context->IsPeerAuthenticated()) return grpc::Status::OK;
  std::string path;
  if (auto it = auth_metadata.find(":path"); it != auth_metadata.end()) {
    path.assign(it->second.data(), it->second.size());
  }
  v1::AuditEvent e = NewEvent("auth.refused", "node");
  AddDetail(&e, "reason", "no client certificate of the cluster CA");
  if (!path.empty()) AddDetail(&e, "method", path);
  absl::Status s = node_->Record(std::move(e));
  if (!s.ok()) LOG(ERROR) << "recording a refused call: " << s;
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                      "this node requires a client certificate from the cluster CA: get one with "
                      "`custody ca issue --user NAME` and pass its folder with --tls DIR (or "
                      "CUSTODY_TLS)");
}

}  // namespace custody
