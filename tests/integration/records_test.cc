// Records, archive numbers, continuity, exemptions, devices, retention and
// the compliance report (issue 6) on a TLS cluster of three real nodes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/units.h"
#include "tests/integration/records_fixture.h"

namespace custody::testing {
namespace {

TEST_F(RecordsTest, CatalogShipsTheThirteenMatters) {
  json c = Ok("olga", 0, {"catalog", "list"});
  ASSERT_EQ(c.size(), 13u);
  EXPECT_EQ(c[2]["number"], 3);
  EXPECT_EQ(c[2]["matter"], "现场检查（勘验）");
  CliResult bad =
      As("olga", 0,
         {"record", "create", "--agency", "A", "--matter", "14", "--target", "t", "--stage", "s",
          "--officer", "o1", "--device", "D1", "--start", At(-absl::Hours(1))});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("matter 14 is not in the catalog"), std::string::npos) << bad.err;
}

TEST_F(RecordsTest, RecordIsTheFoldOfItsEventsAndCorrectionsKeepTheOriginal) {
  std::string rec = NewRecord(At(-absl::Hours(2)), "");
  std::string video = Segment(rec, "video", At(-absl::Hours(2)), At(-absl::Minutes(90)));
  Ok("olga", 2,
     {"record", "correct", rec, "--field", "target", "--value", "shop-18", "--reason",
      "typo in the shop number"});
  json r = Ok("aud", 1, {"record", "show", rec});
  EXPECT_EQ(r["target"], "shop-18");
  ASSERT_EQ(r["corrections"].size(), 1u);
  EXPECT_EQ(r["corrections"][0]["old_value"], "shop-17");
  EXPECT_EQ(r["corrections"][0]["by"], "user:olga");
  // A time correction is signed as the node stores it (Unix nanoseconds), to
  // the nanosecond the officer typed.
  const absl::Time start = absl::Now() - absl::Hours(2) - absl::Nanoseconds(123456789);
  Ok("olga", 1,
     {"record", "correct", rec, "--field", "start", "--value",
      absl::FormatTime(absl::RFC3339_full, start, absl::UTCTimeZone()), "--reason",
      "the clock of D1 ran late"});
  json again = Ok("aud", 0, {"record", "show", rec});
  ASSERT_EQ(again["corrections"].size(), 2u) << again.dump();
  // Shown as a time, not as the nanoseconds stored.
  EXPECT_EQ(again["corrections"][1]["new_value"],
            absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", start, absl::UTCTimeZone()));
  r = Ok("aud", 1, {"record", "show", rec});
  ASSERT_EQ(r["segments"].size(), 1u);
  EXPECT_EQ(r["segments"][0]["object_id"], video);
  json listed = Ok("aud", 2, {"record", "list", "--agency", "A", "--device", "D1"});
  ASSERT_EQ(listed.size(), 1u);
  CliResult other =
      As("olga", 0,
         {"record", "create", "--agency", "B", "--matter", "3", "--target", "t", "--stage", "s",
          "--officer", "o1", "--device", "D1", "--start", At(-absl::Hours(1))});
  EXPECT_NE(other.exit_code, 0) << "an officer of A makes no records for B";
  EXPECT_NE(other.err.find("PERMISSION_DENIED"), std::string::npos) << other.err;
  CliResult log = As("aud", 0, {"audit", "log", "record:" + rec, "--json"});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  std::set<std::string> actions;
  const json events = json::parse(log.out)["events"];
  for (const auto& e : events) actions.insert(e["action"]);
  EXPECT_TRUE(actions.count("record.created") && actions.count("record.attached") &&
              actions.count("record.corrected"));
}

TEST_F(RecordsTest, ConcurrentArchivesOnDifferentNodesGetDistinctNumbers) {
  const std::string start = At(-absl::Hours(3)), end = At(-absl::Hours(2));
  std::vector<std::string> recs;
  for (int i = 0; i < 6; ++i) recs.push_back(Archivable(start, end, "shop-9", i % 3));
  std::vector<std::string> numbers(recs.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < recs.size(); ++i) {
    threads.emplace_back([&, i] {
      CliResult r = As("arch", static_cast<int>(i % 3), {"record", "archive", recs[i], "--json"});
      if (r.exit_code == 0) numbers[i] = json::parse(r.out)["archive_number"];
    });
  }
  for (std::thread& t : threads) t.join();
  std::set<std::string> distinct(numbers.begin(), numbers.end());
  EXPECT_EQ(distinct.size(), recs.size());
  const std::string prefix =
      "A-" + start.substr(0, 4) + start.substr(5, 2) + start.substr(8, 2) + "-shop-9-inspection-";
  for (int seq = 1; seq <= 6; ++seq) {
    EXPECT_TRUE(distinct.count(absl::StrCat(prefix, "000", seq))) << prefix << seq;
  }
  CliResult again = As("arch", 1, {"record", "archive", recs[0]});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("already archived"), std::string::npos) << again.err;
}

TEST_F(RecordsTest, OverdueRecordsAreListedUntilArchivedLate) {
  std::string late = Archivable(At(-absl::Hours(80)), At(-absl::Hours(72)));
  std::string fresh = NewRecord(At(-absl::Hours(3)), At(-absl::Hours(2)));
  json overdue = Ok("aud", 1, {"record", "overdue"});
  ASSERT_EQ(overdue.size(), 1u);
  EXPECT_EQ(overdue[0]["id"], late);
  Ok("arch", 2, {"record", "archive", late});
  EXPECT_EQ(Ok("aud", 0, {"record", "overdue"}).size(), 0u);
  EXPECT_TRUE(Flags(Ok("aud", 0, {"record", "show", late})).count("archived-late"));
  EXPECT_FALSE(Flags(Ok("aud", 0, {"record", "show", fresh})).count("overdue"));
}

TEST_F(RecordsTest, GapsNeedAnInterruptionNoteAndDocumentsMustMatchTheFootage) {
  std::string rec = NewRecord(At(-absl::Hours(1)), "");
  Segment(rec, "video", At(-absl::Minutes(60)), At(-absl::Minutes(50)));
  Segment(rec, "video", At(-absl::Minutes(45)), At(-absl::Minutes(40)));  // 5 min gap
  Segment(rec, "video", At(-absl::Minutes(40)), At(-absl::Minutes(30)));  // continuous
  json r = Ok("aud", 0, {"record", "show", rec});
  ASSERT_EQ(r["gaps"].size(), 1u);
  EXPECT_TRUE(Flags(r).count("unexplained-gap"));
  const std::string from = At(-absl::Hours(24)).substr(0, 10);
  const std::string to = At(absl::Hours(48)).substr(0, 10);
  json report = Ok("hank", 0, {"report", "--agency", "A", "--from", from, "--to", to});
  EXPECT_EQ(report["unexplained_gaps"], 1);
  EXPECT_EQ(report["explained_gaps"], 0);
  CliResult bad = As("olga", 1, {"record", "note", rec, "--gap", "2", "--reason", "x"});
  EXPECT_NE(bad.exit_code, 0);
  Ok("olga", 1, {"record", "note", rec, "--gap", "1", "--reason", "battery swap"});
  r = Ok("aud", 2, {"record", "show", rec});
  EXPECT_FALSE(Flags(r).count("unexplained-gap"));
  EXPECT_EQ(r["gaps"][0]["explained_by"], "note: battery swap");
  report = Ok("hank", 0, {"report", "--agency", "A", "--from", from, "--to", to});
  EXPECT_EQ(report["unexplained_gaps"], 0);
  EXPECT_EQ(report["explained_gaps"], 1);
  // A second gap, closed by an attached audio note.
  Segment(rec, "video", At(-absl::Minutes(25)), At(-absl::Minutes(20)));
  EXPECT_TRUE(Flags(Ok("aud", 0, {"record", "show", rec})).count("unexplained-gap"));
  std::string audio = Stored({"device=D1"});
  Ok("olga", 2, {"record", "attach", rec, audio, "--kind", "audio", "--gap", "2"});
  r = Ok("aud", 1, {"record", "show", rec});
  ASSERT_EQ(r["gaps"].size(), 2u);
  EXPECT_EQ(r["gaps"][1]["explained_by"], "audio: " + audio);
  EXPECT_FALSE(Flags(r).count("unexplained-gap"));
  // The written record says the inspection began 20 minutes before the footage.
  std::string doc = Stored({"start=" + At(-absl::Minutes(80)), "end=" + At(-absl::Minutes(30))});
  Ok("olga", 0, {"record", "attach", rec, doc, "--kind", "document"});
  EXPECT_TRUE(Flags(Ok("aud", 0, {"record", "show", rec})).count("time-mismatch"));
}

TEST_F(RecordsTest, ExemptionsAreApprovedByALeaderOfTheAgency) {
  json r = Ok("olga", 0,
              {"record", "exempt", "--reason", "explosion-zone", "--details",
               "gas leak, devices off", "--agency", "A", "--matter", "3", "--target", "plant-2",
               "--stage", "inspection", "--start", At(-absl::Hours(1))});
  std::string rec = r["id"];
  EXPECT_TRUE(Flags(Ok("aud", 1, {"record", "show", rec})).count("exemption-pending"));
  EXPECT_NE(As("olga", 1, {"record", "approve-exemption", rec}).exit_code, 0);
  CliResult other = As("leo", 1, {"record", "approve-exemption", rec});
  EXPECT_NE(other.exit_code, 0);
  EXPECT_NE(other.err.find("PERMISSION_DENIED"), std::string::npos) << other.err;
  Ok("lena", 2, {"record", "approve-exemption", rec});
  json shown = Ok("aud", 0, {"record", "show", rec});
  EXPECT_EQ(shown["exemption"]["approved_by"], "user:lena");
  EXPECT_NE(
      As("olga", 0, {"record", "exempt", rec, "--reason", "bored", "--details", "x"}).exit_code, 0);
}

TEST_F(RecordsTest, DevicesAreCheckedBeforeUseAndFootageNamesItsHolder) {
  Ok("arch", 0, {"device", "add", "D1", "--agency", "A", "--model", "DSJ-9"});
  CliResult failing = As("olga", 1,
                         {"device", "checkout", "D1", "--officer", "o1", "--battery", "FAIL",
                          "--storage", "OK", "--clock", "OK"});
  EXPECT_NE(failing.exit_code, 0);
  EXPECT_NE(failing.err.find("battery=FAIL"), std::string::npos) << failing.err;
  Ok("olga", 1,
     {"device", "checkout", "D1", "--officer", "o1", "--battery", "OK", "--storage", "OK",
      "--clock", "OK"});
  std::string rec = NewRecord(At(-absl::Minutes(1)), "");
  Segment(rec, "video", At(absl::Seconds(1)), At(absl::Minutes(5)));
  // Footage whose camera clock was 45 s off the station's (ingest writes it).
  std::string skewed = Stored({"device=D1", "start=" + At(absl::Minutes(6)),
                               "end=" + At(absl::Minutes(9)), "device_clock_skew_s=45.2"});
  Ok("olga", 0, {"record", "attach", rec, skewed, "--kind", "video"});
  json r = Ok("aud", 2, {"record", "show", rec});
  EXPECT_EQ(r["segments"][0]["held_by"], "o1");
  EXPECT_TRUE(Flags(r).count("clock-skew"));
  const std::string from = At(-absl::Hours(24)).substr(0, 10);
  const std::string to = At(absl::Hours(48)).substr(0, 10);
  EXPECT_EQ(Ok("hank", 0,
               {"report", "--agency", "A", "--from", from, "--to", to})["devices_not_checked_in"],
            1);
  Ok("olga", 2, {"device", "checkin", "D1"});
  EXPECT_EQ(Ok("hank", 0,
               {"report", "--agency", "A", "--from", from, "--to", to})["devices_not_checked_in"],
            0);
}

TEST_F(RecordsTest, RetentionIsExtendedNeverShortenedAndHoldsStack) {
  std::string rec = Archivable(At(-absl::Hours(3)), At(-absl::Hours(2)));
  json r = Ok("arch", 0, {"record", "archive", rec});
  CliResult shorter =
      As("arch", 1,
         {"record", "retain", rec, "--until", At(absl::Hours(24 * 365)), "--reason", "space"});
  EXPECT_NE(shorter.exit_code, 0);
  EXPECT_NE(shorter.err.find("never shortened"), std::string::npos) << shorter.err;
  Ok("arch", 1,
     {"record", "retain", rec, "--until", At(absl::Hours(24 * 365 * 5)), "--reason",
      "appeal pending"});
  Ok("hank", 2, {"record", "retain", rec, "--permanent", "--reason", "penalty evidence"});
  EXPECT_NE(As("arch", 0,
               {"record", "retain", rec, "--until", At(absl::Hours(24 * 365 * 9)), "--reason", "x"})
                .exit_code,
            0);
  Ok("lena", 0, {"hold", "set", rec, "--reason", "court order 12", "--hold", "hold-12"});
  Ok("lena", 0, {"hold", "set", rec, "--reason", "court order 13", "--hold", "hold-13"});
  EXPECT_NE(As("lena", 0, {"hold", "set", rec, "--reason", "again", "--hold", "hold-12"}).exit_code,
            0)
      << "one id, one hold";
  json shown = Ok("aud", 1, {"record", "show", rec});
  EXPECT_TRUE(shown["retention"]["permanent"].get<bool>());
  EXPECT_EQ(shown["retention"]["legal_holds"].size(), 2u);
  Ok("lena", 1, {"hold", "release", rec, "--hold", "hold-12", "--reason", "case closed"});
  shown = Ok("aud", 1, {"record", "show", rec});
  ASSERT_EQ(shown["retention"]["legal_holds"].size(), 1u);
  EXPECT_EQ(shown["retention"]["legal_holds"][0]["id"], "hold-13");
  // Each refused change is on record.
  CliResult log = As("aud", 1, {"audit", "log", "record:" + rec, "--json"});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  int refused = 0;
  const json events = json::parse(log.out)["events"];
  for (const auto& e : events) refused += e["action"] == "access.refused";
  EXPECT_GE(refused, 1);
}

TEST_F(RecordsTest, IngestedFootageIsFiledUnderOneRecord) {
  Ok("arch", 0, {"device", "add", "D7", "--agency", "A"});
  std::vector<std::string> common = {"device=D7", "matter=5", "officers=o1,o2", "target=market",
                                     "stage=seizure"};
  auto meta = [&](absl::Duration from, absl::Duration to) {
    std::vector<std::string> m = common;
    m.push_back("start=" + At(from));
    m.push_back("end=" + At(to));
    return m;
  };
  Stored(meta(-absl::Minutes(30), -absl::Minutes(20)));
  Stored(meta(-absl::Minutes(20), -absl::Minutes(10)));
  json list = Ok("aud", 1, {"record", "list", "--device", "D7"});
  ASSERT_EQ(list.size(), 1u);
  json r = Ok("aud", 2, {"record", "show", list[0]["id"]});
  EXPECT_EQ(r["target"], "market");
  EXPECT_EQ(r["matter"], 5);
  EXPECT_EQ(r["segments"].size(), 2u);
  EXPECT_TRUE(r["gaps"].empty());
}

TEST_F(RecordsTest, IngestedFootageTakesItsDevicesAgencyOrIsRefusedBeforeItIsStored) {
  Ok("arch", 0, {"device", "add", "D8", "--agency", "A"});
  auto meta = [](const std::string& device) {
    return std::vector<std::string>{"device=" + device, "matter=5", "officers=o1",
                                    "start=" + At(-absl::Minutes(30)),
                                    "end=" + At(-absl::Minutes(20))};
  };
  // The sidecar says B, the device belongs to A: refused, nothing stored.
  const std::string file = dir_ / "conflict.mp4";
  const std::string id = WriteRandomFile(file, 64 << 10, 7);
  std::vector<std::string> args = {"put", file};
  for (const std::string& m : meta("D8")) args.insert(args.end(), {"--meta", m});
  args.insert(args.end(), {"--meta", "agency=B"});
  CliResult conflict = As("olga", 0, args);
  EXPECT_NE(conflict.exit_code, 0);
  EXPECT_NE(conflict.err.find("belongs to agency A"), std::string::npos) << conflict.err;
  EXPECT_NE(conflict.err.find("FAILED_PRECONDITION"), std::string::npos) << conflict.err;
  EXPECT_NE(As("aud", 1, {"stat", id}).exit_code, 0) << "refused before any byte was kept";
  // An unregistered device whose metadata names another agency than the
  // uploader's: refused, so no sidecar files footage into B's records.
  const std::string other = dir_ / "other.mp4";
  const std::string other_id = WriteRandomFile(other, 64 << 10, 8);
  std::vector<std::string> other_args = {"put", other};
  for (const std::string& m : meta("D10")) other_args.insert(other_args.end(), {"--meta", m});
  other_args.insert(other_args.end(), {"--meta", "agency=B"});
  CliResult foreign = As("olga", 0, other_args);
  EXPECT_NE(foreign.exit_code, 0);
  EXPECT_NE(foreign.err.find("not for agency B"), std::string::npos) << foreign.err;
  EXPECT_NE(As("aud", 1, {"stat", other_id}).exit_code, 0);
  // An unregistered device: the uploader's agency (olga's, A).
  const std::string filed = Stored(meta("D9"));
  json list = Ok("aud", 1, {"record", "list", "--device", "D9"});
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["agency"], "A");
  // The object's own history names the record it joined.
  CliResult log = As("aud", 2, {"audit", "log", filed, "--json"});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  int filings = 0;
  const json events = json::parse(log.out)["events"];
  for (const auto& e : events) {
    if (e["action"] == "record.filed") {
      ++filings;
      EXPECT_EQ(e["details"]["record"], list[0]["id"]);
    }
  }
  EXPECT_EQ(filings, 1) << log.out;
}

