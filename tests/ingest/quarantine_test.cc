// Listing the quarantine and putting files back: sidecars come along,
// reasons are kept aside, and nothing in the watched folder is overwritten.
#include "ingest/quarantine.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/test_util.h"

namespace custody::ingest {
namespace {

namespace fs = std::filesystem;
using custody::testing::TempDir;

std::string Read(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class QuarantineTest : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directories(q_ + "/CAM-2"); }
  // A quarantined recording `rel` with a sidecar and a reason.
  void Quarantined(const std::string& rel, const std::string& reason) {
    std::ofstream(q_ + "/" + rel) << "video " << rel;
    std::ofstream(q_ + "/" + rel + ".json") << "{}";
    std::ofstream(q_ + "/" + rel + ".reason")
        << "file: " << rel << "\nwhen: 2026-11-26T09:30:00Z\nversion: 1:2:3:4\nreason: " << reason
        << "\n";
  }
  TempDir dir_;
  std::string watch_ = dir_.path();
  std::string q_ = dir_ / "quarantine";
  absl::Time now_ = absl::FromUnixSeconds(1795000000);
};

TEST(ReasonLineTest, TheReasonLineOrTheFirstLine) {
  EXPECT_EQ(ReasonLine("file: a.mp4\nwhen: x\nreason: no start time\n"), "no start time");
  EXPECT_EQ(ReasonLine("written by hand\nsecond"), "written by hand");
  EXPECT_EQ(ReasonLine(""), "");
}

TEST_F(QuarantineTest, ListsRecordingsWithTheirReasonNotSidecarsOrReasons) {
  Quarantined("CAM-2/a.mp4", "sidecar: 3 problems: (1) x; (2) y; (3) z");
  Quarantined("loose.mp4", "no sidecar loose.mp4.json and no --name-pattern");
  std::ofstream(q_ + "/CAM-2/b.mp4") << "no reason file";
  auto listed = ListQuarantine(watch_);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_EQ((*listed)[0].rel, "CAM-2/a.mp4");
  EXPECT_EQ((*listed)[0].reason, "sidecar: 3 problems: (1) x; (2) y; (3) z");
  EXPECT_EQ((*listed)[1].rel, "CAM-2/b.mp4");
  EXPECT_EQ((*listed)[1].reason, "");
  EXPECT_EQ((*listed)[2].rel, "loose.mp4");
  TempDir empty;
  EXPECT_TRUE(ListQuarantine(empty.path())->empty());
}

TEST_F(QuarantineTest, RetryPutsTheFileAndSidecarBackAndKeepsTheReasonAside) {
  Quarantined("CAM-2/a.mp4", "no start time");
  auto r = Retry(watch_, q_ + "/CAM-2/a.mp4", now_);  // a path to it
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->rel, "CAM-2/a.mp4");
  EXPECT_TRUE(r->sidecar);
  EXPECT_EQ(r->reason, "no start time");
  EXPECT_EQ(Read(watch_ + "/CAM-2/a.mp4"), "video CAM-2/a.mp4");
  EXPECT_EQ(Read(watch_ + "/CAM-2/a.mp4.json"), "{}");
  EXPECT_FALSE(fs::exists(q_ + "/CAM-2/a.mp4"));
  EXPECT_FALSE(fs::exists(q_ + "/CAM-2/a.mp4.reason"));
  EXPECT_EQ(r->reason_kept_as, q_ + "/CAM-2/a.mp4.retried-20261118T110640Z.reason");
  EXPECT_NE(Read(r->reason_kept_as).find("reason: no start time"), std::string::npos);
  EXPECT_TRUE(ListQuarantine(watch_)->empty());
  // Quarantined again and retried in the same second: the first reason stays.
  Quarantined("CAM-2/a.mp4", "still no start time");
  fs::remove(watch_ + "/CAM-2/a.mp4");
  fs::remove(watch_ + "/CAM-2/a.mp4.json");
  auto again = Retry(watch_, "CAM-2/a.mp4", now_);  // its path under quarantine/
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->reason_kept_as, q_ + "/CAM-2/a.mp4.retried-20261118T110640Z~2.reason");
  EXPECT_TRUE(fs::exists(r->reason_kept_as));
}

TEST_F(QuarantineTest, RetryNeverOverwritesAFileInTheWatchedFolder) {
  Quarantined("CAM-2/a.mp4", "no start time");
  fs::create_directories(watch_ + "/CAM-2");
  std::ofstream(watch_ + "/CAM-2/a.mp4.json") << "a newer sidecar";
  auto r = Retry(watch_, "CAM-2/a.mp4", now_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(r.status().message().find(watch_ + "/CAM-2/a.mp4.json already exists"),
            std::string::npos)
      << r.status();
  EXPECT_EQ(Read(watch_ + "/CAM-2/a.mp4.json"), "a newer sidecar");
  EXPECT_FALSE(fs::exists(watch_ + "/CAM-2/a.mp4"));  // nothing moved
  EXPECT_TRUE(fs::exists(q_ + "/CAM-2/a.mp4.json"));
  EXPECT_TRUE(fs::exists(q_ + "/CAM-2/a.mp4.reason"));
}

TEST_F(QuarantineTest, RetryRefusesWhatIsNotAQuarantinedRecording) {
  Quarantined("CAM-2/a.mp4", "no start time");
  for (std::string bad : {"CAM-2/missing.mp4", "CAM-2/a.mp4.json", "CAM-2/a.mp4.reason",
                          "../quarantine/CAM-2/a.mp4", "CAM-2", "/etc/passwd"}) {
    auto r = Retry(watch_, bad, now_);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound) << bad;
    EXPECT_NE(r.status().message().find(bad + " is not a recording in"), std::string::npos)
        << r.status();
  }
  EXPECT_TRUE(fs::exists(q_ + "/CAM-2/a.mp4"));
}

TEST_F(QuarantineTest, EachRetryIsLogged) {
  Quarantined("loose.mp4", "no sidecar");
  auto r = Retry(watch_, "loose.mp4", now_);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(LogRetry(dir_ / "state", *r, now_).ok());
  std::string log = Read(dir_ / "state/retries.log");
  EXPECT_NE(log.find("retried loose.mp4 with its sidecar; it was quarantined for: no sidecar"),
            std::string::npos)
      << log;
}

}  // namespace
}  // namespace custody::ingest
