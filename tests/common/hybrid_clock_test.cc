#include "common/hybrid_clock.h"

#include <gtest/gtest.h>

#include "absl/time/clock.h"

namespace custody {
namespace {

TEST(HybridClockTest, TicksNeverRunBackwardsAndFollowTheWallClock) {
  absl::Time wall = absl::FromUnixSeconds(1000);
  HybridClock c([&] { return wall; });
  const int64_t a = c.Tick();
  EXPECT_EQ(a, absl::ToUnixNanos(wall));
  EXPECT_EQ(c.Tick(), a + 1) << "the same wall time: one more";
  wall -= absl::Minutes(5);  // the wall clock was set back
  EXPECT_EQ(c.Tick(), a + 2);
  wall += absl::Minutes(10);
  EXPECT_EQ(c.Tick(), absl::ToUnixNanos(wall));
}

TEST(HybridClockTest, AnObservedTimeAheadIsPassedByTheNextTick) {
  absl::Time wall = absl::FromUnixSeconds(1000);
  HybridClock c([&] { return wall; }, absl::Hours(1));
  const int64_t ahead = absl::ToUnixNanos(wall + absl::Minutes(10));  // a skewed node's entry
  EXPECT_TRUE(c.Observe(ahead));
  EXPECT_GT(c.Tick(), ahead) << "made after it was seen, ordered after it";
  EXPECT_FALSE(c.Observe(absl::ToUnixNanos(wall + absl::Hours(2)))) << "beyond the bound";
  EXPECT_LT(c.last(), absl::ToUnixNanos(wall + absl::Hours(2)));
}

}  // namespace
}  // namespace custody
