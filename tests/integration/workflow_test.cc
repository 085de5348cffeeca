// The archivist's everyday workflow (issue 24) on a three-node TLS cluster
// whose agencies keep Shanghai time: archive numbers in local dates, records
// found by archive number or prefix, several legal holds released one by
// one, late hand-overs, one approval pair for a whole record, and the
// register of who viewed what.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <thread>

#include "absl/strings/ascii.h"
#include "tests/integration/process.h"
#include "tests/integration/records_fixture.h"
#include "tests/test_util.h"

namespace custody::testing {
namespace {

class WorkflowTest : public RecordsTest {
 protected:
  std::vector<std::string> NodeFlags() const override {
    return {"--repair-interval",
            "1s",
            "--time-zone",
            "Asia/Shanghai",
            "--unsafe-testing-archive-deadline",
            "4s"};
  }
  std::string Reads(const std::string& user, const std::string& id, int n) {
    std::string out = dir_ / ("read-" + std::to_string(reads_++));
    return As(user, n, {"get", id, "-o", out}).exit_code == 0 ? out : "";
  }
  int reads_ = 0;
};

std::set<std::string> HoldIds(const json& r) {
  std::set<std::string> ids;
  for (const auto& h : r["retention"]["legal_holds"]) ids.insert(h["id"].get<std::string>());
  return ids;
}

// 06:30 on the 27th in Shanghai is 22:30 on the 26th in UTC: the archive
// number carries the local date, and finds the record.
TEST_F(WorkflowTest, ArchiveNumbersUseTheAgencysLocalDateAndFindTheRecord) {
  std::string rec = Archivable("2026-11-26T22:30:00Z", "2026-11-26T23:30:00Z");
  json archived = Ok("arch", 1, {"record", "archive", rec});
  const std::string number = archived["archive_number"];
  EXPECT_NE(number.find("-20261127-"), std::string::npos) << number;
  EXPECT_EQ(archived["time_zone"], "Asia/Shanghai");
  EXPECT_EQ(Ok("aud", 2, {"record", "show", number})["id"], rec);
  EXPECT_EQ(Ok("aud", 0, {"record", "show", rec.substr(0, 9)})["id"], rec);
  CliResult text = As("aud", 0, {"record", "show", number});
  EXPECT_NE(text.out.find("2026-11-27T06:30:00+08:00"), std::string::npos) << text.out;
  CliResult none = As("aud", 0, {"record", "show", "A-20261127-nobody-0001"});
  EXPECT_EQ(none.exit_code, 1);
  CliResult shortened = As("aud", 0, {"record", "show", rec.substr(0, 6)});
  EXPECT_EQ(shortened.exit_code, 1);
  EXPECT_NE(shortened.err.find("too short"), std::string::npos) << shortened.err;
  // Filters: target, free text, and paging.
  NewRecord(At(-absl::Hours(2)), At(-absl::Hours(1)), "bakery-3");
  json bakery = Ok("aud", 0, {"record", "list", "--target", "BAKERY"});
  ASSERT_EQ(bakery.size(), 1u);
  EXPECT_EQ(bakery[0]["target"], "bakery-3");
  EXPECT_EQ(Ok("aud", 0, {"record", "list", "--text", number}).size(), 1u);
  CliResult first = As("aud", 0, {"record", "list", "--limit", "1", "--json"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  json page = json::parse(first.out);
  ASSERT_EQ(page.size(), 1u);
  const size_t at = first.err.find("--page ");
  ASSERT_NE(at, std::string::npos) << "the next page's token on stderr: " << first.err;
  const std::string token = first.err.substr(at + 7, first.err.find('\n', at) - at - 7);
  json next = Ok("aud", 0, {"record", "list", "--limit", "1", "--page", token});
  ASSERT_EQ(next.size(), 1u);
  EXPECT_NE(page[0]["id"], next[0]["id"]);
  CliResult bad = As("aud", 0, {"record", "list", "--limit", "1", "--page", "1"});
  EXPECT_NE(bad.exit_code, 0) << "an offset is not a page token";
  EXPECT_NE(bad.err.find("not a page token"), std::string::npos) << bad.err;
  CliResult table = As("aud", 0, {"record", "list"});
  EXPECT_EQ(table.out.rfind("RECORD", 0), 0u) << "a header line first: " << table.out;
}

// A second court's hold survives the first's release; each is released by
// its id, and a release that does not say which of two is refused.
TEST_F(WorkflowTest, SeveralLegalHoldsAreReleasedOneByOne) {
  std::string rec = Archivable(At(-absl::Hours(5)), At(-absl::Hours(4)));
  Ok("arch", 0, {"record", "archive", rec});
  json first =
      Ok("hank", 0, {"hold", "set", rec, "--reason", "appeal", "--authority", "Court 1, case 12"});
  json second = Ok(
      "lena", 1, {"hold", "set", rec, "--reason", "civil suit", "--authority", "Court 2, case 7"});
  std::set<std::string> ids = HoldIds(second);
  ASSERT_EQ(ids.size(), 2u);
  const std::string court1 = *HoldIds(first).begin();
  json holds = Ok("aud", 2, {"hold", "list"});
  ASSERT_EQ(holds.size(), 2u);
  EXPECT_EQ(holds[0]["record"], rec);
  CliResult which = As("hank", 0, {"hold", "release", rec, "--reason", "appeal decided"});
  EXPECT_EQ(which.exit_code, 2) << "a usage error: which hold is missing";
  EXPECT_NE(which.err.find("--hold"), std::string::npos) << which.err;
  json after =
      Ok("hank", 0, {"hold", "release", rec, "--hold", court1, "--reason", "appeal decided"});
  ids.erase(court1);
  EXPECT_EQ(HoldIds(after), ids) << "the second court's hold stays";
  EXPECT_EQ(Ok("aud", 1, {"record", "list", "--held"}).size(), 1u);
  CliResult purge = As("arch", 0, {"purge", "--expired", "--json"});
  EXPECT_EQ(purge.out.find(rec), std::string::npos) << "a held record is never a candidate";
  Ok("lena", 2, {"hold", "release", rec, "--reason", "suit settled"});  // the only one left
  EXPECT_EQ(Ok("aud", 1, {"record", "list", "--held"}).size(), 0u);
}

// Article 17: an officer who could not hand over in time reports it; once a
// leader of the agency approves, the record is due 24 h after the return.
TEST_F(WorkflowTest, AnApprovedLateHandOverMovesTheDeadline) {
  std::string rec = Archivable(At(-absl::Hours(30)), At(-absl::Hours(29)));
  EXPECT_TRUE(Flags(Ok("aud", 0, {"record", "show", rec})).count("overdue"));
  json reported =
      Ok("olga", 1,
         {"record", "late", rec, "--reason", "continuous duty", "--until", At(absl::Hours(2))});
  EXPECT_TRUE(Flags(reported).count("late-pending"));
  EXPECT_TRUE(Flags(reported).count("overdue")) << "not moved before a leader approves";
  EXPECT_EQ(As("olga", 0, {"record", "approve-late", rec}).exit_code, 1) << "a leader approves";
  EXPECT_EQ(As("leo", 0, {"record", "approve-late", rec}).exit_code, 1) << "agency B's leader";
  json approved = Ok("lena", 2, {"record", "approve-late", rec});
  EXPECT_FALSE(Flags(approved).count("overdue"));
  EXPECT_EQ(approved["late"]["approved_by"], "user:lena");
  const std::string from = At(-absl::Hours(48)).substr(0, 10);
  const std::string to = At(absl::Hours(48)).substr(0, 10);
  json report = Ok("hank", 0, {"report", "--agency", "A", "--from", from, "--to", to});
  EXPECT_EQ(report["late_handovers"], 1);
  EXPECT_EQ(report["overdue"], 0);
  // Without a late hand-over a record is overdue the (testing) deadline
  // after its end.
  std::string plain = Archivable(At(-absl::Minutes(2)), At(-absl::Seconds(1)));
  absl::SleepFor(absl::Seconds(5));
  EXPECT_TRUE(Flags(Ok("aud", 0, {"record", "show", plain})).count("overdue"));
}

// One request and one pair of approvals open every object of a record,
// also footage attached after the approval; the register shows the reads.
TEST_F(WorkflowTest, OneApprovalPairOpensAWholeRecordAndTheRegisterShowsTheReads) {
  const std::string since = At(-absl::Seconds(1));
  std::string rec = NewRecord(At(-absl::Hours(3)), "");
  std::string a = Segment(rec, "video", At(-absl::Hours(3)), At(-absl::Minutes(170)));
  std::string b = Segment(rec, "video", At(-absl::Minutes(170)), At(-absl::Minutes(160)));
  std::string outside = Stored({"device=D1"});
  json req = Ok("arch", 0, {"access", "request", "--record", rec, "--reason", "court 2026-12-09"});
  EXPECT_EQ(req["record"], rec);
  const std::string full = req["request"];
  json inbox = Ok("hank", 1, {"access", "list", "--waiting-for-me"});
  ASSERT_EQ(inbox["grants"].size(), 1u);
  EXPECT_EQ(Ok("leo", 1, {"access", "list", "--waiting-for-me"})["grants"].size(), 0u);
  EXPECT_EQ(Reads("arch", a, 0), "") << "not before the approvals";
  Ok("hank", 1, {"access", "approve", full.substr(0, 16)});  // the id as access list prints it
  Ok("lena", 2, {"access", "approve", full.substr(0, 10)});
  EXPECT_EQ(Ok("hank", 1, {"access", "list", "--waiting-for-me"})["grants"].size(), 0u);
  EXPECT_NE(Reads("arch", a, 0), "");
  EXPECT_NE(Reads("arch", b, 1), "");
  std::string c = Segment(rec, "video", At(-absl::Minutes(160)), At(-absl::Minutes(150)));
  EXPECT_NE(Reads("arch", c, 2), "") << "attached while the grant lives";
  EXPECT_EQ(Reads("arch", outside, 0), "") << "not part of the record";
  // The viewing register: every read by arch since the test began, across
  // objects and nodes; the approvals shown once each with their nodes.
  json reads =
      Ok("aud", 0,
         {"audit", "log", "--action", "object.read", "--actor", "user:arch", "--from", since});
  std::set<std::string> seen;
  for (const auto& e : reads["events"]) seen.insert(e["subject"].get<std::string>());
  EXPECT_EQ(seen, (std::set<std::string>{a, b, c}));
  json hank = Ok("aud", 1, {"audit", "log", "--actor", "user:hank", "--from", since});
  int approved_lines = 0;
  for (const auto& l : hank["lines"]) {
    if (l["action"] == "access.approved") {
      ++approved_lines;
      EXPECT_EQ(l["nodes"].size(), 3u) << l.dump();
    }
    EXPECT_NE(l["action"], "ledger.received") << "copies fold into their decision's line";
  }
  EXPECT_EQ(approved_lines, 1);
  EXPECT_GE(hank["events"].size(), 3u) << "the decision and its copies on the other nodes";
  CliResult bad = As("aud", 0, {"audit", "log", "--from", "yesterday"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
}

// A day at the station: cameras of two agencies docked at one station that
// names files in local (Shanghai) time; each file is filed under its
// device's agency, its record ends when the camera is checked in, and is
// numbered by the local date.
TEST_F(WorkflowTest, ADayAtTheStationFilesLocalTimeFootageByDeviceAgency) {
  Ok("arch", 0, {"device", "add", "CAM-A", "--agency", "A"});
  Ok("arch", 0, {"device", "add", "CAM-B", "--agency", "B"});
  Ok("arch", 0, {"device", "add", "CAM-A2", "--agency", "A"});
  for (const char* cam : {"CAM-A", "CAM-A2"}) {
    Ok("olga", 1,
       {"device", "checkout", cam, "--officer", "o1", "--battery", "OK", "--storage", "OK",
        "--clock", "OK"});
  }
  namespace fs = std::filesystem;
  fs::path watch = dir_ / "station-folder";
  fs::create_directories(watch / "CAM-A");
  fs::create_directories(watch / "CAM-B");
  fs::create_directories(watch / "CAM-A2");
  // 06:30-06:40 and 06:40-06:50 on the 27th, Shanghai time.
  WriteRandomFile(watch / "CAM-A" / "CAM-A_o1_m3_20261127T063000_20261127T064000.mp4", 300000, 1);
  WriteRandomFile(watch / "CAM-A" / "CAM-A_o1_m3_20261127T064000_20261127T065000.mp4", 300000, 2);
  WriteRandomFile(watch / "CAM-B" / "CAM-B_o7_m5_20261127T070000_20261127T071000.mp4", 300000, 3);
  // A third camera whose sidecar gives local times without an offset.
  std::ofstream(watch / "CAM-A2" / "clip-1.mp4.json")
      << R"({"officer": "o2", "matter": 4, "target": "shop-9", "start": "2026-11-27T08:00:00",
             "end": "2026-11-27T08:20:00"})";
  WriteRandomFile(watch / "CAM-A2" / "clip-1.mp4", 200000, 4);
  std::string servers;
  for (const auto& n : nodes_) servers += (servers.empty() ? "" : ",") + n->address();
  Subprocess daemon(
      {INGESTD_PATH, "--watch", watch, "--server", servers, "--tls", dir_ / "station",
       "--time-zone", "Asia/Shanghai", "--name-pattern",
       "([A-Z0-9-]+)_([a-z0-9]+)_m([0-9]+)_([0-9T]+)_([0-9T]+)\\.mp4", "--name-fields",
       "device,officer,matter,start,end", "--settle", "0.5", "--poll", "0.2"},
      dir_ / "d.out", dir_ / "d.log");
  auto done = [&] {
    std::error_code ec;
    int n = 0;
    for (const char* cam : {"CAM-A", "CAM-B", "CAM-A2"}) {
      if (fs::exists(watch / "done" / cam, ec)) {
        for (const auto& e : fs::directory_iterator(watch / "done" / cam)) {
          // The footage only: CAM-A2's sidecar follows its clip into done/.
          n += e.is_regular_file() && e.path().extension() != ".json";
        }
      }
    }
    return n;
  };
  for (int i = 0; i < 600 && done() < 4; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(done(), 4) << ReadFile(dir_ / "d.log");
  json a = Ok("aud", 0, {"record", "list", "--device", "CAM-A"});
  ASSERT_EQ(a.size(), 1u) << "both segments of CAM-A in one record";
  // The station's status names the record each done file joined.
  std::map<std::string, std::string> joined;
  for (int i = 0; i < 50 && joined.size() < 4; ++i) {
    json st = json::parse(ReadFile(watch / ".custody-ingest/status.json"), nullptr, false);
    joined.clear();
    if (st.is_object()) {
      for (const auto& f : st["recent_done"]) joined[f["file"]] = f.value("record", "");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(joined["CAM-A/CAM-A_o1_m3_20261127T063000_20261127T064000.mp4"], a[0]["id"]);
  EXPECT_EQ(joined["CAM-A/CAM-A_o1_m3_20261127T064000_20261127T065000.mp4"], a[0]["id"]);
  EXPECT_EQ(a[0]["agency"], "A");
  EXPECT_EQ(a[0]["start"], "2026-11-26T22:30:00.000Z") << "06:30 in Shanghai";
  // Footage days old: the camera is out but silent for longer than the idle
  // time (12 h), so the record shows an end (its last segment's).
  EXPECT_FALSE(a[0]["end"].is_null()) << a[0];
  EXPECT_NE(a[0]["flags"].dump().find("ended-idle"), std::string::npos) << a[0];
  json b = Ok("aud", 0, {"record", "list", "--device", "CAM-B"});
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0]["agency"], "B") << "the device's agency, not the station's";
  Ok("olga", 2, {"device", "checkin", "CAM-A"});
  json ended = Ok("aud", 1, {"record", "show", a[0]["id"]});
  EXPECT_EQ(ended["end"], "2026-11-26T22:50:00.000Z") << "the last segment's end";
  json archived = Ok("arch", 2, {"record", "archive", a[0]["id"]});
  EXPECT_NE(archived["archive_number"].get<std::string>().find("-20261127-"), std::string::npos)
      << archived["archive_number"];
  // CAM-A2's record, from its sidecar in local time, ends at check-in and is
  // overdue once the (testing) deadline after its end has passed.
  json a2 = Ok("aud", 0, {"record", "list", "--device", "CAM-A2"});
  ASSERT_EQ(a2.size(), 1u);
  EXPECT_EQ(a2[0]["start"], "2026-11-27T00:00:00.000Z") << "08:00 in Shanghai";
  EXPECT_EQ(a2[0]["matter"], 4);
  Ok("olga", 0, {"device", "checkin", "CAM-A2"});
  absl::SleepFor(absl::Seconds(5));
  json overdue = Ok("aud", 2, {"record", "overdue"});
  std::set<std::string> late;
  for (const auto& r : overdue) late.insert(r["id"].get<std::string>());
  EXPECT_TRUE(late.count(a2[0]["id"])) << overdue;
  EXPECT_FALSE(late.count(a[0]["id"])) << "archived";
}

// An agency whose catalog lists only matter 3: footage of matter 7 is stored
// (it is evidence all the same) but cannot be filed under a record. The
// object's history, `put`, and the station's status and metrics say why.
// Every time the CLI shows is in --time-zone (or $CUSTODY_TIME_ZONE), and a
// date alone starts its day there; an unknown zone is a usage error.
TEST_F(WorkflowTest, TheCliShowsTimesInTheAgencysZone) {
  const std::string rec = NewRecord(At(-absl::Hours(2)), At(-absl::Hours(1)));
  CliResult log =
      As("aud", 0, {"--time-zone", "Asia/Shanghai", "audit", "log", "--action", "record.created"});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  EXPECT_NE(log.out.find("TIME (Asia/Shanghai)"), std::string::npos) << log.out;
  EXPECT_NE(log.out.find("+08:00"), std::string::npos) << log.out;
  json shown = Ok("aud", 0, {"--time-zone", "Asia/Shanghai", "audit", "log", "record:" + rec});
  ASSERT_FALSE(shown["events"].empty());
  EXPECT_NE(shown["events"][0]["time"].get<std::string>().find("+08:00"), std::string::npos)
      << shown;
  CliResult utc = As("aud", 0, {"audit", "log", "--action", "record.created"});
  EXPECT_NE(utc.out.find("TIME (UTC)"), std::string::npos) << utc.out;
  // Today in Shanghai, as a date alone, holds the record made an hour ago
  // (when it is already tomorrow in Shanghai, yesterday's date does).
  const absl::TimeZone shanghai = [] {
    absl::TimeZone tz;
    absl::LoadTimeZone("Asia/Shanghai", &tz);
    return tz;
  }();
  const std::string day = absl::FormatTime("%Y-%m-%d", absl::Now() - absl::Hours(2), shanghai);
  json from_day = Ok("aud", 0,
                     {"--time-zone", "Asia/Shanghai", "audit", "log", "--action", "record.created",
                      "--from", day});
  EXPECT_FALSE(from_day["events"].empty()) << day;
  CliResult bad = As("aud", 0, {"--time-zone", "Mars/Olympus", "audit", "log"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("Mars/Olympus"), std::string::npos) << bad.err;
}

class WorkflowIdleTest : public WorkflowTest {
 protected:
  std::vector<std::string> NodeFlags() const override {
    std::vector<std::string> f = WorkflowTest::NodeFlags();
    f.insert(f.end(), {"--record-idle-close", "1s"});
    return f;
  }
};

// Footage whose sidecar gives no end still closes its record after the
// idle time (shown ended, then overdue); footage naming no matter says why
// it is not filed; a bad --flag is a usage error.
TEST_F(WorkflowIdleTest, EveryIngestRecordEndsAndFootageWithoutAMatterSaysWhy) {
  Ok("arch", 0, {"device", "add", "CAM-I", "--agency", "A"});
  const std::string start = At(-absl::Hours(2));
  const std::string clip = dir_ / "noend.mp4";
  WriteRandomFile(clip, 50000, 11);
  CliResult put =
      As("station", 0,
         {"put", clip, "--meta", "device=CAM-I", "--meta", "matter=3", "--meta", "start=" + start});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  std::this_thread::sleep_for(std::chrono::milliseconds(5500));  // idle 1 s, deadline 4 s
  json listed = Ok("aud", 1, {"record", "list", "--device", "CAM-I"});
  ASSERT_EQ(listed.size(), 1u) << listed;
  json r = Ok("aud", 1, {"record", "show", listed[0]["id"]});
  std::set<std::string> flags;
  for (const auto& f : r["flags"]) flags.insert(f.get<std::string>());
  EXPECT_TRUE(flags.count("ended-idle")) << r;
  EXPECT_TRUE(flags.count("overdue")) << "due from its last known instant: " << r;
  EXPECT_FALSE(r["end"].is_null()) << r;
  EXPECT_EQ(Ok("aud", 2, {"record", "list", "--flag", "ended-idle"}).size(), 1u);
  EXPECT_EQ(As("aud", 2, {"record", "list", "--flag", "nonsense"}).exit_code, 2);

  const std::string other = dir_ / "nomatter.mp4";
  WriteRandomFile(other, 50000, 12);
  CliResult no_matter =
      As("station", 0, {"put", other, "--meta", "device=CAM-I", "--meta", "start=" + start});
  ASSERT_EQ(no_matter.exit_code, 0) << no_matter.err;
  EXPECT_NE(no_matter.err.find("names no matter"), std::string::npos) << no_matter.err;
  const std::string id(absl::StripTrailingAsciiWhitespace(no_matter.out));
  bool failed = false;
  for (int i = 0; i < 50 && !failed; ++i) {  // the node's audit events are written in groups
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const json history = Ok("aud", 0, {"audit", "log", id});
    for (const auto& e : history["events"]) failed |= e["action"] == "record.filing-failed";
  }
  EXPECT_TRUE(failed) << "the object's history says why it is in no record";
}

// A station bound to agency A is refused footage of agency B's camera: the
// file goes to quarantine with the node's reason (not retried forever).
TEST_F(WorkflowTest, AStationOfAnotherAgencyQuarantinesTheFileWithTheReason) {
  ASSERT_EQ(RunCli({"ca", "issue", "--ca", dir_ / "ca", "--user", "sta", "--role", "ingest",
                    "--agency", "A", "-o", dir_ / "sta"})
                .exit_code,
            0);
  Ok("arch", 0, {"device", "add", "CAM-B", "--agency", "B"});
  namespace fs = std::filesystem;
  fs::path watch = dir_ / "station-a";
  fs::create_directories(watch / "CAM-B");
  const std::string file = "CAM-B_o1_m3_20261127T070000_20261127T071000.mp4";
  WriteRandomFile(watch / "CAM-B" / file, 60000, 13);
  Subprocess daemon(
      {INGESTD_PATH, "--watch", watch, "--server", nodes_[0]->address(), "--tls", dir_ / "sta",
       "--time-zone", "Asia/Shanghai", "--name-pattern",
       "([A-Z0-9-]+)_([a-z0-9]+)_m([0-9]+)_([0-9T]+)_([0-9T]+)\\.mp4", "--name-fields",
       "device,officer,matter,start,end", "--settle", "0.3", "--poll", "0.2"},
      dir_ / "d.out", dir_ / "d.log");
  for (int i = 0; i < 200 && !fs::exists(watch / "quarantine" / "CAM-B" / file); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(fs::exists(watch / "quarantine" / "CAM-B" / file)) << ReadFile(dir_ / "d.log");
  Subprocess shown({INGESTD_PATH, "status", "--watch", watch}, dir_ / "s.out", dir_ / "s.err");
  EXPECT_EQ(shown.Wait(), 0) << ReadFile(dir_ / "s.err");
  EXPECT_NE(ReadFile(dir_ / "s.out").find("not for agency B"), std::string::npos)
      << ReadFile(dir_ / "s.out");
}

class WorkflowCatalogTest : public WorkflowTest {
 protected:
  void SetUp() override {
    std::ofstream(dir_ / "catalog.csv")
        << "no,category,matter,record_scope,place,recorder,start_trigger,process,end_trigger,"
           "record_class,category_en,matter_en\n"
           "3,c,m,s,p,r,t,p,e,k,Administrative penalty,On-site inspection\n";
    WorkflowTest::SetUp();
  }
  std::vector<std::string> NodeFlags() const override {
    std::vector<std::string> f = WorkflowTest::NodeFlags();
    f.insert(f.end(), {"--catalog", dir_ / "catalog.csv"});
    return f;
  }
};

TEST_F(WorkflowCatalogTest, FootageThatCannotBeFiledIsStoredAndSaysWhyEverywhere) {
  Ok("arch", 0, {"device", "add", "CAM-C", "--agency", "A"});
  const std::string clip = dir_ / "clip.mp4";
  WriteRandomFile(clip, 100000, 7);
  CliResult put = As("station", 0,
                     {"put", clip, "--meta", "device=CAM-C", "--meta", "matter=7", "--meta",
                      "start=2026-11-27T06:30:00+08:00"});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  EXPECT_NE(put.err.find("not filed under a record: matter 7 is not in the catalog"),
            std::string::npos)
      << put.err;
  const std::string id(absl::StripTrailingAsciiWhitespace(put.out));
  json history = Ok("aud", 0, {"audit", "log", id});
  std::string reason;
  for (const auto& e : history["events"]) {
    if (e["action"] == "record.filing-failed") reason = e["details"].value("reason", "");
  }
  EXPECT_NE(reason.find("matter 7 is not in the catalog"), std::string::npos) << history;

  namespace fs = std::filesystem;
  fs::path watch = dir_ / "station-folder";
  fs::create_directories(watch / "CAM-C");
  const std::string file = "CAM-C_o1_m7_20261127T070000_20261127T071000.mp4";
  WriteRandomFile(watch / "CAM-C" / file, 200000, 8);
  Subprocess daemon(
      {INGESTD_PATH, "--watch", watch, "--server", nodes_[0]->address(), "--tls", dir_ / "station",
       "--time-zone", "Asia/Shanghai", "--name-pattern",
       "([A-Z0-9-]+)_([a-z0-9]+)_m([0-9]+)_([0-9T]+)_([0-9T]+)\\.mp4", "--name-fields",
       "device,officer,matter,start,end", "--settle", "0.5", "--poll", "0.2"},
      dir_ / "d.out", dir_ / "d.log");
  json st = json::object();
  for (int i = 0; i < 300 && st.value("not_filed", 0) < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    st = json::parse(ReadFile(watch / ".custody-ingest/status.json"), nullptr, false);
    if (!st.is_object()) st = json::object();
  }
  ASSERT_EQ(st.value("not_filed", 0), 1) << ReadFile(dir_ / "d.log");
  ASSERT_EQ(st["recent_done"].size(), 1u) << st;
  EXPECT_EQ(st["recent_done"][0]["file"], "CAM-C/" + file);
  EXPECT_EQ(st["recent_done"][0]["record"], "");
  EXPECT_NE(st["recent_done"][0]["filing_problem"].get<std::string>().find(
                "matter 7 is not in the catalog"),
            std::string::npos)
      << st;
  EXPECT_TRUE(fs::exists(watch / "done" / "CAM-C" / file)) << "stored: the station is done with it";
  EXPECT_NE(ReadFile(dir_ / "d.log").find("not filed under a record"), std::string::npos);
  Subprocess shown({INGESTD_PATH, "status", "--watch", watch}, dir_ / "s.out", dir_ / "s.err");
  EXPECT_EQ(shown.Wait(), 0) << ReadFile(dir_ / "s.err");
  EXPECT_NE(ReadFile(dir_ / "s.out").find("NOT FILED: matter 7 is not in the catalog"),
            std::string::npos)
      << ReadFile(dir_ / "s.out");
  EXPECT_TRUE(Ok("aud", 0, {"record", "list", "--device", "CAM-C"}).empty());
}

}  // namespace
}  // namespace custody::testing
