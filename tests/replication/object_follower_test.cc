#include "replication/offsite/object_follower.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>

namespace custody {
namespace {

// An object of `n` chunks of `size` bytes each, with distinct contents.
struct TestObject {
  std::vector<std::string> data;
  std::vector<std::string> raw;  // chunk hashes, raw
  ChunkPosition at;

  TestObject(int n, size_t size, int seed) {
    Sha256 whole;
    std::mt19937 rng(seed);
    for (int i = 0; i < n; ++i) {
      std::string d(size, '\0');
      for (char& c : d) c = static_cast<char>(rng());
      whole.Update(d);
      raw.push_back(std::string(Digest::Of(d).Raw()));
      data.push_back(std::move(d));
    }
    at.object = whole.Finish();
    at.manifest = Digest::Of(absl::StrCat("manifest ", seed));
  }
  bool Add(ObjectFollower* f, uint32_t i) const {
    ChunkPosition p = at;
    p.index = i;
    return f->Add(p, Digest::Of(data[i]), std::make_shared<const std::string>(data[i]));
  }
};

class ObjectFollowerTest : public ::testing::Test {
 protected:
  ObjectFollower Make(uint64_t max_early) {
    return ObjectFollower(
        [this](const ChunkPosition& at) -> std::optional<std::vector<std::string>> {
          ++lookups_;
          for (const TestObject* o : objects_) {
            if (o->at.manifest == at.manifest) return o->raw;
          }
          return std::nullopt;
        },
        max_early);
  }
  std::vector<const TestObject*> objects_;
  std::atomic<int> lookups_{0};
};

// How many Add calls of chunks in `order` returned true.
int AddAll(ObjectFollower* f, const TestObject& o, const std::vector<uint32_t>& order) {
  int verified = 0;
  for (uint32_t i : order) verified += o.Add(f, i) ? 1 : 0;
  return verified;
}

TEST_F(ObjectFollowerTest, InOrderChunksVerifyTheObjectOnceOnTheLastChunk) {
  TestObject o(4, 1000, 1);
  objects_ = {&o};
  ObjectFollower f = Make(1 << 20);
  EXPECT_FALSE(o.Add(&f, 0));
  EXPECT_FALSE(o.Add(&f, 1));
  EXPECT_FALSE(o.Add(&f, 2));
  EXPECT_TRUE(o.Add(&f, 3));
  EXPECT_EQ(lookups_, 1);
  EXPECT_EQ(f.early_bytes(), 0u);
}

TEST_F(ObjectFollowerTest, ChunksInReverseOrderAreHeldThenHashedInTheObjectsOrder) {
  TestObject o(5, 1000, 2);
  objects_ = {&o};
  ObjectFollower f = Make(1 << 20);
  for (uint32_t i = 4; i >= 1; --i) {
    EXPECT_FALSE(o.Add(&f, i));
    EXPECT_EQ(f.early_bytes(), (5 - i) * 1000u);
  }
  EXPECT_TRUE(o.Add(&f, 0));
  EXPECT_EQ(f.early_bytes(), 0u);
}

TEST_F(ObjectFollowerTest, AnEarlyChunkIsKeptByReferenceAndLetGoOnceHashed) {
  TestObject o(3, 1000, 6);
  objects_ = {&o};
  ObjectFollower f = Make(1 << 20);
  ChunkPosition p = o.at;
  p.index = 2;
  auto early = std::make_shared<const std::string>(o.data[2]);
  EXPECT_FALSE(f.Add(p, Digest::Of(*early), early));
  EXPECT_EQ(early.use_count(), 2);  // the follower's reference, not a copy
  EXPECT_EQ(AddAll(&f, o, {0, 1}), 1);
  EXPECT_EQ(early.use_count(), 1);
  EXPECT_EQ(f.early_bytes(), 0u);
}

TEST_F(ObjectFollowerTest, ARepeatedChunkIsIgnored) {
  TestObject o(3, 1000, 3);
  objects_ = {&o};
  ObjectFollower f = Make(1 << 20);
  EXPECT_EQ(AddAll(&f, o, {0, 0, 2, 2, 1}), 1);
  EXPECT_EQ(f.early_bytes(), 0u);
}

TEST_F(ObjectFollowerTest, AChunkAtTheWrongPlaceOrAnUnknownObjectIsNotFollowed) {
  TestObject o(3, 1000, 4), stranger(3, 1000, 5);
  objects_ = {&o};
  ObjectFollower f = Make(1 << 20);
  ChunkPosition p = o.at;
  p.index = 1;  // chunk 0's bytes claimed at place 1
  EXPECT_FALSE(f.Add(p, Digest::Of(o.data[0]), std::make_shared<const std::string>(o.data[0])));
  EXPECT_EQ(AddAll(&f, stranger, {0, 1, 2}), 0);  // no manifest for it
  EXPECT_EQ(AddAll(&f, o, {0, 1, 2}), 1);
}

TEST_F(ObjectFollowerTest, AnObjectWhoseChunksDoNotHashToItsIdIsNeverVerified) {
  TestObject o(3, 1000, 6);
  o.at.object = Digest::Of("another object");
  objects_ = {&o};
  ObjectFollower f = Make(1 << 20);
  EXPECT_EQ(AddAll(&f, o, {2, 0, 1}), 0);
}

TEST_F(ObjectFollowerTest, EarlyCopiesStayUnderTheLimitByGivingUpTheOldestObject) {
  TestObject stale(3, 1000, 7), live(4, 1000, 8);
  objects_ = {&stale, &live};
  ObjectFollower f = Make(3500);
  EXPECT_EQ(AddAll(&f, stale, {2}), 0);  // chunks 0 and 1 never come
  EXPECT_EQ(f.early_bytes(), 1000u);
  EXPECT_EQ(AddAll(&f, live, {3, 2}), 0);
  EXPECT_EQ(f.early_bytes(), 3000u);
  EXPECT_EQ(AddAll(&f, live, {1}), 0);  // room made: the stale copy is dropped
  EXPECT_EQ(f.early_bytes(), 3000u);
  EXPECT_EQ(AddAll(&f, live, {0}), 1);
  EXPECT_EQ(f.early_bytes(), 0u);
  EXPECT_EQ(AddAll(&f, stale, {0, 1}), 0);  // given up: it is read back instead
}

TEST_F(ObjectFollowerTest, AChunkLargerThanTheLimitGivesUpItsObject) {
  TestObject o(3, 1000, 9);
  objects_ = {&o};
  ObjectFollower f = Make(999);
  EXPECT_EQ(AddAll(&f, o, {1, 0, 2}), 0);
  EXPECT_EQ(f.early_bytes(), 0u);
}

TEST_F(ObjectFollowerTest, ChunksFromManyThreadsInAnyOrderVerifyEveryObjectOnce) {
  std::vector<std::unique_ptr<TestObject>> objs;
  for (int s = 0; s < 6; ++s) {
    objs.push_back(std::make_unique<TestObject>(16, 4096, 100 + s));
    objects_.push_back(objs.back().get());
  }
  std::vector<std::pair<int, uint32_t>> work;
  for (int o = 0; o < 6; ++o) {
    for (uint32_t i = 0; i < 16; ++i) work.push_back({o, i});
  }
  std::shuffle(work.begin(), work.end(), std::mt19937(11));
  ObjectFollower f = Make(64 << 20);
  std::atomic<size_t> next{0};
  std::vector<std::atomic<int>> verified(6);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (size_t w = next++; w < work.size(); w = next++) {
        if (objs[work[w].first]->Add(&f, work[w].second)) ++verified[work[w].first];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int o = 0; o < 6; ++o) EXPECT_EQ(verified[o], 1) << "object " << o;
  EXPECT_EQ(f.early_bytes(), 0u);
}

}  // namespace
}  // namespace custody
