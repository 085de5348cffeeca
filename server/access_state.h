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
class AccessStateCache {
 public:
  explicit AccessStateCache(Ledger* ledger) : ledger_(ledger) {}
  absl::StatusOr<std::shared_ptr<const AccessState>> Get();

 private:
  Ledger* ledger_;
  absl::Mutex mu_;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = ~uint64_t{0};
  std::shared_ptr<const AccessState> state_ ABSL_GUARDED_BY(mu_);
};

}  // namespace custody

#endif  // CUSTODY_SERVER_ACCESS_STATE_H_
