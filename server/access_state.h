// The security state as the fold of the ledger (server/ledger.h): users added
// by an admin (with their token's hash) and access grants with their
// approvals. Rules that decide a change (who may approve what) live in
// server/access_service.cc; this only replays what was recorded.
#ifndef CUSTODY_SERVER_ACCESS_STATE_H_
#define CUSTODY_SERVER_ACCESS_STATE_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "custody/v1/access.pb.h"
#include "server/ledger.h"
#include "server/ledger_fold.h"

namespace custody {

struct AccessState {
  std::map<std::string, v1::Principal> users;     // by name, e.g. "alice"
  std::map<std::string, std::string> token_user;  // token SHA-256 hex -> name
  std::map<std::string, v1::AccessGrant> grants;  // by request id (hex)

  // Replays `ledger` in time order; grants past their end are "expired" at
  // `now`.
  static absl::StatusOr<AccessState> Load(Ledger* ledger, absl::Time now);
  // The live grant of `principal` for `object_id` and `purpose`, or nullptr.
  const v1::AccessGrant* LiveGrant(const std::string& principal, const std::string& object_id,
                                   const std::string& purpose, absl::Time now) const;
};

// The state, rebuilt only when the ledger changed. Thread-safe.
using AccessStateCache = LedgerFold<AccessState>;

}  // namespace custody

#endif  // CUSTODY_SERVER_ACCESS_STATE_H_
