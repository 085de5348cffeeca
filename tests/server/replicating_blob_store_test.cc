// ReplicatingBlobStore over in-memory stores that can be down or corrupt:
// chunks land on exactly their R home nodes, go to the next node when a home
// node fails, fail cleanly with too few nodes, and reads fall through bad
// copies.
#include "replication/cluster/replicating_blob_store.h"

#include <gtest/gtest.h>

#include <map>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "server/storage/verifying_blob_store.h"

namespace custody {
namespace {

class FakeStore : public BlobStore {
 public:
  absl::StatusOr<std::string> Get(const Digest& d) override {
    absl::MutexLock l(&mu_);
    if (down) return absl::UnavailableError("down");
    auto it = blobs_.find(d.ToString());
    if (it == blobs_.end()) return absl::NotFoundError("not held");
    return corrupt ? it->second + "!" : it->second;
  }
  void Put(const Digest& d, std::string data,
           absl::AnyInvocable<void(absl::Status) &&> done) override {
    absl::Status s;
    {
      absl::MutexLock l(&mu_);
      ++puts;
      if (down) {
        s = absl::UnavailableError("down");
      } else if (Digest::Of(data) != d) {  // as every real store checks
        s = absl::InvalidArgumentError("bytes do not hash to the key");
      } else {
        blobs_[d.ToString()] = std::move(data);
      }
    }
    std::move(done)(s);
  }
  absl::StatusOr<std::vector<Digest>> FindMissing(absl::Span<const Digest> ds) override {
    absl::MutexLock l(&mu_);
    if (down) return absl::UnavailableError("down");
    std::vector<Digest> out;
    for (const Digest& d : ds) {
      if (!blobs_.count(d.ToString())) out.push_back(d);
    }
    return out;
  }
  bool Holds(const Digest& d) {
    absl::MutexLock l(&mu_);
    return blobs_.count(d.ToString()) > 0;
  }
  bool VerifiesReads() const override { return verifies; }
  bool down = false, corrupt = false;
  bool verifies = false;  // claims to hash what it returns (as VerifyingBlobStore does)
  int puts = 0;

 private:
  absl::Mutex mu_;
  std::map<std::string, std::string> blobs_;
};

class ReplicatingBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = ClusterMap::Parse(R"({"version": 1, "replication_factor": 2, "nodes": [
        {"id": "n1", "address": "h:1", "zone": "a"}, {"id": "n2", "address": "h:2", "zone": "a"},
        {"id": "n3", "address": "h:3", "zone": "b"}, {"id": "n4", "address": "h:4", "zone": "b"}]})");
    ASSERT_TRUE(m.ok()) << m.status();
    map_ = std::make_shared<const ClusterMap>(*m);
    store_ = std::make_unique<ReplicatingBlobStore>(
        map_, "n1", [this](const NodeInfo& n) { return &fakes_[n.id]; });
  }
  absl::Status PutSync(const std::string& data) {
    absl::Notification done;
    absl::Status status;
    store_->Put(Digest::Of(data), data, [&](absl::Status s) {
      status = s;
      done.Notify();
    });
    done.WaitForNotification();
    return status;
  }
  std::vector<std::string> Holders(const Digest& d) {
    std::vector<std::string> out;
    for (auto& [id, f] : fakes_) {
      if (f.Holds(d)) out.push_back(id);
    }
    return out;
  }

  std::shared_ptr<const ClusterMap> map_;
  std::map<std::string, FakeStore> fakes_;
  std::unique_ptr<ReplicatingBlobStore> store_;
};

TEST_F(ReplicatingBlobStoreTest, EachChunkLandsOnExactlyItsHomeNodes) {
  for (int i = 0; i < 50; ++i) {
    std::string data = "chunk " + std::to_string(i);
    Digest d = Digest::Of(data);
    ASSERT_TRUE(PutSync(data).ok());
    auto rank = map_->Rank(d);
    std::vector<std::string> want = {rank[0]->id, rank[1]->id};
    std::sort(want.begin(), want.end());
    EXPECT_EQ(Holders(d), want);
    EXPECT_NE(rank[0]->zone, rank[1]->zone);
    auto got = store_->Get(d);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, data);
  }
}

