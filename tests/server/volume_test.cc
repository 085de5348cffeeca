#include "server/storage/volume.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "tests/test_util.h"

namespace custody {
namespace {

using testing::RandomBytes;
using testing::TempDir;

// Appends a well-formed entry for `payload` at the end of `v` and returns
// its location.
Location AppendEntry(Volume* v, const std::string& payload) {
  std::string entry = EncodeEntry(EntryType::kChunk, payload);
  Location loc{v->id(), v->end(), static_cast<uint32_t>(payload.size())};
  int fd = open(v->path().c_str(), O_WRONLY);
  EXPECT_EQ(pwrite(fd, entry.data(), entry.size(), static_cast<off_t>(v->end())),
            static_cast<ssize_t>(entry.size()));
  close(fd);
  v->set_end(v->end() + entry.size());
  return loc;
}

TEST(VolumeFormatTest, HeadersRoundTripAndDetectDamage) {
  EntryHeader h;
  h.type = EntryType::kManifest;
  h.length = 12345;
  h.hash = Digest::Of("x");
  char buf[EntryHeader::kSize];
  h.EncodeTo(buf);
  auto back = EntryHeader::Decode(buf);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->type, EntryType::kManifest);
  EXPECT_EQ(back->length, 12345u);
  EXPECT_EQ(back->hash, h.hash);
  for (size_t i : {0u, 5u, 9u, 20u, 45u}) {
    char bad[EntryHeader::kSize];
    std::memcpy(bad, buf, sizeof(bad));
    bad[i] ^= 0x10;
    EXPECT_FALSE(EntryHeader::Decode(bad).ok()) << "flipped byte " << i;
  }
  EXPECT_EQ(EntryHeader::Span(0), kAlign);
  EXPECT_EQ(EntryHeader::Span(kAlign - EntryHeader::kSize), kAlign);
  EXPECT_EQ(EntryHeader::Span(kAlign - EntryHeader::kSize + 1), 2 * kAlign);
}

TEST(VolumeFormatTest, LocationRoundTrips) {
  Location l{7, 1ull << 40, 4194304};
  auto back = Location::Decode(l.Encode());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->volume, 7u);
  EXPECT_EQ(back->offset, 1ull << 40);
  EXPECT_EQ(back->length, 4194304u);
  EXPECT_FALSE(Location::Decode("short").ok());
}

TEST(VolumeTest, CreateOpenReadScan) {
  TempDir dir;
  std::string path = dir / "vol-00000003.dat";
  std::vector<std::string> payloads;
  std::vector<Location> locs;
  {
    auto v = Volume::Create(path, 3, 4096);
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_EQ((*v)->end(), kFirstEntryOffset);
    EXPECT_EQ(Volume::Create(path, 3, 4096).status().code(), absl::StatusCode::kAlreadyExists);
    for (int i = 0; i < 5; ++i) {
      payloads.push_back(RandomBytes(100 + 1500 * i, i));
      locs.push_back(AppendEntry(v->get(), payloads.back()));
    }
  }
  auto v = Volume::Open(path, false);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ((*v)->id(), 3u);
  EXPECT_EQ((*v)->chunk_size(), 4096u);
  for (size_t i = 0; i < locs.size(); ++i) {
    auto got = (*v)->Read(locs[i], EntryType::kChunk, Digest::Of(payloads[i]));
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, payloads[i]);
  }
  EXPECT_EQ((*v)->Read(locs[0], EntryType::kManifest, Digest::Of(payloads[0])).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ((*v)->Read(locs[0], EntryType::kChunk, Digest::Of("other")).status().code(),
            absl::StatusCode::kDataLoss);
  int seen = 0;
  auto scan = (*v)->Scan(kFirstEntryOffset,
                         [&](const EntryHeader& h, const Location& l, const std::string& p) {
                           EXPECT_EQ(l.offset, locs[seen].offset);
                           EXPECT_EQ(h.hash, Digest::Of(p));
                           ++seen;
                           return absl::OkStatus();
                         });
  ASSERT_TRUE(scan.ok());
  EXPECT_TRUE(scan->clean);
  EXPECT_EQ(seen, 5);
  EXPECT_EQ(scan->valid_end, (*v)->FileSize());
}

TEST(VolumeTest, ScanStopsAtAFlippedPayloadByte) {
  TempDir dir;
  std::string path = dir / "vol-00000001.dat";
  Location second;
  {
    auto v = Volume::Create(path, 1, 4096);
    ASSERT_TRUE(v.ok());
    AppendEntry(v->get(), RandomBytes(3000, 1));
    second = AppendEntry(v->get(), RandomBytes(3000, 2));
    AppendEntry(v->get(), RandomBytes(3000, 3));
  }
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(second.offset + EntryHeader::kSize + 10));
    f.put('!');
  }
  auto v = Volume::Open(path, false);
  ASSERT_TRUE(v.ok());
  auto scan = (*v)->Scan(kFirstEntryOffset, [](const EntryHeader&, const Location&,
                                               const std::string&) { return absl::OkStatus(); });
  ASSERT_TRUE(scan.ok());
  EXPECT_FALSE(scan->clean);
  EXPECT_EQ(scan->valid_end, second.offset);
}

// Chunk-sized entries are read with O_DIRECT where the file system allows;
// what they read must be what was written, through the cache or not, and
// whatever the entry's length (not a multiple of the alignment here).
TEST(VolumeTest, LargeEntriesReadBackExactlyAndSeeLaterWrites) {
  TempDir dir;
  auto v = Volume::Create(dir / "vol-00000001.dat", 1, 4 << 20);
  ASSERT_TRUE(v.ok()) << v.status();
  std::string small = RandomBytes(1000, 5), big = RandomBytes((4 << 20) + 7, 6);
  Location a = AppendEntry(v->get(), small), b = AppendEntry(v->get(), big);
  absl::StatusOr<std::string> got = (*v)->Read(b, EntryType::kChunk, Digest::Of(big));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == big);
  EXPECT_EQ(*(*v)->Read(a, EntryType::kChunk, Digest::Of(small)), small);

  const uint64_t at = b.offset + EntryHeader::kSize + (3 << 20) + 1;
  int fd = open((*v)->path().c_str(), O_WRONLY);
  char c = static_cast<char>(big[(3 << 20) + 1] ^ 0x5a);
  ASSERT_EQ(pwrite(fd, &c, 1, static_cast<off_t>(at)), 1);  // through the cache
  close(fd);
  got = (*v)->Read(b, EntryType::kChunk, Digest::Of(big));  // Read does not hash
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ((*got)[(3 << 20) + 1], c) << "a read after a cached write sees it";
}

TEST(VolumeTest, TornHeaderIsNotAVolume) {
  TempDir dir;
  std::string path = dir / "vol-00000001.dat";
  std::ofstream(path) << "CUSTV";
  EXPECT_EQ(Volume::Open(path, false).status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace custody
