// A person's sign-in to a web console (doc/security.md, "The web console"):
// the text their browser signs with the key of their certificate, so that a
// console can relay calls for them without ever holding their key. The text
// is lines of "key: value", in this order, each ending in "\n":
//
//   custody session v1
//   user: user:alice                the signer's certificate's name
//   relay: console:front-desk       the only console that may present it
//   issued: 2026-12-06T09:00:00Z    RFC 3339, UTC, whole seconds
//   expires: 2026-12-06T17:00:00Z   at most kMaxSession after `issued`
//   nonce: 9f86d081884c7d65         16 to 64 hex digits, fresh per sign-in
//
// The first line is a domain tag: no signed decision ("custody decision
// v1\n...") can pass for a session, nor the other way round.
#ifndef CUSTODY_COMMON_SESSION_STATEMENT_H_
#define CUSTODY_COMMON_SESSION_STATEMENT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace custody {

// The gRPC metadata key that carries a serialized v1::SessionAssertion.
inline constexpr char kSessionMetadataKey[] = "x-custody-session-bin";

struct SessionStatement {
  static constexpr absl::Duration kMaxSession = absl::Hours(12);
  std::string user;   // "user:NAME"
  std::string relay;  // "console:NAME"
  absl::Time issued, expires;
  std::string nonce;  // hex

  // The exact text that is signed.
  std::string ToText() const;
  // Parses and checks the form (not the signature, not the time of use).
  static absl::StatusOr<SessionStatement> Parse(absl::string_view text);
  // OK when `now` is within [issued - 5 min, expires) and the session is not
  // longer than kMaxSession; PERMISSION_DENIED naming what failed.
  absl::Status CheckTime(absl::Time now) const;
};

}  // namespace custody

#endif  // CUSTODY_COMMON_SESSION_STATEMENT_H_
