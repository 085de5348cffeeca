// The register with proofs (doc/console.md, "Register"): the events of
// Audit.Log that pass the filters, each marked with whether it is proven in
// its node's log under that node's signed checkpoint. The proof is the
// subject's audit bundle (Audit.Export), checked here as `custody audit
// verify` checks it.
#ifndef CUSTODY_CLIENT_WEB_REGISTER_PROOFS_H_
#define CUSTODY_CLIENT_WEB_REGISTER_PROOFS_H_

#include <string>

#include "absl/status/statusor.h"
#include "client/web/node_relay.h"

namespace custody::web {

// At most this many subjects are proven per request; the events of the
// others are "not checked".
inline constexpr int kMaxProvenSubjects = 50;

// `request_json`: an AuditLogRequest as proto3 JSON. The answer:
// {"events": [{...event, "proof": "proven" | "failed" | "not checked"}],
//  "truncated": bool, "unreachable": [...]}.
absl::StatusOr<std::string> ProvenRegister(NodeRelay* relay, const std::string& request_json,
                                           const CallerCredentials& who);

}  // namespace custody::web

#endif  // CUSTODY_CLIENT_WEB_REGISTER_PROOFS_H_
