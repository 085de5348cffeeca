// A state folded from the cluster ledger (server/security/ledger.h), rebuilt only when
// the ledger changed: the security state (server/security/access_state.h) and the
// record book (server/records/record_book.h) are both kept this way.
#ifndef CUSTODY_SERVER_SECURITY_LEDGER_FOLD_H_
#define CUSTODY_SERVER_SECURITY_LEDGER_FOLD_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "server/security/ledger.h"

namespace custody {

// `State` has `static absl::StatusOr<State> Load(Ledger*, absl::Time now)`.
// Thread-safe; concurrent callers share one rebuild.
template <typename State>
class LedgerFold {
 public:
  explicit LedgerFold(Ledger* ledger) : ledger_(ledger) {}

  absl::StatusOr<std::shared_ptr<const State>> Get() {
    absl::MutexLock l(&mu_);
    uint64_t gen = ledger_->generation();
    if (state_ && gen == generation_) return state_;
    absl::StatusOr<State> s = State::Load(ledger_, absl::Now());
    if (!s.ok()) return s.status();
    state_ = std::make_shared<const State>(std::move(*s));
    generation_ = gen;
    return state_;
  }

 private:
  Ledger* ledger_;
  absl::Mutex mu_;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = ~uint64_t{0};
  std::shared_ptr<const State> state_ ABSL_GUARDED_BY(mu_);
};

}  // namespace custody

#endif  // CUSTODY_SERVER_SECURITY_LEDGER_FOLD_H_
