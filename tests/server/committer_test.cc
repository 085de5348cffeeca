#include "server/storage/committer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "absl/synchronization/notification.h"
#include "server/storage/chunk_io.h"
#include "server/storage/local_blob_store.h"
#include "server/storage/verifying_blob_store.h"
#include "tests/test_util.h"

namespace custody {
namespace {

using testing::RandomBytes;
using testing::TempDir;

// Runs every case with both volume writers.
class CommitterTest : public ::testing::TestWithParam<std::string> {
 protected:
  void Open(uint64_t max_volume = 1 << 20, uint64_t min_free = 0,
            uint64_t max_queued = CommitterOptions().max_queued_bytes) {
    std::filesystem::create_directories(dir_ / "volumes");
    std::filesystem::create_directories(dir_ / "quarantine");
    index_ = *Index::Open(dir_ / "index");
    volumes_ =
        *VolumeSet::Open(dir_ / "volumes", dir_ / "quarantine", 16384, max_volume, index_.get());
    std::unique_ptr<FileWriter> w;
    if (GetParam() == "io_uring")
      w = *NewUringFileWriter(8);
    else
      w = NewPwriteFileWriter();
    CommitterOptions o;
    o.min_free_bytes = min_free;
    o.max_queued_bytes = max_queued;
    committer_ = std::make_unique<Committer>(index_.get(), volumes_.get(), std::move(w), o);
    local_ = std::make_unique<LocalBlobStore>(index_.get(), volumes_.get(), committer_.get());
    verified_ = std::make_unique<VerifyingBlobStore>(local_.get());
  }
  absl::StatusOr<WriteResult> WriteChunk(const std::string& data) {
    WriteRequest r;
    r.key = Digest::Of(data);
    r.payload = data;
    return committer_->Write(std::move(r));
  }

  // Writes every chunk from its own thread at once; each is new, aligned and
  // reads back through the verifying store.
  void WriteAtOnceAndReadBack(const std::vector<std::string>& chunks) {
    std::vector<std::thread> threads;
    std::vector<absl::StatusOr<WriteResult>> results(chunks.size(), absl::UnknownError(""));
    for (size_t i = 0; i < chunks.size(); ++i) {
      threads.emplace_back([&, i] { results[i] = WriteChunk(chunks[i]); });
    }
    for (auto& t : threads) t.join();
    for (size_t i = 0; i < chunks.size(); ++i) {
      ASSERT_TRUE(results[i].ok()) << results[i].status();
      EXPECT_FALSE(results[i]->existed);
      EXPECT_EQ(results[i]->location.offset % kAlign, 0u);
      auto got = verified_->Get(Digest::Of(chunks[i]));
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(*got, chunks[i]);
    }
  }

  TempDir dir_;
  std::unique_ptr<Index> index_;
  std::unique_ptr<VolumeSet> volumes_;
  std::unique_ptr<Committer> committer_;
  std::unique_ptr<BlobStore> local_, verified_;
};

TEST_P(CommitterTest, ConcurrentWritesAreDurableAndReadable) {
  Open();
  std::vector<std::string> chunks;
  for (int i = 0; i < 24; ++i) chunks.push_back(RandomBytes(1000 + i * 517, i));
  WriteAtOnceAndReadBack(chunks);
  auto missing = local_->FindMissing({Digest::Of(chunks[0]), Digest::Of("absent")});
  ASSERT_TRUE(missing.ok());
  ASSERT_EQ(missing->size(), 1u);
  EXPECT_EQ((*missing)[0], Digest::Of("absent"));
}

// Twenty entries of 1.5 MiB at once: groups of several large entries (30
// MiB in all, under one group's limit) are staged, written and read back.
TEST_P(CommitterTest, LargeEntriesWrittenAtOnceReadBack) {
  Open(256 << 20);
  std::vector<std::string> chunks;
  for (int i = 0; i < 20; ++i) chunks.push_back(RandomBytes((3 << 19) + i * 4099, 40 + i));
  WriteAtOnceAndReadBack(chunks);
}

TEST_P(CommitterTest, ASharedPayloadIsWrittenFromWhereItIsAndLeftUnchanged) {
  Open();
  auto shared = std::make_shared<std::string>(RandomBytes(70000, 12));
  const std::string before = *shared;
  WriteRequest r = ChunkWrite(Digest::Of(*shared), shared, nullptr);
  EXPECT_TRUE(r.payload.empty());
  EXPECT_EQ(r.size(), shared->size());
  auto written = committer_->Write(std::move(r));
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(written->location.length, before.size());
  auto got = verified_->Get(Digest::Of(before));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, before);
  EXPECT_EQ(*shared, before);
  EXPECT_EQ(shared.use_count(), 1);  // the request let go of it
}

TEST_P(CommitterTest, DuplicateChunkIsNotWrittenTwice) {
  Open();
  std::string data = RandomBytes(5000, 9);
  auto first = WriteChunk(data);
  ASSERT_TRUE(first.ok());
  uint64_t end = volumes_->active()->end();
  auto second = WriteChunk(data);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->existed);
  EXPECT_EQ(second->location.offset, first->location.offset);
  EXPECT_EQ(volumes_->active()->end(), end);
}