TEST_F(ReplicatingBlobStoreTest, ADownHomeNodeIsReplacedByTheNextInRank) {
  std::string data = "handoff";
  Digest d = Digest::Of(data);
  auto rank = map_->Rank(d);
  fakes_[rank[0]->id].down = true;
  ASSERT_TRUE(PutSync(data).ok());
  std::vector<std::string> want = {rank[1]->id, rank[2]->id};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(Holders(d), want);
  auto got = store_->Get(d);  // the home node is still down: found on the handoff holder
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, data);
  auto missing = store_->FindMissing({d});  // but it is under-replicated at home
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->size(), 1u);
}

TEST_F(ReplicatingBlobStoreTest, BytesThatDoNotHashToTheKeyAreRefusedWithoutHandoff) {
  Digest d = Digest::Of("what the key names");
  absl::Notification done;
  absl::Status status;
  store_->Put(d, "other bytes", [&](absl::Status s) {
    status = s;
    done.Notify();
  });
  done.WaitForNotification();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_NE(status.message().find("bytes do not hash"), std::string::npos) << status;
  EXPECT_TRUE(Holders(d).empty());
  int puts = 0;
  for (auto& [id, f] : fakes_) puts += f.puts;
  EXPECT_EQ(puts, 2) << "only the two home nodes are asked, no handoff";
}

TEST_F(ReplicatingBlobStoreTest, TooFewNodesFailsWithoutAcknowledging) {
  std::string data = "lonely";
  Digest d = Digest::Of(data);
  auto rank = map_->Rank(d);
  for (int i = 0; i < 3; ++i) fakes_[rank[i]->id].down = true;
  absl::Status s = PutSync(data);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("only 1 of the 2 nodes needed"), std::string::npos) << s;
}

TEST_F(ReplicatingBlobStoreTest, ReadsFallThroughCorruptAndMissingCopies) {
  std::string data = "evidence";
  Digest d = Digest::Of(data);
  ASSERT_TRUE(PutSync(data).ok());
  auto rank = map_->Rank(d);
  fakes_[rank[0]->id].corrupt = true;
  auto got = store_->Get(d);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, data);
  fakes_[rank[1]->id].down = true;
  got = store_->Get(d);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(got.status().message().find(rank[0]->id + ": its copy does not match"),
            std::string::npos)
      << got.status();
}

// This node's own copy comes through its verifying store, which hashed it
// already: it is not hashed a second time (issue 29). A bad copy there is
// DATA_LOSS from that store, and the read goes on to a peer's copy, which
// is hashed here.
TEST_F(ReplicatingBlobStoreTest, OnlyCopiesFromStoresThatDoNotVerifyAreHashedAgain) {
  std::string data;
  Digest d;
  for (int i = 0;; ++i) {  // a chunk whose homes include this node (n1)
    data = "evidence " + std::to_string(i);
    d = Digest::Of(data);
    auto rank = map_->Rank(d);
    if (rank[0]->id == "n1" || rank[1]->id == "n1") break;
  }
  ASSERT_TRUE(PutSync(data).ok());
  // A store that claims to verify is trusted: its (here, lying) bytes are
  // not hashed again. That is what VerifyingBlobStore guarantees.
  fakes_["n1"].corrupt = true;
  fakes_["n1"].verifies = true;
  absl::StatusOr<std::string> got = store_->Get(d);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, data + "!");
  // The real decorator over the same corrupt copy: DATA_LOSS there, and the
  // peer's good copy is served.
  fakes_["n1"].verifies = false;
  int corrupt_found = 0;
  VerifyingBlobStore verifying(&fakes_["n1"], [&] { ++corrupt_found; });
  ReplicatingBlobStore with_verifying(map_, "n1", [&](const NodeInfo& n) -> BlobStore* {
    return n.id == "n1" ? static_cast<BlobStore*>(&verifying) : &fakes_[n.id];
  });
  got = with_verifying.Get(d);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, data);
  EXPECT_EQ(corrupt_found, 1);
  // A peer's copy that does not verify is hashed: a corrupt one is refused.
  for (auto& [id, f] : fakes_) f.corrupt = id != "n1";
  fakes_["n1"].down = true;
  got = with_verifying.Get(d);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << got.status();
}

}  // namespace
}  // namespace custody
