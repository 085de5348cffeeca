// The ingest daemon's --server list: parsing it, which failures mean a node
// is down, and failing over to the next node exactly once per failure.
#include "ingest/servers.h"

#include <gtest/gtest.h>

namespace custody::ingest {
namespace {

TEST(ParseServersTest, CommasAndRepeatedFlagsKeepTheirOrder) {
  auto s = ParseServers({"10.0.0.1:7400, 10.0.0.2:7400", "10.0.0.3:7400"});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(*s, (std::vector<std::string>{"10.0.0.1:7400", "10.0.0.2:7400", "10.0.0.3:7400"}));
  auto v6 = ParseServers({"[::1]:7400"});
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ(v6->size(), 1u);
}

TEST(ParseServersTest, BadListsAreRefusedWithTheReason) {
  EXPECT_NE(ParseServers({}).status().message().find("--server is required"), std::string::npos);
  EXPECT_NE(ParseServers({"a:1,,b:2"}).status().message().find("is not a node address"),
            std::string::npos);
  EXPECT_NE(ParseServers({"a:1", "a:1"}).status().message().find("a:1 is given twice"),
            std::string::npos);
  EXPECT_NE(ParseServers({"nodeport"}).status().message().find("\"nodeport\" is not a node"),
            std::string::npos);
  EXPECT_EQ(ParseServers({"a:"}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ServerPoolTest, ANodeDownMovesUploadsToTheNextOnce) {
  EXPECT_TRUE(IsNodeDown(absl::UnavailableError("failed to connect to all addresses")));
  EXPECT_TRUE(IsNodeDown(absl::DeadlineExceededError("slow")));
  EXPECT_FALSE(IsNodeDown(absl::InvalidArgumentError("bad header")));
  EXPECT_FALSE(IsNodeDown(absl::CancelledError("stopping")));

  ServerPool pool({"a:1", "b:1", "c:1"});
  ServerPool::Server first = pool.Current();
  EXPECT_EQ(first.address, "a:1");
  EXPECT_NE(first.channel, nullptr);
  EXPECT_EQ(pool.FailOver(first.index, absl::UnavailableError("down")), "b:1");
  // A second upload that also failed on a:1 does not skip b:1.
  EXPECT_EQ(pool.FailOver(first.index, absl::UnavailableError("down")), "b:1");
  EXPECT_EQ(pool.failovers(), 1u);
  EXPECT_EQ(pool.FailOver(pool.Current().index, absl::UnavailableError("down")), "c:1");
  EXPECT_EQ(pool.FailOver(pool.Current().index, absl::UnavailableError("down")), "a:1");
  EXPECT_EQ(pool.failovers(), 3u);
}

TEST(ServerPoolTest, ASingleNodeHasNothingToFailOverTo) {
  ServerPool pool({"a:1"});
  EXPECT_EQ(pool.FailOver(0, absl::UnavailableError("down")), "a:1");
  EXPECT_EQ(pool.failovers(), 0u);
}

}  // namespace
}  // namespace custody::ingest
