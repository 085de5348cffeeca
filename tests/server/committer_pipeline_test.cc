// The committer's pipeline: a group is written while the one before it is
// synced, and a failed group fails every group written behind it. A gated
// writer holds syncs back (or fails them) to put two groups in flight.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "server/committer.h"
#include "server/local_blob_store.h"
#include "tests/test_util.h"

namespace custody {
namespace {

using testing::RandomBytes;
using testing::TempDir;

// Writes with pwrite; each Sync waits until the test opens the gate; the
// first one after Open(/*fail_one=*/true) fails.
class GatedWriter : public FileWriter {
 public:
  absl::Status WriteAndSync(absl::Span<const WriteOp> ops,
                            absl::Span<const int> sync_fds) override {
    absl::Status s = inner_->WriteAndSync(ops, sync_fds);
    writes_ += static_cast<int>(ops.size());
    return s;
  }
  absl::Status Sync(int fd) override {
    absl::MutexLock l(&mu_);
    ++syncs_waiting_;
    mu_.Await(absl::Condition(&open_));
    --syncs_waiting_;
    if (std::exchange(fail_one_, false)) return absl::DataLossError("the test failed this sync");
    return FileWriter::Sync(fd);
  }
  absl::string_view name() const override { return "gated"; }

  void Open(bool fail_one) {
    absl::MutexLock l(&mu_);
    fail_one_ = fail_one;
    open_ = true;
  }
  void AwaitSyncWaiting() {
    absl::MutexLock l(&mu_);
    mu_.Await(absl::Condition(
        +[](int* n) { return *n > 0; }, &syncs_waiting_));
  }
  std::atomic<int> writes_{0};

 private:
  std::unique_ptr<FileWriter> inner_ = NewPwriteFileWriter();
  absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = false;
  bool fail_one_ ABSL_GUARDED_BY(mu_) = false;
  int syncs_waiting_ ABSL_GUARDED_BY(mu_) = 0;
};

// One chunk write in flight: its result once done.
struct Pending {
  absl::Notification done;
  absl::StatusOr<WriteResult> result = absl::UnknownError("not answered");
};

class CommitterPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_ / "volumes");
    std::filesystem::create_directories(dir_ / "quarantine");
    index_ = *Index::Open(dir_ / "index");
    volumes_ = *VolumeSet::Open(dir_ / "volumes", dir_ / "quarantine", 16384, 1 << 20,
                                index_.get());
    auto w = std::make_unique<GatedWriter>();
    gate_ = w.get();
    CommitterOptions o;
    o.min_free_bytes = 0;
    committer_ = std::make_unique<Committer>(index_.get(), volumes_.get(), std::move(w), o);
  }
  void TearDown() override {
    gate_->Open(false);
    committer_.reset();
  }
  void Submit(const std::string& data, Pending* p) {
    WriteRequest r;
    r.key = Digest::Of(data);
    r.payload = data;
    r.done = [p](absl::StatusOr<WriteResult> res) {
      p->result = std::move(res);
      p->done.Notify();
    };
    committer_->Submit(std::move(r));
  }
  // Waits until `n` writes reached the disk.
  void AwaitWrites(int n) {
    while (gate_->writes_.load() < n) absl::SleepFor(absl::Milliseconds(1));
  }

  TempDir dir_;
  std::unique_ptr<Index> index_;
  std::unique_ptr<VolumeSet> volumes_;
  GatedWriter* gate_ = nullptr;
  std::unique_ptr<Committer> committer_;
};

TEST_F(CommitterPipelineTest, AGroupIsWrittenWhileTheOneBeforeIsSyncedAndAnsweredOnlyAfterItsSync) {
  const uint64_t start = volumes_->active()->end();
  Pending a, b;
  Submit(RandomBytes(9000, 1), &a);
  gate_->AwaitSyncWaiting();  // a is written, its sync held
  Submit(RandomBytes(7000, 2), &b);
  AwaitWrites(2);  // b is written while a waits for its sync
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_FALSE(a.done.HasBeenNotified()) << "answered before its sync";
  EXPECT_FALSE(b.done.HasBeenNotified()) << "answered before its sync";
  EXPECT_EQ(volumes_->active()->end(), start) << "the end moved before a sync";
  gate_->Open(false);
  a.done.WaitForNotification();
  b.done.WaitForNotification();
  ASSERT_TRUE(a.result.ok()) << a.result.status();
  ASSERT_TRUE(b.result.ok()) << b.result.status();
  EXPECT_EQ(a.result->location.offset, start);
  EXPECT_GT(b.result->location.offset, a.result->location.offset);
  auto indexed = index_->FindChunk(Digest::Of(RandomBytes(7000, 2)));
  ASSERT_TRUE(indexed.ok() && indexed->has_value());
  EXPECT_EQ((*indexed)->Encode(), b.result->location.Encode());
}

TEST_F(CommitterPipelineTest, AChunkBeingSyncedIsNotWrittenAgain) {
  const std::string data = RandomBytes(12000, 3);
  Pending a, b;
  Submit(data, &a);
  gate_->AwaitSyncWaiting();  // not in the index yet
  Submit(data, &b);
  absl::SleepFor(absl::Milliseconds(50));  // b is laid out meanwhile
  gate_->Open(false);
  a.done.WaitForNotification();
  b.done.WaitForNotification();
  ASSERT_TRUE(a.result.ok() && b.result.ok());
  EXPECT_FALSE(a.result->existed);
  EXPECT_TRUE(b.result->existed) << "written twice";
  EXPECT_EQ(b.result->location.Encode(), a.result->location.Encode());
  EXPECT_EQ(gate_->writes_.load(), 1);
  EXPECT_EQ(volumes_->active()->end(),
            a.result->location.offset + EntryHeader::Span(a.result->location.length));
}

TEST_F(CommitterPipelineTest, AFailedSyncFailsTheGroupBehindItAndTheirBytesAreGivenBack) {
  const uint64_t start = volumes_->active()->end();
  Pending a, b, c;
  Submit(RandomBytes(9000, 4), &a);
  gate_->AwaitSyncWaiting();
  Submit(RandomBytes(9000, 5), &b);
  AwaitWrites(2);  // b written behind a
  gate_->Open(/*fail_one=*/true);  // a's sync fails; b's would not
  a.done.WaitForNotification();
  b.done.WaitForNotification();
  EXPECT_EQ(a.result.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(b.result.status().code(), absl::StatusCode::kDataLoss) << "b's bytes lie after a's";
  for (int seed : {4, 5}) {
    EXPECT_FALSE(index_->FindChunk(Digest::Of(RandomBytes(9000, seed)))->has_value());
  }
  gate_->Open(false);
  Submit(RandomBytes(3000, 6), &c);
  c.done.WaitForNotification();
  ASSERT_TRUE(c.result.ok()) << c.result.status();
  EXPECT_EQ(c.result->location.offset, start) << "the failed bytes were not given back";
  EXPECT_EQ(volumes_->active()->FileSize(), volumes_->active()->end());
}

}  // namespace
}  // namespace custody
