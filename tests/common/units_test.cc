#include "common/units.h"

#include <gtest/gtest.h>

namespace custody {
namespace {

TEST(UnitsTest, ParsesSizes) {
  EXPECT_EQ(*ParseByteSize("4096"), 4096u);
  EXPECT_EQ(*ParseByteSize("4MiB"), 4u << 20);
  EXPECT_EQ(*ParseByteSize("1gib"), 1u << 30);
  EXPECT_EQ(*ParseByteSize("10MB"), 10000000u);
  EXPECT_EQ(*ParseByteSize("1.5KiB"), 1536u);
}

TEST(UnitsTest, RejectsBadSizes) {
  EXPECT_FALSE(ParseByteSize("").ok());
  EXPECT_FALSE(ParseByteSize("MiB").ok());
  EXPECT_FALSE(ParseByteSize("4 parsecs").ok());
}

TEST(UnitsTest, FormatsTimesAsUtc) { EXPECT_EQ(FormatUnixNanos(0), "1970-01-01T00:00:00.000Z"); }

}  // namespace
}  // namespace custody
