#include "common/hybrid_clock.h"

#include <algorithm>
#include <atomic>

#include "absl/time/clock.h"

namespace custody {

namespace {
std::atomic<int64_t> wall_offset_nanos{0};
}  // namespace

absl::Time WallNow() { return absl::Now() + absl::Nanoseconds(wall_offset_nanos.load()); }

void SetWallClockOffsetForTesting(absl::Duration offset) {
  wall_offset_nanos = absl::ToInt64Nanoseconds(offset);
}

HybridClock::HybridClock(std::function<absl::Time()> wall, absl::Duration max_ahead)
    : wall_(wall ? std::move(wall) : WallNow), max_ahead_(max_ahead) {}

int64_t HybridClock::Tick() {
  const int64_t wall = absl::ToUnixNanos(wall_());
  absl::MutexLock l(&mu_);
  last_ = std::max(wall, last_ + 1);
  return last_;
}

bool HybridClock::Observe(int64_t unix_nanos) {
  if (absl::FromUnixNanos(unix_nanos) > wall_() + max_ahead_) return false;
  absl::MutexLock l(&mu_);
  last_ = std::max(last_, unix_nanos);
  return true;
}

int64_t HybridClock::last() const {
  absl::MutexLock l(&mu_);
  return last_;
}

}  // namespace custody
