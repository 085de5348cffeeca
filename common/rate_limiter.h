// Paces a byte stream to a rate: each Acquire(n) waits until n more bytes fit
// under bytes_per_second since the first call. Shared by several senders, it
// bounds their sum.
#ifndef CUSTODY_COMMON_RATE_LIMITER_H_
#define CUSTODY_COMMON_RATE_LIMITER_H_

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace custody {

// Thread-safe.
class RateLimiter {
 public:
  // 0: no limit.
  explicit RateLimiter(uint64_t bytes_per_second) : rate_(bytes_per_second) {}

  // Blocks until `bytes` more may go.
  void Acquire(uint64_t bytes) {
    if (rate_ == 0) return;
    absl::Time start;
    {
      absl::MutexLock l(&mu_);
      absl::Time now = absl::Now();
      start = next_ > now ? next_ : now;
      next_ = start + absl::Seconds(static_cast<double>(bytes) / static_cast<double>(rate_));
    }
    absl::SleepFor(start - absl::Now());
  }

 private:
  const uint64_t rate_;
  absl::Mutex mu_;
  absl::Time next_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace custody

#endif  // CUSTODY_COMMON_RATE_LIMITER_H_
