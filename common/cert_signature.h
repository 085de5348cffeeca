// Signatures by the holders of cluster certificates (doc/security.md,
// "Signed decisions"): a person signs a statement with the private key of
// their certificate (ECDSA P-256, SHA-256); anyone holding the cluster CA's
// certificate checks the signature, that the certificate chains to the CA,
// and reads who signed it and in which roles, agency and clearance.
//
// All functions are thread-safe.
#ifndef CUSTODY_COMMON_CERT_SIGNATURE_H_
#define CUSTODY_COMMON_CERT_SIGNATURE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace custody {

// The bytes a decision's signature covers: a domain tag, then the
// serialized decision (custody.v1.Decision), so that no other signed
// message can pass for one.
inline std::string DecisionMessage(absl::string_view decision) {
  return std::string("custody decision v1\n").append(decision.data(), decision.size());
}

// What a certificate says of its holder (common/certificates.h writes it).
struct CertifiedIdentity {
  std::string name;                // the common name: "user:NAME" or "node:ID"
  std::vector<std::string> roles;  // OU "role:R"
  std::string agency;              // OU "agency:A"
  std::string clearance;           // OU "clearance:L"; "" when none
  std::string serial;              // hex
};

// Reads a PEM certificate's identity without checking who issued it.
absl::StatusOr<CertifiedIdentity> ReadIdentity(const std::string& cert_pem);

// Checks that `cert_pem` was issued by the CA whose certificate is `ca_pem`
// and was valid at `at`; PERMISSION_DENIED naming what failed.
absl::StatusOr<CertifiedIdentity> CheckCertificate(const std::string& cert_pem,
                                                   const std::string& ca_pem, absl::Time at);

// The DER ECDSA signature of SHA-256(`message`) by the PEM private key.
absl::StatusOr<std::string> SignWithKey(const std::string& key_pem, absl::string_view message);

// OK if `signature` is the signature of `message` by the key of
// `cert_pem`; PERMISSION_DENIED otherwise.
absl::Status VerifyWithCertificate(const std::string& cert_pem, absl::string_view message,
                                   absl::string_view signature);

}  // namespace custody

#endif  // CUSTODY_COMMON_CERT_SIGNATURE_H_
