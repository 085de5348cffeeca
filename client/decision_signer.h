// Decisions signed by the person who makes them (doc/security.md, "Signed
// decisions"): the CLI builds the statement from the person's own command
// and signs it with the private key of their certificate, from the folder
// given with --tls. The node only relays it; every node checks it.
#ifndef CUSTODY_CLIENT_DECISION_SIGNER_H_
#define CUSTODY_CLIENT_DECISION_SIGNER_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "custody/v1/access.pb.h"

namespace custody {

// The signed statement of `kind` about `subject` with `fields`, signed with
// the certificate key of CustodyClient::UseTls's folder. Over plaintext
// (a loopback node) there is nothing to sign with and nothing is asked: the
// result is empty. With a token and no certificate it is PERMISSION_DENIED:
// tokens cannot decide. Thread-safe.
absl::StatusOr<v1::SignedDecision> SignDecision(const std::string& kind, const std::string& subject,
                                                const std::map<std::string, std::string>& fields);

}  // namespace custody

#endif  // CUSTODY_CLIENT_DECISION_SIGNER_H_
