#include "server/security/auth_throttle.h"

#include <gtest/gtest.h>

namespace custody {
namespace {

TEST(AuthThrottleTest, FailuresWithinTheBudgetBlockNothing) {
  AuthThrottle t;
  absl::Time now = absl::FromUnixSeconds(1000000);
  for (int i = 0; i < AuthThrottle::kFreeFailures; ++i) {
    EXPECT_EQ(t.Failed("ipv4:10.0.0.5:" + std::to_string(40000 + i), now), absl::ZeroDuration());
    EXPECT_TRUE(t.Admit("ipv4:10.0.0.5:1", now).ok());
  }
}

TEST(AuthThrottleTest, BeyondTheBudgetTheAddressIsRefusedAtOnceForDoublingBlocks) {
  AuthThrottle t;
  absl::Time now = absl::FromUnixSeconds(1000000);
  for (int i = 0; i < AuthThrottle::kFreeFailures; ++i) t.Failed("ipv4:10.0.0.5:1", now);
  EXPECT_EQ(t.Failed("ipv4:10.0.0.5:2", now), absl::Seconds(1));
  absl::Status s = t.Admit("ipv4:10.0.0.5:3", now);  // another port, same address
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  EXPECT_NE(s.message().find("ipv4:10.0.0.5"), std::string::npos) << s;
  EXPECT_TRUE(t.Admit("ipv4:10.0.0.6:3", now).ok());                     // another address
  EXPECT_TRUE(t.Admit("ipv4:10.0.0.5:3", now + absl::Seconds(1)).ok());  // the block ended
  EXPECT_EQ(t.Failed("ipv4:10.0.0.5:2", now + absl::Seconds(1)), absl::Seconds(2));
  EXPECT_EQ(t.Failed("ipv4:10.0.0.5:2", now + absl::Seconds(3)), absl::Seconds(4));
  for (int i = 0; i < 30; ++i) t.Failed("ipv4:10.0.0.5:2", now + absl::Seconds(4));
  EXPECT_EQ(t.Failed("ipv4:10.0.0.5:2", now + absl::Seconds(4)), absl::Minutes(5));  // the cap
  EXPECT_EQ(t.refused(), 1u);
  // Quiet for longer than the window after the block: forgiven.
  absl::Time later = now + absl::Minutes(20);
  EXPECT_TRUE(t.Admit("ipv4:10.0.0.5:2", later).ok());
  EXPECT_EQ(t.Failed("ipv4:10.0.0.5:2", later), absl::ZeroDuration());
}

TEST(AuthThrottleTest, AddressDropsThePort) {
  EXPECT_EQ(AuthThrottle::Address("ipv4:127.0.0.1:5000"), "ipv4:127.0.0.1");
  EXPECT_EQ(AuthThrottle::Address("ipv6:[::1]:5000"), "ipv6:[::1]");
}

}  // namespace
}  // namespace custody
