#include "replication/cluster/node_reads.h"

#include <gtest/gtest.h>

namespace custody {
namespace {

std::string Detail(const v1::AuditEvent& e, const std::string& key) {
  for (const auto& d : e.details()) {
    if (d.key() == key) return d.value();
  }
  return "";
}

TEST(NodeReadsTest, FirstReadIsRecordedAtOnceThenOneEventAMinuteWithTheCounts) {
  NodeReads reads;
  absl::Time t = absl::FromUnixSeconds(1000000);
  std::optional<v1::AuditEvent> e = reads.Count("n2", internal::v1::CHUNK, 100, t);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->action(), "replica.read");
  EXPECT_EQ(e->actor(), "node:n2");
  EXPECT_EQ(Detail(*e, "chunks"), "1");
  EXPECT_FALSE(reads.Count("n2", internal::v1::MANIFEST, 10, t + absl::Seconds(1)));
  EXPECT_TRUE(reads.Count("n3", internal::v1::CHUNK, 7, t + absl::Seconds(1))) << "another peer";
  e = reads.Count("n2", internal::v1::CHUNK, 100, t + absl::Seconds(61));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(Detail(*e, "chunks"), "1");
  EXPECT_EQ(Detail(*e, "manifests"), "1");
  EXPECT_EQ(Detail(*e, "bytes"), "110");
  std::string m = reads.Render();
  EXPECT_NE(m.find("custody_peer_reads_total{peer=\"n2\",kind=\"chunk\"} 2"), std::string::npos)
      << m;
  EXPECT_NE(m.find("custody_peer_read_bytes_total{peer=\"n2\"} 210"), std::string::npos) << m;
}

}  // namespace
}  // namespace custody
