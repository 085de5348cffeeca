// The security state as the fold of the ledger (server/security/ledger.h): users an
// admin added (with their token's hash) and access grants with their
// approvals. The rules that make a decision count (who may approve what)
// live here too, so that the service that takes a decision and every node
// that folds it apply the same ones: a decision that breaks them changes
// nothing, whichever node relayed it (doc/security.md, "Signed decisions").
#ifndef CUSTODY_SERVER_SECURITY_ACCESS_STATE_H_
#define CUSTODY_SERVER_SECURITY_ACCESS_STATE_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
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

// The security state as of one moment: a read of the ledger fold
// (server/security/access_fold.h). Cheap to make; thread-safe.
class AccessState {
 public:
  // Grants past their end are "expired" at `now`.
  AccessState(std::shared_ptr<const FoldSnapshot> fold, absl::Time now)
      : fold_(std::move(fold)), now_(now) {}

  // The user `name` ("alice") an admin added or disabled, or nullopt.
  absl::StatusOr<std::optional<v1::Principal>> User(const std::string& name) const;
  absl::Status ForEachUser(const std::function<void(const v1::Principal&)>& fn) const;
  // The name of the user whose token hashes to `sha256_hex`, or nullopt.
  absl::StatusOr<std::optional<std::string>> TokenUser(const std::string& sha256_hex) const;
  absl::StatusOr<std::optional<v1::AccessGrant>> Grant(const std::string& request_id) const;
  // Grants in request id order, from the first after `after`; fn returns
  // false to stop.
  absl::Status ForEachGrant(const std::string& after,
                            const std::function<bool(const v1::AccessGrant&)>& fn) const;
  // Grants whose request id starts with `prefix`, at most `limit`.
  absl::StatusOr<std::vector<v1::AccessGrant>> GrantsStartingWith(const std::string& prefix,
                                                                  size_t limit) const;
  // The live grant of `principal` for `object_id` and `purpose`, or nullopt:
  // one for the object itself, or one for a record among `records` (the
  // records that hold the object now, so also footage attached after the
  // grant was approved).
  absl::StatusOr<std::optional<v1::AccessGrant>> LiveGrant(
      const std::string& principal, const std::string& object_id, const std::string& purpose,
      const std::vector<std::string>& records = {}) const;

 private:
  v1::AccessGrant AtNow(v1::AccessGrant g) const;

  std::shared_ptr<const FoldSnapshot> fold_;
  absl::Time now_;
};

// The roles an admin may give a token user, and the highest clearance: the
// roles that decide (archive-head, leader, admin) and clearances above
// internal exist only in certificates from the offline CA key.
inline const char* const kTokenRoles[] = {"ingest", "officer", "auditor"};
// OK if an admin may add a token user `name` with `roles` and `clearance`,
// `existing` the user of that name if any; why not otherwise (a name used
// before, even disabled, stays used).
absl::Status MayAddTokenUser(const v1::Principal* existing, const std::string& name,
                             const std::vector<std::string>& roles, const std::string& clearance);

// Whether `g` has an approval given in `role` ("archive-head", "leader").
bool HasApproval(const v1::AccessGrant& g, const std::string& role);
// `p`'s clearance ("internal" when it names none).
std::string ClearanceOf(const v1::Principal& p);

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

}  // namespace custody

#endif  // CUSTODY_SERVER_SECURITY_ACCESS_STATE_H_
