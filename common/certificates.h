// The cluster's certificate authority (`custody ca init|issue`): one CA per
// cluster signs every node's and every user's certificate, and nodes and
// clients trust only that CA. Keys are ECDSA P-256, certificates X.509 v3
// signed with SHA-256. A certificate's identity is its common name:
// "node:ID" for a node, "user:NAME" for a person or a daemon, "console:NAME"
// for a web console (which serves HTTPS and relays calls for people who sign
// in to it: server/security/session_check.h).
#ifndef CUSTODY_COMMON_CERTIFICATES_H_
#define CUSTODY_COMMON_CERTIFICATES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace custody {

// Files of a CA folder, and of a credentials folder made by Issue.
inline constexpr char kCaKeyFile[] = "ca.key";   // the CA's private key (0600)
inline constexpr char kCaCertFile[] = "ca.pem";  // the CA certificate: trust this
inline constexpr char kCertFile[] = "cert.pem";  // this node's or user's certificate
inline constexpr char kKeyFile[] = "key.pem";    // its private key (0600)

// Creates `dir` (which must not exist or be empty) with a new CA named
// `name`, valid for `days`.
absl::Status CreateCa(const std::string& dir, const std::string& name, int days = 3650);

struct CertificateRequest {
  bool node = false;               // a node (server and client) or a user (client)
  bool console = false;            // a web console (server and client; no roles)
  std::string name;                // node id or user name: [A-Za-z0-9._-]{1,64}
  std::vector<std::string> hosts;  // a node's or console's DNS names or IP addresses
  int days = 825;
  // A user's roles, agency and clearance, written as OU entries "role:R",
  // "agency:A", "clearance:L" (server/security/principals.h reads them).
  std::vector<std::string> roles;
  std::string agency, clearance;
};

// Issues a certificate signed by the CA in `ca_dir` into `out_dir` (created;
// must not hold credentials already): ca.pem, cert.pem, key.pem.
absl::Status IssueCertificate(const std::string& ca_dir, const CertificateRequest& request,
                              const std::string& out_dir);

// "node:ID", "console:NAME" or "user:NAME".
std::string IdentityOf(const CertificateRequest& request);

}  // namespace custody

#endif  // CUSTODY_COMMON_CERTIFICATES_H_
