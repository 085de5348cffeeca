#include "replication/cluster/buckets.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace custody {
namespace {

std::vector<Digest> Keys(int n, const std::string& salt) {
  std::vector<Digest> out;
  for (int i = 0; i < n; ++i) out.push_back(Digest::Of(absl::StrCat(salt, i)));
  return out;
}

TEST(BucketTableTest, SameKeysInAnyOrderMatch) {
  std::vector<Digest> keys = Keys(1000, "k");
  BucketTable a, b;
  for (const Digest& k : keys) a.Add(k);
  for (auto it = keys.rbegin(); it != keys.rend(); ++it) b.Add(*it);
  EXPECT_TRUE(a.Differing(b).empty());
  EXPECT_EQ(a.total(), 1000u);
}

TEST(BucketTableTest, AMissingOrExtraKeyNamesExactlyItsBucket) {
  std::vector<Digest> keys = Keys(1000, "k");
  BucketTable all, fewer, other;
  for (const Digest& k : keys) all.Add(k);
  for (size_t i = 1; i < keys.size(); ++i) fewer.Add(keys[i]);
  EXPECT_EQ(all.Differing(fewer), std::vector<int>{BucketTable::BucketOf(keys[0])});
  // Same count, different key: the XOR differs.
  for (size_t i = 1; i < keys.size(); ++i) other.Add(keys[i]);
  Digest swapped = Digest::Of("not one of them");
  other.Add(swapped);
  std::vector<int> diff = all.Differing(other);
  EXPECT_NE(std::find(diff.begin(), diff.end(), BucketTable::BucketOf(swapped)), diff.end());
}

TEST(BucketTableTest, WireFormRoundTripsAndBadSizesAreRefused) {
  BucketTable t;
  for (const Digest& k : Keys(300, "w")) t.Add(k);
  std::vector<uint64_t> counts(t.counts().begin(), t.counts().end());
  absl::StatusOr<BucketTable> back = BucketTable::FromWire(t.xors(), counts);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(back->Differing(t).empty());
  counts.pop_back();
  EXPECT_EQ(BucketTable::FromWire(t.xors(), counts).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BucketTable::FromWire("short", {}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(HomesOfTest, TheFirstRNodesOfTheRank) {
  absl::StatusOr<ClusterMap> map = ClusterMap::Parse(R"({"version": 1, "replication_factor": 2,
      "nodes": [{"id": "a1", "address": "h:1", "zone": "a"}, {"id": "b1", "address": "h:2", "zone": "b"},
                {"id": "a2", "address": "h:3", "zone": "a"}]})");
  ASSERT_TRUE(map.ok()) << map.status();
  for (const Digest& k : Keys(50, "h")) {
    std::vector<const NodeInfo*> homes = HomesOf(*map, k);
    ASSERT_EQ(homes.size(), 2u);
    EXPECT_EQ(homes[0], map->Rank(k)[0]);
    EXPECT_EQ(homes[1], map->Rank(k)[1]);
    EXPECT_TRUE(IsHome(homes, homes[1]->id));
    EXPECT_NE(homes[0]->zone, homes[1]->zone);
  }
}

}  // namespace
}  // namespace custody
