#include "server/objects/upload.h"

#include <gtest/gtest.h>

#include <vector>

#include "absl/time/clock.h"
#include "rocksdb/db.h"
#include "tests/server/node_fixture.h"
#include "tests/test_util.h"

namespace custody {
namespace {

using testing::PutBytes;
using testing::RandomBytes;
using testing::ReadObject;
using testing::SmallNodeOptions;
using testing::TempDir;

class UploadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto n = Node::Open(SmallNodeOptions(dir_.path()));
    ASSERT_TRUE(n.ok()) << n.status();
    node_ = std::move(*n);
  }
  v1::UploadHeader Header(const std::string& id, uint64_t size, uint64_t offset = 0) {
    v1::UploadHeader h;
    h.set_upload_id(id);
    h.set_file_name("f.bin");
    h.set_size(size);
    h.set_offset(offset);
    return h;
  }
  TempDir dir_;
  std::unique_ptr<Node> node_;
};

TEST_F(UploadTest, ChunksOddSizedPiecesAndNamesObjectBySha256) {
  std::string data = RandomBytes(4096 * 5 + 123, 1);
  auto r = PutBytes(node_.get(), data, "u1", 777);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->id(), Digest::Of(data).ToString());
  EXPECT_FALSE(r->already_stored());
  auto m = node_->objects()->GetManifest(Digest::Of(data));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->chunks_size(), 6);
  EXPECT_EQ(m->chunk_size(), 4096u);
  EXPECT_EQ(*ReadObject(node_.get(), r->id()), data);
}

TEST_F(UploadTest, SameBytesTwiceStoreNothingNew) {
  std::string data = RandomBytes(10000, 2);
  ASSERT_TRUE(PutBytes(node_.get(), data, "a").ok());
  uint64_t before = node_->volumes()->TotalBytes();
  auto again = PutBytes(node_.get(), data, "b");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->already_stored());
  EXPECT_EQ(node_->volumes()->TotalBytes(), before);
}

TEST_F(UploadTest, EmptyFileIsAnObject) {
  auto r = PutBytes(node_.get(), "", "empty");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->id(), Digest::Of("").ToString());
  EXPECT_EQ(*ReadObject(node_.get(), r->id()), "");
}

