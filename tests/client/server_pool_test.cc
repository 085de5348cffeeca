// The ingest daemon's --server list: parsing it, which failures mean a node
// is down, and failing over to the next node exactly once per failure.
#include "client/server_pool.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace custody {
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
  EXPECT_TRUE(ShouldFailOver(absl::UnavailableError("down")));
  EXPECT_TRUE(ShouldFailOver(absl::ResourceExhaustedError("disk full")));
  EXPECT_FALSE(ShouldFailOver(absl::PermissionDeniedError("no grant")));

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

ServerPool::Retry Budget(absl::Duration d) {
  return ServerPool::Retry{d, [](const absl::Status& s) { return IsNodeDown(s); }, nullptr};
}

TEST(ServerPoolCallTest, ANodeDownHandsTheCallToTheNextAtOnce) {
  ServerPool pool({"a:1", "b:1"});
  std::vector<std::string> called;
  int attempts = 0;
  absl::Status s = pool.Call(
      Budget(absl::ZeroDuration()),
      [&](const ServerPool::Server& node) {
        called.push_back(node.address);
        return node.address == "a:1" ? absl::UnavailableError("connection refused")
                                     : absl::OkStatus();
      },
      &attempts);
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(called, (std::vector<std::string>{"a:1", "b:1"}));
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(pool.Current().address, "b:1");  // later calls start there
}

TEST(ServerPoolCallTest, ANodeThatComesBackWithinTheBudgetIsUsed) {
  ServerPool pool({"a:1"});
  int attempts = 0;
  absl::Status s = pool.Call(
      Budget(absl::Seconds(30)),
      [&](const ServerPool::Server&) {
        return attempts < 6 ? absl::UnavailableError("connection refused") : absl::OkStatus();
      },
      &attempts);
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(attempts, 6);
}

TEST(ServerPoolCallTest, AfterTheBudgetTheErrorNamesEveryNodeWithItsLastError) {
  ServerPool pool({"a:1", "b:1"});
  int attempts = 0;
  absl::Status s = pool.Call(
      Budget(absl::Milliseconds(600)),
      [&](const ServerPool::Server& node) {
        return absl::UnavailableError(absl::StrCat("refused by ", node.address));
      },
      &attempts);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_GE(attempts, 4);  // at least two rounds: one pause fits in the budget
  EXPECT_NE(s.message().find("a:1: UNAVAILABLE: refused by a:1"), std::string::npos) << s;
  EXPECT_NE(s.message().find("b:1: UNAVAILABLE: refused by b:1"), std::string::npos) << s;
}

TEST(ServerPoolCallTest, AFailureNotWorthRetryingIsReturnedAsItIs) {
  ServerPool pool({"a:1", "b:1"});
  int attempts = 0;
  absl::Status s = pool.Call(
      Budget(absl::Seconds(30)),
      [&](const ServerPool::Server&) { return absl::PermissionDeniedError("no grant"); },
      &attempts);
  EXPECT_EQ(s, absl::PermissionDeniedError("no grant"));
  EXPECT_EQ(attempts, 1);
  // One node, one attempt: its own error, not wrapped.
  ServerPool one({"a:1"});
  EXPECT_EQ(one.Call(Budget(absl::ZeroDuration()),
                     [](const ServerPool::Server&) { return absl::UnavailableError("down"); }),
            absl::UnavailableError("down"));
}

TEST(ServerPoolCallTest, AFullNodeHandsTheCallToTheNextAndAllFullEndsAtOnce) {
  ServerPool::Retry retry{
      absl::Seconds(30),
      [](const absl::Status& s) { return IsNodeDown(s) || absl::IsResourceExhausted(s); }, nullptr};
  ServerPool pool({"a:1", "b:1"});
  int attempts = 0;
  absl::Status s = pool.Call(
      retry,
      [](const ServerPool::Server& node) {
        return node.address == "a:1" ? absl::ResourceExhaustedError("disk full") : absl::OkStatus();
      },
      &attempts);
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(attempts, 2);
  ServerPool full({"a:1", "b:1"});
  s = full.Call(
      retry, [](const ServerPool::Server&) { return absl::ResourceExhaustedError("disk full"); },
      &attempts);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(attempts, 2);  // each node once: waiting does not free a disk
  EXPECT_NE(s.message().find("b:1: RESOURCE_EXHAUSTED: disk full"), std::string::npos) << s;
}

TEST(ServerPoolCallTest, AStoppedCallMakesNoMoreAttempts) {
  ServerPool pool({"a:1"});
  int attempts = 0;
  ServerPool::Retry retry = Budget(absl::Seconds(30));
  retry.stopped = [&] { return attempts >= 2; };
  absl::Status s = pool.Call(
      retry, [](const ServerPool::Server&) { return absl::UnavailableError("down"); }, &attempts);
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(attempts, 2);
}

}  // namespace
}  // namespace custody
