#include "server/records/record_rules.h"

#include <gtest/gtest.h>

namespace custody {
namespace {

constexpr int64_t kMinute = 60'000'000'000;
const int64_t kT0 = absl::ToUnixNanos(absl::FromUnixSeconds(1795000000));

v1::Segment Footage(const std::string& device, int from_min, int to_min) {
  v1::Segment s;
  s.set_kind("video");
  s.set_device(device);
  s.set_start_unix_nanos(kT0 + from_min * kMinute);
  s.set_end_unix_nanos(kT0 + to_min * kMinute);
  return s;
}

TEST(RecordRulesTest, GapsAreBreaksBetweenOneDevicesSegmentsNumberedInTimeOrder) {
  v1::Record r;
  *r.add_segments() = Footage("D2", 0, 10);
  *r.add_segments() = Footage("D1", 20, 30);
  *r.add_segments() = Footage("D1", 0, 10);   // out of order on purpose
  *r.add_segments() = Footage("D2", 5, 25);   // overlaps: covers D2 to 25
  *r.add_segments() = Footage("D2", 25, 40);  // continuous
  v1::Segment note = Footage("D1", 10, 20);
  note.set_kind("audio");
  note.set_note_for_gap(1);  // an interruption note is not footage
  *r.add_segments() = note;
  std::vector<v1::Gap> gaps = FindGaps(r, RecordRules());
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0].number(), 1u);
  EXPECT_EQ(gaps[0].device(), "D1");
  EXPECT_EQ(gaps[0].from_unix_nanos(), kT0 + 10 * kMinute);
  EXPECT_EQ(gaps[0].to_unix_nanos(), kT0 + 20 * kMinute);
  RecordRules loose;
  loose.gap_tolerance = absl::Minutes(10);
  EXPECT_TRUE(FindGaps(r, loose).empty());
}

TEST(RecordRulesTest, ArchiveNumbersFollowTheFormat) {
  v1::Record r;
  r.set_agency("SH-MKT");
  r.set_target("shop-17");
  r.set_stage("inspection");
  r.set_start_unix_nanos(absl::ToUnixNanos(
      absl::FromCivil(absl::CivilSecond(2026, 11, 26, 9, 0, 0), absl::UTCTimeZone())));
  RecordRules rules;
  EXPECT_EQ(ArchiveNumber(r, rules, 7), "SH-MKT-20261126-shop-17-inspection-0007");
  EXPECT_EQ(ArchivePrefix(r, rules), "SH-MKT-20261126-shop-17-inspection-#");
  rules.archive_format = "{date}/{agency}/{seq}";
  EXPECT_EQ(ArchiveNumber(r, rules, 12), "20261126/SH-MKT/12");
  EXPECT_TRUE(ValidateArchiveFormat("{agency}-{seq:6}").ok());
  EXPECT_FALSE(ValidateArchiveFormat("{agency}-{date}").ok());
  EXPECT_FALSE(ValidateArchiveFormat("{seq}-{seq}").ok());
}

TEST(RecordRulesTest, FlagsAreDerivedAtTheTimeOfAsking) {
  FoldedRecord f;
  f.record.set_end_unix_nanos(kT0);
  RecordBook book(nullptr);  // a record without segments reads nothing from it
  RecordRules rules;
  auto flags = [&](absl::Time now) {
    v1::Record r = Evaluate(f, book, rules, now).value();
    return std::vector<std::string>(r.flags().begin(), r.flags().end());
  };
  EXPECT_TRUE(flags(absl::FromUnixNanos(kT0) + absl::Hours(23)).empty());
  EXPECT_EQ(flags(absl::FromUnixNanos(kT0) + absl::Hours(25)), std::vector<std::string>{"overdue"});
  f.record.set_archive_number("N-1");
  f.record.set_archived_unix_nanos(kT0 + absl::ToInt64Nanoseconds(absl::Hours(30)));
  EXPECT_EQ(flags(absl::FromUnixNanos(kT0) + absl::Hours(31)),
            std::vector<std::string>{"archived-late"});
}

}  // namespace
}  // namespace custody
