// A node's mirrors of other nodes' live uploads (server/objects/
// live_mirror_store.h): steps that follow are kept durably, a step after a
// gap is refused until the owner sends the whole upload, a node of an older
// epoch (taken over), a second owner and a take-over from a copy that fell
// behind are told who holds it, and a sealed upload keeps its record
// without its tail to answer a late owner.
#include "server/objects/live_mirror_store.h"

#include <gtest/gtest.h>

#include "common/digest.h"
#include "tests/server/node_fixture.h"
#include "tests/test_util.h"

namespace custody {
namespace {

using testing::RandomBytes;
using testing::SmallNodeOptions;
using testing::TempDir;

constexpr uint32_t kChunk = 4096;  // SmallNodeOptions

class LiveMirrorStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    store_.reset();
    node_.reset();
    auto n = Node::Open(SmallNodeOptions(dir_.path()));
    ASSERT_TRUE(n.ok()) << n.status();
    node_ = std::move(*n);
    store_ = std::make_unique<LiveMirrorStore>(node_->index(), kChunk);
  }
  // The owner's step: the upload holds data_[0, held), of which the chunks
  // from `first_chunk` are sent, and data_[offset, held).
  internal::v1::LiveMirrorRequest Step(uint64_t held, uint32_t first_chunk, uint64_t offset,
                                       uint64_t epoch = 0, const std::string& state = "recording") {
    internal::v1::LiveMirrorRequest req;
    internal::v1::LiveRecord* r = req.mutable_record();
    r->mutable_info()->set_live_id("live-m");
    r->mutable_info()->set_state(state);
    r->mutable_info()->set_held(held);
    r->set_tail_offset(held / kChunk * kChunk);
    r->set_epoch(epoch);
    for (uint64_t c = first_chunk; c < held / kChunk; ++c) {
      r->add_chunks(std::string(Digest::Of(data_.substr(c * kChunk, kChunk)).Raw()));
    }
    req.set_first_chunk(first_chunk);
    req.set_offset(offset);
    req.set_data(data_.substr(offset, held - offset));
    return req;
  }
  internal::v1::LiveMirrorResponse Apply(const internal::v1::LiveMirrorRequest& req,
                                         const std::string& from) {
    absl::StatusOr<internal::v1::LiveMirrorResponse> r = store_->Apply(req, from);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : internal::v1::LiveMirrorResponse();
  }
  TempDir dir_;
  std::unique_ptr<Node> node_;
  std::unique_ptr<LiveMirrorStore> store_;
  std::string data_ = RandomBytes(3 * kChunk + 500, 4);
};

TEST_F(LiveMirrorStoreTest, StepsThatFollowAreKeptAcrossARestart) {
  EXPECT_EQ(Apply(Step(1000, 0, 0), "n1").held(), 1000u);
  EXPECT_EQ(Apply(Step(5000, 0, 1000), "n1").held(), 5000u);  // fills chunk 0
  EXPECT_EQ(Apply(Step(9000, 1, 5000), "n1").held(), 9000u);  // fills chunk 1
  Reopen();
  absl::StatusOr<LiveMirrorStore::Copy> c = store_->Load("live-m");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->rec.owner_node(), "n1");
  EXPECT_EQ(c->rec.info().held(), 9000u);
  ASSERT_EQ(c->rec.chunks_size(), 2);
  EXPECT_EQ(c->rec.chunks(0), std::string(Digest::Of(data_.substr(0, kChunk)).Raw()));
  EXPECT_EQ(c->rec.chunks(1), std::string(Digest::Of(data_.substr(kChunk, kChunk)).Raw()));
  EXPECT_EQ(c->tail, data_.substr(2 * kChunk, 9000 - 2 * kChunk));
}

TEST_F(LiveMirrorStoreTest, AStepAfterAGapIsRefusedUntilTheWholeUploadComes) {
  Apply(Step(1000, 0, 0), "n1");
  internal::v1::LiveMirrorResponse gap = Apply(Step(9000, 1, 5000), "n1");  // missed 1000-5000
  EXPECT_TRUE(gap.gap());
  EXPECT_EQ(gap.held(), 1000u);
  EXPECT_EQ(store_->Load("live-m")->tail, data_.substr(0, 1000)) << "nothing changed";
  internal::v1::LiveMirrorResponse whole = Apply(Step(9000, 0, 2 * kChunk), "n1");
  EXPECT_FALSE(whole.gap());
  absl::StatusOr<LiveMirrorStore::Copy> c = store_->Load("live-m");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->rec.chunks_size(), 2);
  EXPECT_EQ(c->tail, data_.substr(2 * kChunk, 9000 - 2 * kChunk));
  internal::v1::LiveMirrorRequest bad = Step(9000, 0, 2 * kChunk);
  bad.mutable_record()->mutable_info()->set_held(9001);  // says more than it sends
  EXPECT_TRUE(absl::IsInvalidArgument(store_->Apply(bad, "n1").status()));
}

TEST_F(LiveMirrorStoreTest, AnOwnerOfAnOlderEpochIsToldWhoHoldsTheUpload) {
  Apply(Step(1000, 0, 0), "n1");
  Apply(Step(5000, 0, 0, /*epoch=*/1), "n2");  // n2 took it over, and sent it whole
  internal::v1::LiveMirrorResponse late = Apply(Step(9000, 1, 5000), "n1");
  EXPECT_EQ(late.held_by(), "n2");
  EXPECT_EQ(store_->Load("live-m")->rec.info().held(), 5000u) << "nothing of n1's was kept";
}

TEST_F(LiveMirrorStoreTest, ATakeOverFromACopyThatFellBehindOrASecondOwnerIsRefused) {
  Apply(Step(5000, 0, 0), "n1");
  EXPECT_EQ(Apply(Step(1000, 0, 0, 1), "n3").held_by(), "n1") << "n3's copy fell behind";
  EXPECT_EQ(Apply(Step(9000, 0, 0), "n2").held_by(), "n1") << "the same epoch, another node";
  EXPECT_EQ(store_->Load("live-m")->rec.info().held(), 5000u);
  EXPECT_EQ(Apply(Step(9000, 0, 0, 1), "n3").held(), 9000u) << "a fuller take-over is kept";
}

TEST_F(LiveMirrorStoreTest, ASealedUploadKeepsItsRecordToAnswerALateOwner) {
  Apply(Step(5000, 0, 0, 1), "n2");
  internal::v1::LiveMirrorRequest sealed = Step(5000, 0, 5000, 1, "sealed");
  sealed.mutable_record()->clear_chunks();
  Apply(sealed, "n2");
  absl::StatusOr<LiveMirrorStore::Copy> c = store_->Load("live-m");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->rec.info().state(), "sealed");
  EXPECT_TRUE(c->tail.empty());
  EXPECT_EQ(Apply(Step(5000, 0, 0, 1), "n1").held_by(), "n2");  // the same epoch, late
  EXPECT_EQ(Apply(Step(5000, 0, 0, 0), "n1").held_by(), "n2");
  EXPECT_EQ(store_->Load("live-m")->rec.info().state(), "sealed");
}

}  // namespace
}  // namespace custody