TEST_F(RecordsTest, IngestRecordsEndAtCheckInOrWhenTheDeviceFallsSilent) {
  Ok("arch", 0, {"device", "add", "D7", "--agency", "A"});
  Ok("arch", 0, {"device", "add", "D6", "--agency", "A"});
  Ok("olga", 1,
     {"device", "checkout", "D7", "--officer", "o1", "--battery", "OK", "--storage", "OK",
      "--clock", "OK"});
  auto segment = [&](const std::string& device, absl::Duration from, absl::Duration to) {
    Stored({"device=" + device, "matter=5", "officers=o1", "target=market", "stage=seizure",
            "start=" + At(from), "end=" + At(to)},
           ".mp4");
  };
  // D7: two segments, then checked in two hours later; the record ends at
  // the last segment's end, not at the check-in.
  segment("D7", -absl::Hours(3), -absl::Minutes(150));
  const std::string last_end = At(-absl::Minutes(140));
  Stored({"device=D7", "matter=5", "officers=o1", "target=market", "stage=seizure",
          "start=" + At(-absl::Minutes(150)), "end=" + last_end},
         ".mp4");
  json open = Ok("aud", 1, {"record", "list", "--device", "D7"});
  ASSERT_EQ(open.size(), 1u);
  EXPECT_TRUE(Ok("aud", 1, {"record", "show", open[0]["id"]})["end"].is_null())
      << "open while the device is out";
  Ok("olga", 2, {"device", "checkin", "D7"});
  json ended = Ok("aud", 0, {"record", "show", open[0]["id"]});
  absl::Time want;
  ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, last_end, &want, nullptr));
  EXPECT_EQ(ended["end"], FormatUnixNanos(absl::ToUnixNanos(want)));
  // D6: never checked in; its last footage ended 30 h ago, beyond the idle
  // time (12 h): the record counts as ended then, so it is overdue, and
  // archiving it puts that end on record first.
  segment("D6", -absl::Hours(31), -absl::Hours(30));
  json silent = Ok("aud", 1, {"record", "list", "--device", "D6"});
  ASSERT_EQ(silent.size(), 1u);
  std::set<std::string> overdue;
  const json listed = Ok("aud", 2, {"record", "overdue"});
  for (const auto& r : listed) overdue.insert(r["id"]);
  EXPECT_TRUE(overdue.count(silent[0]["id"])) << "a silent device's record is tracked";
  json archived = Ok("arch", 0, {"record", "archive", silent[0]["id"]});
  EXPECT_FALSE(archived["archive_number"].get<std::string>().empty());
  EXPECT_FALSE(archived["end"].is_null());
}

