#include "replication/offsite/ordered_fetcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace custody {
namespace {

std::vector<Digest> Keys(int n) {
  std::vector<Digest> out;
  for (int i = 0; i < n; ++i) out.push_back(Digest::Of(absl::StrCat("blob ", i)));
  return out;
}

// A fake peer: the blob of a key is its hex; each fetch takes a random
// while, so fetches finish out of order. Records what the fetchers did.
struct FakePeer {
  std::atomic<int> in_flight{0}, most_in_flight{0}, fetched{0};
  absl::Mutex mu;
  std::set<int> channels_used ABSL_GUARDED_BY(mu);
  std::set<Digest> failing;  // fetches of these fail

  OrderedFetcher::FetchFn Fn() {
    return [this](int c, const Digest& key) -> absl::StatusOr<std::string> {
      int now = ++in_flight;
      for (int m = most_in_flight; now > m && !most_in_flight.compare_exchange_weak(m, now);) {
      }
      {
        absl::MutexLock l(&mu);
        channels_used.insert(c);
      }
      thread_local std::mt19937 rng(std::hash<std::thread::id>()(std::this_thread::get_id()));
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 3000));
      ++fetched;
      --in_flight;
      if (failing.count(key)) return absl::UnavailableError("peer went away");
      return key.Hex();
    };
  }
};

TEST(OrderedFetcherTest, HandsOutEveryBlobInOrderWhileFetchingInParallel) {
  std::vector<Digest> keys = Keys(200);
  FakePeer peer;
  OrderedFetcher f(peer.Fn(), 4, keys, 8);
  for (const Digest& k : keys) {
    absl::StatusOr<std::string> got = f.Next();
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, k.Hex());
  }
  EXPECT_TRUE(absl::IsOutOfRange(f.Next().status()));
  EXPECT_EQ(peer.fetched, 200);
  EXPECT_GT(peer.most_in_flight, 1);  // in parallel
  EXPECT_LE(peer.most_in_flight, 4);  // one per channel
  absl::MutexLock l(&peer.mu);
  EXPECT_EQ(peer.channels_used, (std::set<int>{0, 1, 2, 3}));
}

TEST(OrderedFetcherTest, FetchesAtMostTheWindowAheadOfTheConsumer) {
  FakePeer peer;
  OrderedFetcher f(peer.Fn(), 4, Keys(100), 6);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // nobody consumes
  EXPECT_EQ(peer.fetched, 6);
  ASSERT_TRUE(f.Next().ok());
  ASSERT_TRUE(f.Next().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(peer.fetched, 8);
}

TEST(OrderedFetcherTest, AFailedFetchIsReturnedInItsTurn) {
  std::vector<Digest> keys = Keys(20);
  FakePeer peer;
  peer.failing.insert(keys[7]);
  OrderedFetcher f(peer.Fn(), 3, keys, 4);
  for (int i = 0; i < 7; ++i) ASSERT_EQ(*f.Next(), keys[i].Hex());
  absl::Status s = f.Next().status();
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_EQ(*f.Next(), keys[8].Hex());  // the rest still comes, should a caller go on
}

TEST(OrderedFetcherTest, StopsItsFetchersWhenDroppedHalfWay) {
  FakePeer peer;
  {
    OrderedFetcher f(peer.Fn(), 4, Keys(1000), 8);
    ASSERT_TRUE(f.Next().ok());
  }  // must not hang nor fetch on
  int after = peer.fetched;
  EXPECT_LE(after, 9 + 4);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(peer.fetched, after);
  EXPECT_EQ(peer.in_flight, 0);
}

TEST(OrderedFetcherTest, AnEmptySequenceEndsAtOnce) {
  FakePeer peer;
  OrderedFetcher f(peer.Fn(), 4, {}, 8);
  EXPECT_TRUE(absl::IsOutOfRange(f.Next().status()));
  EXPECT_EQ(peer.fetched, 0);
}

}  // namespace
}  // namespace custody
