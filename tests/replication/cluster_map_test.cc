// The cluster map: parsing with exact errors, and rendezvous placement
// (deterministic, balanced, zone-diverse, stable when a node leaves).
#include "replication/cluster/cluster_map.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "absl/strings/str_cat.h"

namespace custody {
namespace {

std::string ThreeNodes(int r = 2, const std::string& extra = "") {
  return absl::StrCat(R"({"version": 3, "replication_factor": )", r, extra,
                      R"(, "nodes": [
    {"id": "n1", "address": "127.0.0.1:7401", "zone": "a"},
    {"id": "n2", "address": "127.0.0.1:7402", "zone": "a"},
    {"id": "n3", "address": "127.0.0.1:7403", "zone": "b"}]})");
}

std::string Error(const std::string& text) {
  auto m = ClusterMap::Parse(text);
  EXPECT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(m.status().message());
}

TEST(ClusterMapTest, ParsesAValidMap) {
  auto m = ClusterMap::Parse(ThreeNodes(2, R"(, "chunk_size": "4MiB",
      "offsite": {"address": "10.9.0.1:7400"})"));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->version(), 3u);
  EXPECT_EQ(m->replication_factor(), 2);
  EXPECT_EQ(m->chunk_size(), 4u << 20);
  EXPECT_EQ(m->offsite_address(), "10.9.0.1:7400");
  ASSERT_EQ(m->nodes().size(), 3u);
  EXPECT_EQ(m->Find("n3")->zone, "b");
  EXPECT_EQ(m->Find("n9"), nullptr);
}

TEST(ClusterMapTest, EachMistakeIsNamed) {
  EXPECT_NE(Error("[]").find("not a JSON object"), std::string::npos);
  EXPECT_NE(Error(R"({"replication_factor": 1, "nodes": []})").find("\"version\""),
            std::string::npos);
  EXPECT_NE(Error(ThreeNodes(4)).find("replication_factor 4 needs 1 to 3"), std::string::npos);
  EXPECT_NE(Error(ThreeNodes(0)).find("replication_factor 0 needs 1 to 3"), std::string::npos);
  EXPECT_NE(Error(ThreeNodes(2, R"(, "colour": 1)")).find("unknown field \"colour\""),
            std::string::npos);
  EXPECT_NE(Error(R"({"version": 1, "replication_factor": 1, "nodes": [
      {"id": "n1", "address": "h:1"}, {"id": "n1", "address": "h:2"}]})")
                .find("node id \"n1\" twice"),
            std::string::npos);
  EXPECT_NE(Error(R"({"version": 1, "replication_factor": 1, "nodes": [
      {"id": "n1", "address": "h:1"}, {"id": "n2", "address": "h:1"}]})")
                .find("address \"h:1\" twice"),
            std::string::npos);
  EXPECT_NE(Error(R"({"version": 1, "replication_factor": 1, "nodes": [
      {"id": "n 1", "address": "h:1"}]})")
                .find("nodes[0].id \"n 1\""),
            std::string::npos);
  EXPECT_NE(Error(R"({"version": 1, "replication_factor": 1, "nodes": [
      {"id": "n1", "address": "nohost"}]})")
                .find("is not host:port"),
            std::string::npos);
}

TEST(ClusterMapTest, RankIsDeterministicCompleteAndZoneDiverse) {
  auto m = ClusterMap::Parse(ThreeNodes(2));
  ASSERT_TRUE(m.ok());
  for (int i = 0; i < 500; ++i) {
    Digest key = Digest::Of(std::to_string(i));
    auto rank = m->Rank(key);
    ASSERT_EQ(rank.size(), 3u);
    EXPECT_EQ(rank, m->Rank(key));
    std::set<std::string> ids = {rank[0]->id, rank[1]->id, rank[2]->id};
    EXPECT_EQ(ids.size(), 3u);
    EXPECT_NE(rank[0]->zone, rank[1]->zone) << "both home replicas in zone " << rank[0]->zone;
  }
}

TEST(ClusterMapTest, HomesAreBalancedAndStableWhenANodeLeaves) {
  std::string nodes;
  for (int i = 1; i <= 6; ++i) {
    absl::StrAppend(&nodes, i > 1 ? "," : "", R"({"id": "n)", i, R"(", "address": "h:)", i,
                    R"(", "zone": "z)", i % 3, "\"}");
  }
  auto six = ClusterMap::Parse(
      absl::StrCat(R"({"version": 1, "replication_factor": 2, "nodes": [)", nodes, "]}"));
  ASSERT_TRUE(six.ok()) << six.status();
  // The same map without n6.
  std::string five_nodes = nodes.substr(0, nodes.rfind(",{"));
  auto five = ClusterMap::Parse(
      absl::StrCat(R"({"version": 2, "replication_factor": 2, "nodes": [)", five_nodes, "]}"));
  ASSERT_TRUE(five.ok()) << five.status();
  std::map<std::string, int> homes;
  int moved_without_n6 = 0;
  const int kKeys = 6000;
  for (int i = 0; i < kKeys; ++i) {
    Digest key = Digest::Of(absl::StrCat("key-", i));
    auto a = six->Rank(key), b = five->Rank(key);
    ++homes[a[0]->id];
    ++homes[a[1]->id];
    bool had_n6 = a[0]->id == "n6" || a[1]->id == "n6";
    if (!had_n6 && (a[0]->id != b[0]->id || a[1]->id != b[1]->id)) ++moved_without_n6;
  }
  for (const auto& [id, n] : homes) {
    EXPECT_NEAR(n, 2 * kKeys / 6, 2 * kKeys / 6 / 5) << id;  // within 20% of a fair share
  }
  EXPECT_EQ(moved_without_n6, 0) << "keys that never lived on n6 moved when it left";
}

TEST(ClusterMapTest, ASingleNodeIsAClusterOfOne) {
  ClusterMap m = ClusterMap::Single("n1", "127.0.0.1:7400");
  EXPECT_EQ(m.version(), 0u);
  EXPECT_EQ(m.replication_factor(), 1);
  ASSERT_EQ(m.Rank(Digest::Of("x")).size(), 1u);
}

}  // namespace
}  // namespace custody
