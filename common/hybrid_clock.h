// A hybrid logical clock (Kulkarni et al., "Logical Physical Clocks", 2014):
// a time in nanoseconds that never runs backwards, is at least the wall
// clock, and is pushed past every time it is shown. The ledger orders its
// entries by it (doc/ledger_fold.md, "Order"), so that an entry made after
// this node saw another sorts after it even when that one's node has a clock
// minutes ahead: an attach after its create, a revocation after its grant.
// The wall-clock time stays in each entry for people.
//
// Thread-safe.
#ifndef CUSTODY_COMMON_HYBRID_CLOCK_H_
#define CUSTODY_COMMON_HYBRID_CLOCK_H_

#include <cstdint>
#include <functional>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace custody {

class HybridClock {
 public:
  // `wall` gives the wall clock (absl::Now by default). A time shown to
  // Observe more than `max_ahead` past the wall clock is not followed: a
  // node whose clock runs days ahead must not drag every other one along.
  explicit HybridClock(std::function<absl::Time()> wall = nullptr,
                       absl::Duration max_ahead = absl::Hours(24));

  // A new time: above every time given out or observed before, and at
  // least the wall clock.
  int64_t Tick();
  // Another node's time (of an entry it made); false if it was more than
  // max_ahead past the wall clock and so ignored.
  bool Observe(int64_t unix_nanos);
  // The last time given out or observed.
  int64_t last() const;

 private:
  std::function<absl::Time()> wall_;
  const absl::Duration max_ahead_;
  mutable absl::Mutex mu_;
  int64_t last_ ABSL_GUARDED_BY(mu_) = 0;
};

// The process's wall clock: absl::Now(), moved by a testing offset
// (custodyd --unsafe-testing-clock-offset) to play a node with a skewed clock.
absl::Time WallNow();
void SetWallClockOffsetForTesting(absl::Duration offset);

}  // namespace custody

#endif  // CUSTODY_COMMON_HYBRID_CLOCK_H_
