// Reading a docked recording's metadata: sidecars, name patterns, and the
// exact reason given for each kind of bad input.
#include "ingest/metadata.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "tests/test_util.h"

namespace custody::ingest {
namespace {

using custody::testing::TempDir;

class MetadataTest : public ::testing::Test {
 protected:
  std::string Recording(const std::string& sidecar) {
    std::string path = dir_ / "clip.mp4";
    std::ofstream(path) << "video";
    std::remove((path + ".json").c_str());
    if (!sidecar.empty()) std::ofstream(path + ".json") << sidecar;
    return path;
  }
  std::string Error(const std::string& sidecar) {
    auto m = ReadMetadata(Recording(sidecar), "CAM-1", std::nullopt);
    EXPECT_FALSE(m.ok());
    EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(m.status().message());
  }
  TempDir dir_;
};

TEST_F(MetadataTest, SidecarFieldsBecomeObjectMetadata) {
  auto m = ReadMetadata(
      Recording(R"({"device": "CAM-9", "agency": "PSB-3", "officers": ["A1", "A2"], "matter": 13,
      "target": "shop", "stage": "hearing", "start": "2026-11-26T09:30:00+08:00",
      "end": "2026-11-26T10:00:00+08:00", "gps": {"lat": 31.2, "lon": 121.5},
      "classification": "privacy", "device_clock": "2026-11-28T10:00:00Z",
      "docked_at": "2026-11-28T10:00:42Z"})"),
      "CAM-1", std::nullopt);
  ASSERT_TRUE(m.ok()) << m.status();
  auto meta = ToObjectMetadata(*m, "station-3");
  EXPECT_EQ(meta["device"], "CAM-9");  // the sidecar wins over the folder
  EXPECT_EQ(meta["agency"], "PSB-3");
  EXPECT_EQ(meta["officers"], "A1,A2");
  EXPECT_EQ(meta["matter"], "13");
  EXPECT_EQ(meta["start"], "2026-11-26T01:30:00+00:00");
  EXPECT_EQ(meta["end"], "2026-11-26T02:00:00+00:00");
  EXPECT_EQ(meta["gps"], "31.2,121.5");
  EXPECT_EQ(meta["classification"], "privacy");
  EXPECT_EQ(meta["device_clock_skew_s"], "-42");  // the device's clock ran 42 s slow
  EXPECT_EQ(meta["station"], "station-3");
}

TEST_F(MetadataTest, EachBadSidecarIsNamedExactly) {
  EXPECT_NE(Error("{").find("is not valid JSON"), std::string::npos);
  EXPECT_NE(Error("[]").find("must be a JSON object"), std::string::npos);
  EXPECT_NE(Error(R"({"start": "2026-11-26T09:30:00Z"})").find("no officer id"), std::string::npos);
  EXPECT_NE(Error(R"({"officers": ["A1"]})").find("no start time"), std::string::npos);
  EXPECT_NE(Error(R"({"officers": ["A1"], "start": "noon"})").find("\"noon\" is not a time"),
            std::string::npos);
  EXPECT_NE(Error(R"({"officers": ["A1"], "start": "2026-11-26T09:30:00Z", "matter": 14})")
                .find("matter \"14\" is not one of the enforcement matters 1..13"),
            std::string::npos);
  EXPECT_NE(Error(R"({"officers": ["A 1"], "start": "2026-11-26T09:30:00Z"})")
                .find("officer \"A 1\" is not an id"),
            std::string::npos);
  EXPECT_NE(Error(R"({"officers": ["A1"], "start": "2026-11-26T09:30:00Z", "colour": "red"})")
                .find("unknown field \"colour\""),
            std::string::npos);
  EXPECT_NE(Error(R"({"officers": ["A1"], "start": "2026-11-26T09:30:00Z",
                      "end": "2026-11-26T09:00:00Z"})")
                .find("end time is before the start time"),
            std::string::npos);
  EXPECT_NE(Error(R"({"officers": ["A1"], "start": "2026-11-26T09:30:00Z", "gps": [91, 0]})")
                .find("is not on Earth"),
            std::string::npos);
  EXPECT_NE(Error(R"({"officers": ["A1"], "start": "2026-11-26T09:30:00Z",
                      "classification": "secret"})")
                .find("classification \"secret\" is not one of"),
            std::string::npos);
  EXPECT_NE(Error(R"({"officers": ["A1"], "start": "2026-11-26T09:30:00Z", "agency": "PSB 3"})")
                .find("agency \"PSB 3\" is not an id"),
            std::string::npos);
  EXPECT_NE(Error("").find("no sidecar clip.mp4.json and no --name-pattern"), std::string::npos);
}

TEST_F(MetadataTest, EveryProblemOfASidecarIsNamedAtOnce) {
  std::string e = Error(R"({"officers": ["A 1"], "matter": 99, "colour": "red"})");
  EXPECT_NE(e.find("sidecar: 4 problems: "), std::string::npos) << e;
  EXPECT_NE(e.find("unknown field \"colour\""), std::string::npos) << e;
  EXPECT_NE(e.find("matter \"99\" is not one of"), std::string::npos) << e;
  EXPECT_NE(e.find("officer \"A 1\" is not an id"), std::string::npos) << e;
  EXPECT_NE(e.find("(4) no start time"), std::string::npos) << e;
  EXPECT_EQ(e.find("no officer id"), std::string::npos) << "a refused field is not also missing";
  // A start that does not parse is not also reported missing.
  e = Error(R"({"officers": ["A1"], "start": "noon", "end": "2026-11-26T09:00:00Z"})");
  EXPECT_EQ(e.find("no start time"), std::string::npos) << e;
  EXPECT_EQ(e.find("before the start"), std::string::npos) << e;
  EXPECT_EQ(e.find("problems"), std::string::npos) << "one problem: " << e;
  EXPECT_EQ(DescribeProblems("file name", {"a", "b", "c"}),
            "file name: 3 problems: (1) a; (2) b; (3) c");
  EXPECT_EQ(DescribeProblems("sidecar", {"no start time"}), "sidecar: no start time");
}