TEST_P(CommitterTest, FullVolumesAreSealedReadOnly) {
  Open(/*max_volume=*/64 * 1024);
  std::vector<std::string> chunks;
  for (int i = 0; i < 12; ++i) {
    chunks.push_back(RandomBytes(16000, 50 + i));
    ASSERT_TRUE(WriteChunk(chunks.back()).ok());
  }
  std::vector<Volume*> all = volumes_->All();
  ASSERT_GE(all.size(), 3u);
  for (Volume* v : all) {
    auto st = index_->GetVolume(v->id());
    ASSERT_TRUE(st.ok() && st->has_value());
    struct stat sb;
    ASSERT_EQ(stat(v->path().c_str(), &sb), 0);
    if (v != volumes_->active()) {
      EXPECT_TRUE((*st)->sealed);
      EXPECT_EQ(sb.st_mode & 0222, 0u) << v->path() << " is still writable";
    }
  }
  for (const auto& c : chunks) EXPECT_EQ(*verified_->Get(Digest::Of(c)), c);
}

TEST_P(CommitterTest, NoSpaceRefusesWithoutWritingAndReadsGoOn) {
  Open(1 << 20, /*min_free=*/1ull << 62);
  uint64_t end = volumes_->active()->end();
  auto r = WriteChunk("some bytes");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(volumes_->active()->end(), end);
  EXPECT_EQ(volumes_->active()->FileSize(), end);
  EXPECT_EQ(local_->Get(Digest::Of("some bytes")).status().code(), absl::StatusCode::kNotFound);
}

// The cluster's upload queues an index-only request from a chunk's `done`,
// on the committer thread; a full queue must not make it wait for itself.
TEST_P(CommitterTest, ACallbackSubmitsWhileTheQueueIsFull) {
  Open(1 << 20, 0, /*max_queued=*/64 * 1024);
  absl::Notification in_done, queue_full, second_done;
  absl::Status second_status = absl::UnknownError("not run");
  WriteRequest first;
  first.key = Digest::Of("first");
  first.payload = "first";
  first.done = [&](absl::StatusOr<WriteResult> res) {
    ASSERT_TRUE(res.ok()) << res.status();
    in_done.Notify();
    queue_full.WaitForNotification();  // a big write is queued behind us now
    WriteRequest second;
    second.index_only = true;
    second.done = [&](absl::StatusOr<WriteResult> r2) {
      second_status = r2.status();
      second_done.Notify();
    };
    committer_->Submit(std::move(second));
    EXPECT_EQ(committer_->Write(WriteRequest()).status().code(), absl::StatusCode::kInternal);
  };
  committer_->Submit(std::move(first));
  in_done.WaitForNotification();
  std::string big = RandomBytes(128 * 1024, 3);
  WriteRequest filler;
  filler.key = Digest::Of(big);
  filler.payload = big;
  filler.done = [](absl::StatusOr<WriteResult>) {};
  committer_->Submit(std::move(filler));  // 128 KiB queued, over the 64 KiB limit
  queue_full.Notify();
  if (!second_done.WaitForNotificationWithTimeout(absl::Seconds(20))) {
    ADD_FAILURE() << "the committer waited for itself";
    committer_.release();  // stuck for good: leave its thread be
    return;
  }
  EXPECT_TRUE(second_status.ok()) << second_status;
  EXPECT_TRUE(WriteChunk(big).value().existed);
}

TEST_P(CommitterTest, CorruptChunkIsRefusedOnRead) {
  Open();
  std::string data = RandomBytes(8000, 77);
  auto w = WriteChunk(data);
  ASSERT_TRUE(w.ok());
  std::string path = volumes_->active()->path();
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(w->location.offset + EntryHeader::kSize + 100));
    f.put('\x5a' ^ data[100]);
  }
  auto raw = local_->Get(Digest::Of(data));  // the undecorated store does not hash
  ASSERT_TRUE(raw.ok());
  EXPECT_NE(*raw, data);
  EXPECT_EQ(verified_->Get(Digest::Of(data)).status().code(), absl::StatusCode::kDataLoss);
}

TEST_P(CommitterTest, VerifyingPutRefusesMisnamedBytes) {
  Open();
  absl::Notification done;
  absl::Status got;
  verified_->Put(Digest::Of("a"), "b", [&](absl::Status s) {
    got = s;
    done.Notify();
  });
  done.WaitForNotification();
  EXPECT_EQ(got.code(), absl::StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Writers, CommitterTest, ::testing::Values("io_uring", "pwrite"));

}  // namespace
}  // namespace custody
