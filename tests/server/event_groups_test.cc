// The storage of audit events in groups: the record codec, and EventCursor
// walking groups and naming gaps, overlaps and damaged records.
#include "server/audit/event_groups.h"

#include <gtest/gtest.h>

#include "server/audit/audit_log.h"
#include "server/storage/index.h"
#include "tests/test_util.h"

namespace custody {
namespace {

using testing::TempDir;

TEST(EventGroupCodecTest, RoundTripsEventsOfAnySize) {
  std::vector<std::string> in = {"a", "", std::string(200, 'x'), std::string(70000, 'y')};
  std::string group;
  for (const std::string& e : in) AppendEventRecord(&group, e);
  std::vector<absl::string_view> out;
  ASSERT_TRUE(DecodeEventGroup(group, &out));
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) EXPECT_EQ(out[i], in[i]);
}

TEST(EventGroupCodecTest, RecordRunningPastTheEndIsRefused) {
  std::string group;
  AppendEventRecord(&group, "hello");
  AppendEventRecord(&group, std::string(300, 'z'));
  std::vector<absl::string_view> out;
  EXPECT_FALSE(DecodeEventGroup(absl::string_view(group).substr(0, group.size() - 1), &out));
  EXPECT_FALSE(DecodeEventGroup("\xff\xff\xff\xff\xff\x01", &out));  // overlong varint
}

class EventCursorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto index = Index::Open(dir_.path());
    ASSERT_TRUE(index.ok()) << index.status();
    index_ = std::move(*index);
  }
  // Stores events first..first+n-1 (named "e<position>") as one group.
  void PutGroup(uint64_t first, int n) {
    std::string group;
    for (int i = 0; i < n; ++i) AppendEventRecord(&group, "e" + std::to_string(first + i));
    ASSERT_TRUE(index_->db()->Put({}, index_->events(), EventKey(first), group).ok());
  }
  // Walks from `from`; returns the events seen and the cursor's problem.
  std::pair<std::string, std::string> Walk(uint64_t from) {
    EventCursor c(index_.get(), rocksdb::ReadOptions());
    std::string seen;
    for (c.Seek(from); c.Valid(); c.Next()) {
      EXPECT_EQ(c.event(), "e" + std::to_string(c.position()));
      seen += std::string(c.event()) + " ";
    }
    return {seen, c.problem()};
  }

  TempDir dir_;
  std::unique_ptr<Index> index_;
};

TEST_F(EventCursorTest, WalksAcrossGroupsFromAnyPosition) {
  PutGroup(0, 3);
  PutGroup(3, 1);
  PutGroup(4, 2);
  EXPECT_EQ(Walk(0), std::make_pair(std::string("e0 e1 e2 e3 e4 e5 "), std::string()));
  EXPECT_EQ(Walk(2), std::make_pair(std::string("e2 e3 e4 e5 "), std::string()));
  EXPECT_EQ(Walk(5), std::make_pair(std::string("e5 "), std::string()));
  EXPECT_EQ(Walk(6), std::make_pair(std::string(), std::string()));  // the end
}

TEST_F(EventCursorTest, GapBetweenGroupsIsNamed) {
  PutGroup(0, 3);
  PutGroup(5, 2);
  auto [seen, problem] = Walk(1);
  EXPECT_EQ(seen, "e1 e2 ");
  EXPECT_EQ(problem, "event 3 is missing: the log jumps to event 5");
  EXPECT_EQ(Walk(4).second, "event 4 is missing: the log jumps to event 5");
}

TEST_F(EventCursorTest, OverlappingGroupsAreNamed) {
  PutGroup(0, 4);
  PutGroup(2, 3);
  EXPECT_EQ(Walk(0).second,
            "events from 2 are stored twice: their group overlaps the one before, which ends at "
            "event 3");
  EventCursor c(index_.get(), rocksdb::ReadOptions());
  c.Seek(0);
  c.NextGroup();  // what a verifier does at the end of its share of the log
  EXPECT_FALSE(c.Valid());
  EXPECT_NE(c.problem().find("stored twice"), std::string::npos);
}

TEST_F(EventCursorTest, DamagedGroupIsNamed) {
  PutGroup(0, 2);
  std::string group;
  AppendEventRecord(&group, "e2");
  AppendEventRecord(&group, "e3");
  group.pop_back();
  ASSERT_TRUE(index_->db()->Put({}, index_->events(), EventKey(2), group).ok());
  auto [seen, problem] = Walk(0);
  EXPECT_EQ(seen, "e0 e1 ");
  EXPECT_EQ(problem,
            "the events stored from event 2 on are damaged: a record runs past the end of its "
            "group");
}

}  // namespace
}  // namespace custody