TEST_F(UploadTest, HashMismatchStoresNoObjectAndForgetsProgress) {
  std::string data = RandomBytes(9000, 3);
  auto up = node_->uploads()->Begin(Header("bad", data.size()));
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE((*up)->Append(data).ok());
  auto r = (*up)->Finish(Digest::Of("something else").ToString());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  up->reset();
  EXPECT_EQ(node_->objects()->Stat(Digest::Of(data)).status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(node_->uploads()->Query("bad")->known());
}

TEST_F(UploadTest, MoreBytesThanDeclaredAreRefused) {
  auto up = node_->uploads()->Begin(Header("big", 10));
  ASSERT_TRUE(up.ok());
  EXPECT_EQ((*up)->Append(std::string(11, 'x')).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(UploadTest, FinishBeforeAllBytesIsRefused) {
  auto up = node_->uploads()->Begin(Header("short", 100));
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE((*up)->Append(std::string(50, 'x')).ok());
  EXPECT_EQ((*up)->Finish(Digest::Of("x").ToString()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(UploadTest, BadHeadersAreRefused) {
  auto h = Header("ok", 1);
  h.set_upload_id("has space");
  EXPECT_EQ(node_->uploads()->Begin(h).status().code(), absl::StatusCode::kInvalidArgument);
  h = Header("ok", 1);
  (*h.mutable_metadata())["k"] = std::string(5000, 'v');
  EXPECT_EQ(node_->uploads()->Begin(h).status().code(), absl::StatusCode::kInvalidArgument);
  h = Header("ok", 1);
  h.set_file_name(std::string(2000, 'n'));
  EXPECT_EQ(node_->uploads()->Begin(h).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(UploadTest, ResumesFromTheLastDurableChunk) {
  std::string data = RandomBytes(4096 * 4 + 10, 4);
  {
    auto up = node_->uploads()->Begin(Header("r", data.size()));
    ASSERT_TRUE(up.ok());
    ASSERT_TRUE((*up)->Append(absl::string_view(data).substr(0, 4096 * 2 + 500)).ok());
  }  // the stream breaks: the partial third chunk is not durable
  auto q = node_->uploads()->Query("r");
  ASSERT_TRUE(q.ok());
  EXPECT_TRUE(q->known());
  EXPECT_EQ(q->committed_size(), 4096u * 2);
  EXPECT_EQ(node_->uploads()->Begin(Header("r", data.size(), 0)).status().code(),
            absl::StatusCode::kOutOfRange);
  auto other = Header("r", data.size() + 1, 4096 * 2);
  EXPECT_EQ(node_->uploads()->Begin(other).status().code(), absl::StatusCode::kFailedPrecondition);
  auto up = node_->uploads()->Begin(Header("r", data.size(), 4096 * 2));
  ASSERT_TRUE(up.ok()) << up.status();
  EXPECT_EQ(node_->uploads()->Begin(Header("r", data.size(), 4096 * 2)).status().code(),
            absl::StatusCode::kAborted);  // one stream per upload at a time
  ASSERT_TRUE((*up)->Append(absl::string_view(data).substr(4096 * 2)).ok());
  auto r = (*up)->Finish(Digest::Of(data).ToString());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->bytes_received(), data.size() - 4096 * 2);
  EXPECT_EQ(*ReadObject(node_.get(), r->id()), data);
  // A client that lost the final reply learns the object's id.
  auto done = node_->uploads()->Query("r");
  ASSERT_TRUE(done.ok());
  EXPECT_TRUE(done->known());
  EXPECT_TRUE(done->completed());
  EXPECT_EQ(done->object_id(), r->id());
  EXPECT_EQ(done->committed_size(), data.size());
  // Every key of the finished upload is gone but that record: the point
  // deletes that replaced a range delete (issue 27) miss none.
  std::unique_ptr<rocksdb::Iterator> it(
      node_->index()->db()->NewIterator(rocksdb::ReadOptions(), node_->index()->uploads()));
  std::vector<std::string> left;
  for (it->SeekToFirst(); it->Valid(); it->Next()) left.push_back(it->key().ToString());
  EXPECT_EQ(left, std::vector<std::string>{UploadDoneKey("r")});
}

TEST_F(UploadTest, FinishedUploadsAreAnsweredForAWeekThenForgotten) {
  std::string data = RandomBytes(5000, 6);
  auto up = node_->uploads()->Begin(Header("fresh", data.size()));
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE((*up)->Append(data).ok());
  ASSERT_TRUE((*up)->Finish(Digest::Of(data).ToString()).ok());
  internal::v1::UploadDone old;  // as a week and a day ago
  old.set_object_id(Digest::Of("old").ToString());
  old.set_size(3);
  old.set_finished_unix_nanos(absl::ToUnixNanos(absl::Now() - absl::Hours(24 * 8)));
  ASSERT_TRUE(node_->index()
                  ->db()
                  ->Put(rocksdb::WriteOptions(), node_->index()->uploads(), UploadDoneKey("old"),
                        old.SerializeAsString())
                  .ok());
  EXPECT_FALSE(node_->uploads()->Query("old")->known()) << "past its week";
  // A broken upload whose chunk keys end in the byte \3 (chunk 3) is kept.
  std::string many = RandomBytes(4096 * 5, 7);
  {
    auto broken = node_->uploads()->Begin(Header("broken", many.size() + 1));
    ASSERT_TRUE(broken.ok());
    ASSERT_TRUE((*broken)->Append(many).ok());
  }
  EXPECT_EQ(*node_->uploads()->ForgetOldFinished(), 1);
  EXPECT_EQ(node_->uploads()->Query("broken")->committed_size(), many.size());
  EXPECT_TRUE(node_->uploads()->Query("fresh")->completed());
  EXPECT_EQ(*node_->uploads()->ForgetOldFinished(), 0);
}

TEST_F(UploadTest, UnknownUploadHasZeroCommitted) {
  auto q = node_->uploads()->Query("never-seen");
  ASSERT_TRUE(q.ok());
  EXPECT_FALSE(q->known());
  EXPECT_EQ(q->committed_size(), 0u);
}

TEST_F(UploadTest, ManyConcurrentUploads) {
  std::vector<std::thread> threads;
  std::vector<std::string> datas(8);
  std::vector<absl::StatusOr<v1::UploadResponse>> results(8, absl::UnknownError(""));
  for (int i = 0; i < 8; ++i) {
    datas[i] = RandomBytes(4096 * 10 + i, 100 + i);
    threads.emplace_back(
        [&, i] { results[i] = PutBytes(node_.get(), datas[i], "c" + std::to_string(i), 3000); });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(results[i].ok()) << results[i].status();
    EXPECT_EQ(*ReadObject(node_.get(), results[i]->id()), datas[i]);
  }
  auto list = node_->objects()->List("", 3);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->objects_size(), 3);
  int total = 0;
  std::string token;
  do {
    auto page = node_->objects()->List(token, 3);
    ASSERT_TRUE(page.ok());
    total += page->objects_size();
    token = page->next_page_token();
  } while (!token.empty());
  EXPECT_EQ(total, 8);
}

}  // namespace
}  // namespace custody
