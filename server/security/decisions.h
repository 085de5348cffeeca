// Signed decisions (doc/security.md, "Signed decisions"): the ledger kinds
// that only a person may make, and the checks every node makes before it
// stores such an entry, whether it came from a client or from a peer. A node
// relays decisions; without the decider's signature it cannot make one up.
//
// A decision entry carries the statement its maker signed (LedgerEntry.signed:
// custody.v1.Decision, the signature, the certificate). It is accepted when
//   - the certificate chains to the cluster CA and was valid when signed,
//   - the signature over DecisionMessage(statement) verifies with it,
//   - the statement's kind, subject, fields and signer are the entry's kind,
//     subject, fields and actor, and the certificate's name is the signer,
//   - the certificate's roles allow the kind (principals.h's table).
// Rules that depend on the state (two distinct people, agency, clearance)
// are applied by the folds (access_state.cc, record_book.cc) to the signer
// this names, identically on every node.
#ifndef CUSTODY_SERVER_SECURITY_DECISIONS_H_
#define CUSTODY_SERVER_SECURITY_DECISIONS_H_

#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "custody/v1/access.pb.h"
#include "server/security/principals.h"

namespace custody {

// The action whose roles may make decisions of `kind`; nullopt when `kind`
// is not a decision.
std::optional<Action> DecisionAction(const std::string& kind);

// Thread-safe (immutable).
class DecisionVerifier {
 public:
  // `ca_pem`: the cluster CA's certificate. Empty on a plaintext loopback
  // node: there every caller is the local operator and nothing is signed.
  explicit DecisionVerifier(std::string ca_pem) : ca_pem_(std::move(ca_pem)) {}

  bool signatures_required() const { return !ca_pem_.empty(); }

  // The ledger entry a client's decision becomes: `signed` must say `kind`
  // about `subject` with exactly `fields`, be signed within 10 minutes of
  // `now`, and pass Check. PERMISSION_DENIED (naming why) otherwise. On a
  // loopback node the entry is unsigned and `caller`'s.
  absl::StatusOr<v1::LedgerEntry> FromClient(const v1::Principal& caller,
                                             const v1::SignedDecision& signed_decision,
                                             const std::string& kind, const std::string& subject,
                                             const std::map<std::string, std::string>& fields,
                                             absl::Time now) const;
  // OK for an entry that is not a decision, or a decision that passes the
  // checks above; PERMISSION_DENIED naming the first that fails.
  absl::Status Check(const v1::LedgerEntry& e) const;
  // Who made decision `e` (stored, so checked): the certificate's name,
  // roles, agency and clearance; on a loopback node the local operator with
  // every role. An unsigned entry on a node that requires signatures (one
  // stored before they were) names its actor with no role: it decides
  // nothing.
  v1::Principal Signer(const v1::LedgerEntry& e) const;
  // An id of the statement itself (its SHA-256, hex): a decision counts
  // once however many entries carry it.
  static std::string StatementId(const v1::LedgerEntry& e);

 private:
  const std::string ca_pem_;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_SECURITY_DECISIONS_H_
