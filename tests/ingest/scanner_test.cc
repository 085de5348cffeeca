// What the scanner takes: complete files only, never sidecars, temporary
// files or the daemon's own folders.
#include "ingest/scanner.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/test_util.h"

namespace custody::ingest {
namespace {

using custody::testing::TempDir;
namespace fs = std::filesystem;

std::vector<std::string> Rels(const std::vector<Candidate>& cs) {
  std::vector<std::string> out;
  for (const Candidate& c : cs) out.push_back(c.rel);
  std::sort(out.begin(), out.end());
  return out;
}

TEST(ScannerTest, TakesSettledRecordingsOnly) {
  TempDir dir;
  fs::create_directories(dir / "CAM-1");
  fs::create_directories(dir / "done/CAM-1");
  for (const char* f : {"CAM-1/a.mp4", "CAM-1/a.mp4.json", "CAM-1/b.mp4.part", "CAM-1/.hidden",
                        "top.wav", "done/CAM-1/old.mp4", "notes.json"}) {
    std::ofstream(dir / f) << "x";
  }
  Scanner s(dir.path(), absl::Seconds(2));
  absl::Time t0 = absl::Now();
  EXPECT_TRUE(s.Scan(t0, {}).empty());  // just seen: not settled yet
  EXPECT_EQ(s.settling(), 3u);
  EXPECT_TRUE(s.Scan(t0 + absl::Seconds(1), {}).empty());
  std::vector<Candidate> ready = s.Scan(t0 + absl::Seconds(3), {});
  EXPECT_EQ(Rels(ready), (std::vector<std::string>{"CAM-1/a.mp4", "notes.json", "top.wav"}));
  for (const Candidate& c : ready) EXPECT_EQ(c.device, c.rel == "CAM-1/a.mp4" ? "CAM-1" : "");
  // A busy file (being uploaded) is not offered again.
  EXPECT_EQ(s.Scan(t0 + absl::Seconds(4), {ready[0].path}).size(), 2u);
}

TEST(ScannerTest, SidecarsAreNeverRecordingsAndOddEntriesAreIgnored) {
  TempDir dir;
  fs::create_directories(dir / "CAM-2/nested");
  std::ofstream(dir / "CAM-2/early.mp4.json") << "{}";  // its recording has not arrived yet
  std::ofstream(dir / "CAM-2/nested/deep.mp4") << "x";
  fs::create_symlink(dir / "CAM-2/early.mp4.json", dir / "CAM-2/link.mp4");
  Scanner s(dir.path(), absl::Seconds(0));
  EXPECT_TRUE(s.Scan(absl::Now(), {}).empty());
  EXPECT_EQ(s.ignored(), 2u);  // the nested folder and the link
  EXPECT_TRUE(IsIgnoredName(dir / "CAM-2", "early.mp4.json"));
  EXPECT_FALSE(IsIgnoredName(dir / "CAM-2", "statement.json"));  // a document
}

TEST(ScannerTest, AChangeRestartsTheSettleTime) {
  TempDir dir;
  std::string path = dir / "clip.mp4";
  std::ofstream(path) << "x";
  Scanner s(dir.path(), absl::Seconds(2));
  absl::Time t0 = absl::Now();
  s.Scan(t0, {});
  std::ofstream(path, std::ios::app) << "more";
  EXPECT_TRUE(s.Scan(t0 + absl::Seconds(3), {}).empty());
  EXPECT_EQ(s.Scan(t0 + absl::Seconds(6), {}).size(), 1u);
}

TEST(ScannerTest, AFileOpenForWritingHasWriters) {
  TempDir dir;
  std::string path = dir / "clip.mp4";
  int fd = open(path.c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  EXPECT_FALSE(NoWriters(path));
  close(fd);
  EXPECT_TRUE(NoWriters(path));
}

}  // namespace
}  // namespace custody::ingest
