// Live uploads on a node without gRPC (server/objects/live_upload.h): the
// segment chain refuses a dropped, repeated or reordered segment; what was
// acknowledged survives a restart of the node, chunks and tail alike; a
// finish with another hash seals nothing; a truncated seal is the bytes held.
#include "server/objects/live_upload.h"

#include <gtest/gtest.h>

#include "common/live_chain.h"
#include "tests/server/node_fixture.h"
#include "tests/test_util.h"

namespace custody {
namespace {

using testing::RandomBytes;
using testing::ReadObject;
using testing::SmallNodeOptions;
using testing::TempDir;

class LiveUploadTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    node_.reset();
    auto n = Node::Open(SmallNodeOptions(dir_.path()));  // chunks of 4096 bytes
    ASSERT_TRUE(n.ok()) << n.status();
    node_ = std::move(*n);
  }
  absl::StatusOr<std::unique_ptr<LiveStream>> Open(const std::string& owner = "user:cam") {
    v1::LiveHeader h;
    h.set_live_id("live-1");
    h.set_device("CAM-1");
    h.set_file_name("rec.mp4");
    return node_->live()->Open(h, owner);
  }
  // The segment of data_[from, from + n) after `chain`.
  v1::LiveSegment Segment(const std::string& chain, uint64_t from, size_t n) {
    v1::LiveSegment s;
    s.set_data(data_.substr(from, n));
    s.set_chain(NextLiveChain(chain, from, s.data()));
    return s;
  }
  TempDir dir_;
  std::unique_ptr<Node> node_;
  std::string data_ = RandomBytes(3 * 4096 + 1000, 9);
};

TEST_F(LiveUploadTest, TheChainRefusesDroppedRepeatedOrReorderedSegments) {
  auto s = Open();
  ASSERT_TRUE(s.ok()) << s.status();
  v1::LiveSegment first = Segment(FirstLiveChain(), 0, 3000);
  absl::StatusOr<v1::LiveAck> a = (*s)->Append(first);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->held(), 3000u);
  // Repeated, then one skipped (dropped), then one chained from elsewhere.
  EXPECT_EQ((*s)->Append(first).status().code(), absl::StatusCode::kInvalidArgument);
  v1::LiveSegment skip = Segment(a->chain(), 4000, 1000);
  EXPECT_EQ((*s)->Append(skip).status().code(), absl::StatusCode::kInvalidArgument);
  v1::LiveSegment wrong = Segment(FirstLiveChain(), 3000, 1000);
  EXPECT_EQ((*s)->Append(wrong).status().code(), absl::StatusCode::kInvalidArgument);
  // The one that follows is taken: the refusals changed nothing.
  absl::StatusOr<v1::LiveAck> b = (*s)->Append(Segment(a->chain(), 3000, 2000));
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->held(), 5000u);
}

TEST_F(LiveUploadTest, WhatWasAcknowledgedSurvivesARestartAndSealsToTheFile) {
  std::string chain = FirstLiveChain();
  {
    auto s = Open();
    ASSERT_TRUE(s.ok()) << s.status();
    for (uint64_t at = 0; at < 10000; at += 2500) {  // crosses two chunk boundaries
      absl::StatusOr<v1::LiveAck> a = (*s)->Append(Segment(chain, at, 2500));
      ASSERT_TRUE(a.ok()) << a.status();
      chain = a->chain();
    }
  }
  Reopen();
  // Another identity cannot take it over; the owner resumes where it was.
  EXPECT_EQ(Open("user:other").status().code(), absl::StatusCode::kPermissionDenied);
  auto s = Open();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)->Ack().held(), 10000u);
  EXPECT_EQ((*s)->Ack().chain(), chain);
  absl::StatusOr<v1::LiveAck> a = (*s)->Append(Segment(chain, 10000, data_.size() - 10000));
  ASSERT_TRUE(a.ok()) << a.status();
  // A finish with another hash seals nothing; the right one seals the file.
  EXPECT_EQ((*s)->Finish(Digest::Of("other").ToString()).status().code(),
            absl::StatusCode::kDataLoss);
  s->reset();
  s = Open();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)->Ack().held(), data_.size());
  absl::StatusOr<v1::LiveAck> sealed = (*s)->Finish(Digest::Of(data_).ToString());
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ(sealed->state(), "sealed");
  EXPECT_EQ(sealed->object_id(), Digest::Of(data_).ToString());
  EXPECT_EQ(*ReadObject(node_.get(), sealed->object_id()), data_);
  s->reset();
  EXPECT_EQ(Open().status().code(), absl::StatusCode::kFailedPrecondition);  // sealed
}

