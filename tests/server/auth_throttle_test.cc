#include "server/auth_throttle.h"

#include <gtest/gtest.h>

namespace custody {
namespace {

TEST(AuthThrottleTest, RepeatedFailuresFromOneAddressWaitLongerUpToACap) {
  AuthThrottle t;
  absl::Time now = absl::FromUnixSeconds(1000000);
  EXPECT_EQ(t.Failed("ipv4:10.0.0.5:40000", now), absl::Milliseconds(100));
  EXPECT_EQ(t.Failed("ipv4:10.0.0.5:40001", now), absl::Milliseconds(200));  // another port
  EXPECT_EQ(t.Failed("ipv4:10.0.0.5:40002", now), absl::Milliseconds(400));
  EXPECT_EQ(t.Failed("ipv4:10.0.0.6:40000", now), absl::Milliseconds(100));  // another peer
  for (int i = 0; i < 20; ++i) t.Failed("ipv4:10.0.0.5:1", now);
  EXPECT_EQ(t.Failed("ipv4:10.0.0.5:1", now), absl::Seconds(5));
  // Quiet for longer than the window: forgiven.
  EXPECT_EQ(t.Failed("ipv4:10.0.0.5:1", now + absl::Minutes(11)), absl::Milliseconds(100));
}

TEST(AuthThrottleTest, AddressDropsThePort) {
  EXPECT_EQ(AuthThrottle::Address("ipv4:127.0.0.1:5000"), "ipv4:127.0.0.1");
  EXPECT_EQ(AuthThrottle::Address("ipv6:[::1]:5000"), "ipv6:[::1]");
}

}  // namespace
}  // namespace custody
