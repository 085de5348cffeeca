// Who may call a node that runs with TLS (doc/security.md): every call must
// come with a certificate that chains to the cluster CA, or with the bearer
// token of an enabled user. Any other call is refused with UNAUTHENTICATED
// before a service sees it, and the refusal is an audit event. A token is
// checked by the service (Node::Authorize), which slows down repeated wrong
// ones from one address (server/security/auth_throttle.h). What the caller may then do
// is decided per call (server/security/principals.h). Plaintext nodes (--insecure-loopback) have no
// authenticator.
#ifndef CUSTODY_SERVER_SECURITY_AUTHENTICATOR_H_
#define CUSTODY_SERVER_SECURITY_AUTHENTICATOR_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/auth_metadata_processor.h>

namespace custody {

class AuditTrail;

// Thread-safe; gRPC runs it on its own threads (IsBlocking).
class Authenticator : public grpc::AuthMetadataProcessor {
 public:
  // Refusals are recorded in `trail`.
  explicit Authenticator(AuditTrail* trail) : trail_(trail) {}

  bool IsBlocking() const override { return true; }
  grpc::Status Process(const InputMetadata& auth_metadata, grpc::AuthContext* context,
                       OutputMetadata* consumed_auth_metadata,
                       OutputMetadata* response_metadata) override;

 private:
  AuditTrail* trail_;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_SECURITY_AUTHENTICATOR_H_
