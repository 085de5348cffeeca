// The security state as the fold of the ledger (server/security/ledger.h): users an
// admin added (with their token's hash) and access grants with their
// approvals. The rules that make a decision count (who may approve what)
// live here too, so that the service that takes a decision and every node
// that folds it apply the same ones: a decision that breaks them changes
// nothing, whichever node relayed it (doc/security.md, "Signed decisions").
#ifndef CUSTODY_SERVER_SECURITY_ACCESS_STATE_H_
#define CUSTODY_SERVER_SECURITY_ACCESS_STATE_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "custody/v1/access.pb.h"
#include "server/security/ledger.h"
#include "server/security/ledger_fold.h"

namespace custody {

struct AccessState {
  std::map<std::string, v1::Principal> users;     // by name, e.g. "alice"
  std::map<std::string, std::string> token_user;  // token SHA-256 hex -> name
  std::map<std::string, v1::AccessGrant> grants;  // by request id (hex)
  // Ledger entries the fold did not apply, by entry id (hex): why.
  std::map<std::string, std::string> refused;

  // Replays `ledger` in time order; grants past their end are "expired" at
  // `now`.
  static absl::StatusOr<AccessState> Load(Ledger* ledger, absl::Time now);
  // The live grant of `principal` for `object_id` and `purpose`, or nullptr:
  // one for the object itself, or one for a record among `records` (the
  // records that hold the object now, so also footage attached after the
  // grant was approved).
  const v1::AccessGrant* LiveGrant(const std::string& principal, const std::string& object_id,
                                   const std::string& purpose, absl::Time now,
                                   const std::vector<std::string>& records = {}) const;
};

// The roles an admin may give a token user, and the highest clearance: the
// roles that decide (archive-head, leader, admin) and clearances above
// internal exist only in certificates from the offline CA key.
inline const char* const kTokenRoles[] = {"ingest", "officer", "auditor"};
// OK if an admin may add a token user `name` with `roles` and `clearance`
// to `state`; why not otherwise (a name used before, even disabled, stays
// used).
absl::Status MayAddTokenUser(const AccessState& state, const std::string& name,
                             const std::vector<std::string>& roles, const std::string& clearance);

// The role in which `p` approves pending request `g` ("archive-head" or
// "leader"), or why `p` cannot: the requester never; nobody twice; only for
// an object with an agency; an archive-head, or a leader of the object's
// agency; cleared at least for the object's classification.
absl::StatusOr<std::string> ApprovalRole(const v1::Principal& p, const v1::AccessGrant& g);
// OK if `p` may deny (`revoke` false) or revoke `g`: an archive-head or a
// leader of the object's agency, never the requester; `g` pending (or, to
// revoke, granted).
absl::Status MayClose(const v1::Principal& p, const v1::AccessGrant& g, bool revoke);
// OK if `g`, live, still fits the object as this node holds it: the same
// agency, and every approver cleared for its classification.
absl::Status GrantFits(const v1::AccessGrant& g, const std::string& agency,
                       const std::string& classification);

// The state, rebuilt only when the ledger changed. Thread-safe.
using AccessStateCache = LedgerFold<AccessState>;

}  // namespace custody

#endif  // CUSTODY_SERVER_SECURITY_ACCESS_STATE_H_
