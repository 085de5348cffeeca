// The ingest journal: what it remembers across a restart, and a torn last
// line (a kill in the middle of a write) costs nothing.
#include "ingest/journal.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/test_util.h"

namespace custody::ingest {
namespace {

using custody::testing::TempDir;

TEST(JournalTest, RemembersStoredFilesUntilTheyAreDone) {
  TempDir dir;
  FileKey a{1, 2, 3, 4}, b{1, 5, 6, 7}, c{1, 8, 9, 10};
  {
    auto j = Journal::Open(dir.path());
    ASSERT_TRUE(j.ok()) << j.status();
    ASSERT_TRUE((*j)->Stored(a, "CAM/a.mp4", "sha256:aa").ok());
    ASSERT_TRUE((*j)->Stored(b, "CAM/b.mp4", "sha256:bb").ok());
    ASSERT_TRUE((*j)->Done(b, "CAM/b.mp4").ok());
    ASSERT_TRUE((*j)->Quarantined(c, "CAM/c.mp4", "bad sidecar").ok());
  }
  std::ofstream(dir / "journal.jsonl", std::ios::app) << "{\"op\": \"stor";  // torn
  auto j = Journal::Open(dir.path());
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_EQ((*j)->StoredId(a), "sha256:aa");
  EXPECT_EQ((*j)->StoredId(b), std::nullopt);
  EXPECT_EQ((*j)->StoredId(c), std::nullopt);
  EXPECT_EQ((*j)->done_total(), 1u);
  EXPECT_EQ((*j)->quarantined_total(), 1u);
  // Compacted on open, and still right after another restart.
  j->reset();
  auto again = Journal::Open(dir.path());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->StoredId(a), "sha256:aa");
  EXPECT_EQ((*again)->done_total(), 1u);
}

TEST(JournalTest, KeepsTheLastDoneFilesWithTheirIdsAcrossRestarts) {
  TempDir dir;
  {
    auto j = Journal::Open(dir.path());
    ASSERT_TRUE(j.ok()) << j.status();
    for (uint64_t i = 0; i < Journal::kRecentDone + 5; ++i) {
      FileKey k{1, i, 3, 4};
      std::string rel = "CAM/" + std::to_string(i) + ".mp4";
      ASSERT_TRUE((*j)->Stored(k, rel, "sha256:" + std::to_string(i)).ok());
      ASSERT_TRUE((*j)->Done(k, rel).ok());
    }
    ASSERT_TRUE((*j)->Quarantined(FileKey{1, 99, 3, 4}, "CAM/bad.mp4", "bad").ok());
  }
  for (int restart = 0; restart < 2; ++restart) {  // compacted, then read again
    auto j = Journal::Open(dir.path());
    ASSERT_TRUE(j.ok()) << j.status();
    std::vector<DoneFile> recent = (*j)->RecentDone();
    ASSERT_EQ(recent.size(), Journal::kRecentDone);
    EXPECT_EQ(recent.front().path, "CAM/24.mp4");  // newest first
    EXPECT_EQ(recent.front().id, "sha256:24");
    EXPECT_GT(recent.front().time, 0);
    EXPECT_EQ(recent.back().path, "CAM/5.mp4");
    EXPECT_EQ((*j)->done_total(), Journal::kRecentDone + 5);  // kept lines are not counted twice
  }
}

TEST(JournalTest, AFileNotFiledUnderARecordKeepsItsReasonAcrossRestarts) {
  TempDir dir;
  FileKey a{1, 2, 3, 4}, b{1, 5, 6, 7};
  {
    auto j = Journal::Open(dir.path());
    ASSERT_TRUE(j.ok()) << j.status();
    ASSERT_TRUE((*j)->Stored(a, "CAM/a.mp4", "sha256:aa", "rec-1").ok());
    ASSERT_TRUE((*j)->Done(a, "CAM/a.mp4").ok());
    ASSERT_TRUE(
        (*j)->Stored(b, "CAM/b.mp4", "sha256:bb", "", "matter 9 is not in the catalog").ok());
    EXPECT_EQ((*j)->not_filed_total(), 0u) << "counted once the station is done with it";
  }
  {
    auto j = Journal::Open(dir.path());  // the stored line is replayed, then compacted
    ASSERT_TRUE(j.ok()) << j.status();
    ASSERT_TRUE((*j)->Done(b, "CAM/b.mp4").ok());
    EXPECT_EQ((*j)->not_filed_total(), 1u);
  }
  for (int restart = 0; restart < 2; ++restart) {  // replayed, then compacted and read again
    auto j = Journal::Open(dir.path());
    ASSERT_TRUE(j.ok()) << j.status();
    std::vector<DoneFile> recent = (*j)->RecentDone();
    ASSERT_EQ(recent.size(), 2u);
    EXPECT_EQ(recent[0].path, "CAM/b.mp4");
    EXPECT_EQ(recent[0].record, "");
    EXPECT_EQ(recent[0].filing_problem, "matter 9 is not in the catalog");
    EXPECT_EQ(recent[1].record, "rec-1");
    EXPECT_EQ(recent[1].filing_problem, "");
    EXPECT_EQ((*j)->not_filed_total(), 1u);
    EXPECT_EQ((*j)->done_total(), 2u);
  }
}

TEST(JournalTest, AFileRewrittenInPlaceIsANewVersion) {
  TempDir dir;
  std::string path = dir / "clip.mp4";
  std::ofstream(path) << "one";
  auto k1 = FileKey::Of(path);
  ASSERT_TRUE(k1.ok());
  std::ofstream(path) << "other bytes";
  auto k2 = FileKey::Of(path);
  ASSERT_TRUE(k2.ok());
  EXPECT_FALSE(*k1 == *k2);
  EXPECT_EQ(FileKey::Of(dir / "missing").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace custody::ingest
