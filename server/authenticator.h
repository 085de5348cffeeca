// Who may call a node that runs with TLS (doc/security.md): every call must
// come with a certificate that chains to the cluster CA. A call without one
// is refused with UNAUTHENTICATED before any service sees it, and the
// refusal is an audit event. Plaintext nodes (--insecure-loopback) have no
// authenticator.
#ifndef CUSTODY_SERVER_AUTHENTICATOR_H_
#define CUSTODY_SERVER_AUTHENTICATOR_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/auth_metadata_processor.h>

namespace custody {

class Node;

// Thread-safe; gRPC runs it on its own threads (IsBlocking).
class Authenticator : public grpc::AuthMetadataProcessor {
 public:
  explicit Authenticator(Node* node) : node_(node) {}

  bool IsBlocking() const override { return true; }
  grpc::Status Process(const InputMetadata& auth_metadata, grpc::AuthContext* context,
                       OutputMetadata* consumed_auth_metadata,
                       OutputMetadata* response_metadata) override;

 private:
  Node* node_;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_AUTHENTICATOR_H_
