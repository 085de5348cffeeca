// TLS for every gRPC connection (doc/security.md): a credentials folder made
// by `custody ca issue` (ca.pem, cert.pem, key.pem) as gRPC credentials, and
// the identity a verified peer certificate names.
#ifndef CUSTODY_COMMON_TLS_H_
#define CUSTODY_COMMON_TLS_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace custody {

// The PEM contents of a credentials folder. A user may have no certificate
// (a bearer token instead): then cert and key are empty.
struct TlsFiles {
  std::string ca_pem, cert_pem, key_pem;
  // Reads DIR/ca.pem, and DIR/cert.pem with DIR/key.pem when both exist.
  static absl::StatusOr<TlsFiles> Load(const std::string& dir);
  bool has_certificate() const { return !cert_pem.empty(); }
};

// Server side: TLS with this node's certificate. Clients may present a
// certificate, which must then chain to the cluster CA; whether one is
// required is decided per call (PeerIdentity).
std::shared_ptr<grpc::ServerCredentials> TlsServerCredentials(const TlsFiles& files);
// Client side: trusts only the cluster CA; presents the certificate if any.
std::shared_ptr<grpc::ChannelCredentials> TlsChannelCredentials(const TlsFiles& files);

// The common name of the caller's verified certificate ("node:ID",
// "user:NAME"), or "" when the caller presented none (or the call is not
// over TLS).
std::string PeerIdentity(const grpc::ServerContextBase& ctx);
// True when the call came over TLS.
bool IsTls(const grpc::ServerContextBase& ctx);

// A new bearer token: "cust_" and 64 hex digits from OpenSSL's random
// generator (the cluster keeps only its SHA-256).
absl::StatusOr<std::string> NewBearerToken();

// True for a numeric loopback address, 127.0.0.0/8 or ::1, with or without
// ":port" ("[::1]:port"). Host names, "localhost" among them, are false.
bool IsLoopbackAddress(const std::string& address);

}  // namespace custody

#endif  // CUSTODY_COMMON_TLS_H_