TEST_F(RecordsTest, ARecordWithoutFootageIsArchivedOnlyWithAnApprovedExemption) {
  std::string empty = NewRecord(At(-absl::Hours(3)), At(-absl::Hours(2)), "empty");
  CliResult refused = As("arch", 0, {"record", "archive", empty});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("holds no footage"), std::string::npos) << refused.err;
  json r = Ok("olga", 1,
              {"record", "exempt", "--reason", "emergency", "--details", "camera lost", "--agency",
               "A", "--matter", "1", "--target", "t", "--stage", "hearing", "--start",
               At(-absl::Hours(3)), "--end", At(-absl::Hours(2))});
  CliResult pending = As("arch", 0, {"record", "archive", r["id"]});
  EXPECT_NE(pending.exit_code, 0) << "not before the exemption is approved";
  Ok("lena", 0, {"record", "approve-exemption", r["id"]});
  EXPECT_FALSE(
      Ok("arch", 2, {"record", "archive", r["id"]})["archive_number"].get<std::string>().empty());
}

TEST_F(RecordsTest, ReportCountsAScriptedMonth) {
  const absl::Duration day = absl::Hours(24);
  // Archived on time: ended an hour ago.
  for (int i = 0; i < 3; ++i) {
    std::string rec = Archivable(At(-absl::Hours(2)), At(-absl::Hours(1)), "t" + std::to_string(i));
    Ok("arch", i % 3, {"record", "archive", rec});
  }
  // Archived late: ended ten days ago.
  std::string late = Archivable(At(-10 * day - absl::Hours(1)), At(-10 * day), "late");
  Ok("arch", 1, {"record", "archive", late});
  // Overdue: ended two days ago, not archived.
  std::string overdue = NewRecord(At(-2 * day - absl::Hours(1)), At(-2 * day), "open");
  // A gap that stays unexplained, and one that a note closes.
  std::string gappy = NewRecord(At(-absl::Hours(1)), "", "gappy");
  Segment(gappy, "video", At(-absl::Minutes(60)), At(-absl::Minutes(50)));
  Segment(gappy, "video", At(-absl::Minutes(40)), At(-absl::Minutes(30)));
  Segment(gappy, "video", At(-absl::Minutes(20)), At(-absl::Minutes(10)));
  Ok("olga", 0, {"record", "note", gappy, "--gap", "1", "--reason", "lunch break"});
  // Two exemptions, one approved.
  for (const char* reason : {"emergency", "secret"}) {
    json r =
        Ok("olga", 2,
           {"record", "exempt", "--reason", reason, "--details", "see note", "--agency", "A",
            "--matter", "1", "--target", reason, "--stage", "hearing", "--start", At(-5 * day)});
    if (std::string(reason) == "emergency") Ok("lena", 0, {"record", "approve-exemption", r["id"]});
  }
  // Outside the period, and of another agency: not counted.
  NewRecord(At(-40 * day), At(-40 * day + absl::Hours(1)), "old");
  const std::string from = At(-31 * day).substr(0, 10), to = At(2 * day).substr(0, 10);
  json r = Ok("hank", 1, {"report", "--agency", "A", "--from", from, "--to", to});
  EXPECT_EQ(r["records"], 8);
  EXPECT_EQ(r["archived"], 4);
  EXPECT_EQ(r["archived_on_time"], 3);
  EXPECT_EQ(r["overdue"], 1);
  EXPECT_EQ(r["overdue_records"][0], overdue);
  EXPECT_EQ(r["unexplained_gaps"], 1);
  EXPECT_EQ(r["gap_records"][0], gappy);
  EXPECT_EQ(r["exemptions"], 2);
  EXPECT_EQ(r["exemptions_pending"], 1);
  CliResult csv =
      As("aud", 2, {"report", "--agency", "A", "--from", from, "--to", to, "--format", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_NE(csv.out.find("records"), std::string::npos);
  EXPECT_NE(As("olga", 0, {"report", "--agency", "A", "--from", from, "--to", to}).exit_code, 0)
      << "an officer makes no compliance reports";
}

}  // namespace
}  // namespace custody::testing