TEST_F(LiveUploadTest, ATruncatedSealIsTheBytesHeldWithTheReason) {
  {
    auto s = Open();
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->Append(Segment(FirstLiveChain(), 0, 5000)).ok());
    // While a stream appends, nobody seals it.
    EXPECT_EQ(node_->live()->SealTruncated("live-1", "user:arch", "lost").status().code(),
              absl::StatusCode::kAborted);
  }
  EXPECT_EQ(node_->live()->SealTruncated("live-1", "user:arch", "").status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<v1::LiveInfo> i = node_->live()->SealTruncated("live-1", "user:arch", "lost");
  ASSERT_TRUE(i.ok()) << i.status();
  EXPECT_EQ(i->state(), "truncated");
  EXPECT_EQ(i->object_id(), Digest::Of(data_.substr(0, 5000)).ToString());
  EXPECT_EQ(*ReadObject(node_.get(), i->object_id()), data_.substr(0, 5000));
  auto m = node_->objects()->GetManifest(*Digest::Parse(i->object_id()));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->metadata().at("live"), "truncated");
  EXPECT_EQ(m->metadata().at("live_truncated_reason"), "lost");
}

TEST_F(LiveUploadTest, ATruncatedUploadIsContinuedByANewOneThatStartsWithItsBytes) {
  {
    auto s = Open();
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->Append(Segment(FirstLiveChain(), 0, 9000)).ok());  // 2 chunks and a tail
  }
  absl::StatusOr<v1::LiveInfo> cut = node_->live()->SealTruncated("live-1", "user:arch", "lost");
  ASSERT_TRUE(cut.ok()) << cut.status();
  EXPECT_EQ(cut->held_sha256(), Digest::Of(data_.substr(0, 9000)).ToString());
  v1::LiveHeader h;
  h.set_live_id("live-2");
  h.set_device("CAM-1");
  h.set_file_name("rec.mp4");
  h.set_continues("live-1");
  // Not without the right to take over another's upload, nor under the
  // sealed upload's own id.
  EXPECT_EQ(node_->live()->Open(h, "user:station").status().code(),
            absl::StatusCode::kPermissionDenied);
  v1::LiveHeader same = h;
  same.set_live_id("live-1");
  EXPECT_EQ(node_->live()->Open(same, "user:station", true).status().code(),
            absl::StatusCode::kFailedPrecondition);
  Reopen();  // what the continuation starts from is on disk
  auto s = node_->live()->Open(h, "user:station", /*may_take_over=*/true);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)->Ack().held(), 9000u);
  EXPECT_EQ((*s)->Ack().chain(), cut->chain());
  absl::StatusOr<v1::LiveAck> a =
      (*s)->Append(Segment(cut->chain(), 9000, data_.size() - 9000));  // only the rest
  ASSERT_TRUE(a.ok()) << a.status();
  absl::StatusOr<v1::LiveAck> sealed = (*s)->Finish(Digest::Of(data_).ToString());
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ(*ReadObject(node_.get(), sealed->object_id()), data_);
  auto m = node_->objects()->GetManifest(*Digest::Parse(sealed->object_id()));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->metadata().at("live_extends"), cut->object_id());
  EXPECT_EQ(m->metadata().at("live_continues"), "live-1");
  EXPECT_EQ(m->metadata().count("live_truncated_reason"), 0u);
  // The truncated object is kept as it was.
  EXPECT_EQ(*ReadObject(node_.get(), cut->object_id()), data_.substr(0, 9000));
  absl::StatusOr<std::vector<v1::LiveInfo>> found = node_->live()->Find("CAM-1", "rec.mp4");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->size(), 2u);
}

}  // namespace
}  // namespace custody