TEST_F(MetadataTest, NamePatternFillsFieldsWhenThereIsNoSidecar) {
  auto p = NamePattern::Parse("([A-Z0-9-]+)_([A-Z0-9]+)_([0-9T]+)\\.mp4", "device,officer,start");
  ASSERT_TRUE(p.ok()) << p.status();
  std::string path = dir_ / "CAM-4_A77_20261126T093000.mp4";
  std::ofstream(path) << "video";
  auto m = ReadMetadata(path, "", *p);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->device, "CAM-4");
  EXPECT_EQ(m->officers, std::vector<std::string>{"A77"});
  EXPECT_EQ(ToObjectMetadata(*m, "")["start"], "2026-11-26T09:30:00+00:00");
  std::string other = dir_ / "holiday.mp4";
  std::ofstream(other) << "video";
  EXPECT_NE(ReadMetadata(other, "", *p).status().message().find("does not match the name pattern"),
            std::string::npos);
  EXPECT_FALSE(NamePattern::Parse("(a)(b)", "device").ok());  // 2 groups, 1 field
  EXPECT_FALSE(NamePattern::Parse("(a", "device").ok());      // not a regex
  EXPECT_FALSE(NamePattern::Parse("(a)", "colour").ok());     // unknown field
}

// A camera's file sequence number (issue 31), from the sidecar or the name.
TEST_F(MetadataTest, ACamerasSequenceNumberComesFromTheSidecarOrTheName) {
  auto m = ReadMetadata(
      Recording(R"({"device": "CAM-9", "officers": ["A1"], "start": "2026-11-26T09:30:00Z",
      "sequence": "0042"})"),
      "", std::nullopt);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->sequence, 42u);
  EXPECT_EQ(ToObjectMetadata(*m, "")["sequence"], "42");
  auto number = ReadMetadata(
      Recording(R"({"device": "CAM-9", "officers": ["A1"], "start": "2026-11-26T09:30:00Z",
      "sequence": 43})"),
      "", std::nullopt);
  ASSERT_TRUE(number.ok()) << number.status();
  EXPECT_EQ(number->sequence, 43u);
  for (const char* bad : {R"("-1")", R"("4a")", "-1", "1.5", R"("")"}) {
    std::string e = Error(std::string(R"({"device": "CAM-9", "officers": ["A1"],
      "start": "2026-11-26T09:30:00Z", "sequence": )") +
                          bad + "}");
    EXPECT_NE(e.find("is not a file sequence number"), std::string::npos) << bad << ": " << e;
  }
  auto p = NamePattern::Parse("([A-Z0-9-]+)_([A-Z0-9]+)_([0-9T]+)_([0-9]+)\\.mp4",
                              "device,officer,start,sequence");
  ASSERT_TRUE(p.ok()) << p.status();
  std::string path = dir_ / "CAM-4_A77_20261126T093000_0041.mp4";
  std::ofstream(path) << "video";
  auto named = ReadMetadata(path, "", *p);
  ASSERT_TRUE(named.ok()) << named.status();
  EXPECT_EQ(named->sequence, 41u);
  auto none = ReadMetadata(Recording(R"({"device": "CAM-9", "officers": ["A1"],
      "start": "2026-11-26T09:30:00Z"})"),
                           "", std::nullopt);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->sequence.has_value());
  EXPECT_EQ(ToObjectMetadata(*none, "").count("sequence"), 0u);
}

TEST(TimestampTest, CompactAndRfc3339FormsAgree) {
  auto a = ParseTimestamp("2026-11-26T09:30:00+08:00");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*ParseTimestamp("20261126T013000Z"), *a);
  EXPECT_EQ(*ParseTimestamp("20261126T093000+0800"), *a);
  EXPECT_EQ(*ParseTimestamp("20261126T013000"), *a);
  EXPECT_FALSE(ParseTimestamp("2026-13-40T99:00:00Z").ok());
}

// A camera that writes local times without an offset: the station's zone
// says which instant they are; an explicit offset still wins.
TEST(TimestampTest, TimesWithoutAnOffsetAreLocalToTheStationsZone) {
  absl::TimeZone shanghai;
  ASSERT_TRUE(absl::LoadTimeZone("Asia/Shanghai", &shanghai));
  auto a = ParseTimestamp("2026-11-26T09:30:00+08:00");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*ParseTimestamp("20261126T093000", shanghai), *a);
  EXPECT_EQ(*ParseTimestamp("2026-11-26T09:30:00", shanghai), *a);
  EXPECT_EQ(*ParseTimestamp("20261126T013000Z", shanghai), *a);
  EXPECT_EQ(*ParseTimestamp("20261126T093000") - *a, absl::Hours(8)) << "UTC by default";
}

}  // namespace
}  // namespace custody::ingest
