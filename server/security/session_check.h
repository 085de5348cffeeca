// Calls a web console relays for a person (doc/security.md, "The web
// console"). A console authenticates as itself ("console:NAME", its own
// certificate) and sends, with each call, the person's sign-in: a session
// statement their browser signed with the key of their certificate
// (common/session_statement.h). The node checks it itself; the console holds
// no key of the person and cannot act for anyone who did not sign in through
// it, nor after the session ends.
#ifndef CUSTODY_SERVER_SECURITY_SESSION_CHECK_H_
#define CUSTODY_SERVER_SECURITY_SESSION_CHECK_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "custody/v1/access.pb.h"

namespace custody {

// The person `assertion` (a serialized v1::SessionAssertion) signs in, when
// it was presented by `relay` ("console:NAME"): the certificate chains to the
// CA of `ca_pem` and was valid when the session was issued, the signature
// verifies, the statement names that certificate's holder and `relay`, and
// `now` is within the session. PERMISSION_DENIED naming what failed (the
// caller names itself; UNAUTHENTICATED would hide who it was).
// Thread-safe.
absl::StatusOr<v1::Principal> SessionPrincipal(const std::string& relay,
                                               absl::string_view assertion,
                                               const std::string& ca_pem, absl::Time now);

}  // namespace custody

#endif  // CUSTODY_SERVER_SECURITY_SESSION_CHECK_H_
