// The witness's rule (C2SP tlog-witness): cosign a checkpoint only when it is
// consistent with the last one cosigned for its origin. Every pair of tree
// sizes 1..70 over the RFC 6962 test leaves (repeated), with every single-bit
// change of every proof hash, every dropped and every added hash refused.
#include "replication/witness/witness_book.h"

#include <gtest/gtest.h>

#include <map>

#include "absl/strings/escaping.h"
#include "common/checkpoint.h"
#include "common/cosignature.h"
#include "common/merkle.h"
#include "tests/common/rfc6962_leaves.h"

namespace custody {
namespace {

constexpr auto& kLeaves = testing::kRfc6962Leaves;

class MemoryStore : public WitnessStore {
 public:
  absl::StatusOr<std::optional<internal::v1::WitnessedLogState>> Load(
      const std::string& origin) override {
    auto it = logs_.find(origin);
    if (it == logs_.end()) return std::nullopt;
    return it->second;
  }
  absl::Status Save(const internal::v1::WitnessedLogState& state, v1::AuditEvent e) override {
    logs_[state.origin()] = state;
    events.push_back(std::move(e));
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<internal::v1::WitnessedLogState>> List() override {
    std::vector<internal::v1::WitnessedLogState> out;
    for (auto& [o, s] : logs_) out.push_back(s);
    return out;
  }
  void Forget() { logs_.clear(); }
  std::vector<v1::AuditEvent> events;

 private:
  std::map<std::string, internal::v1::WitnessedLogState> logs_;
};

// A log of up to 70 leaves (the eight RFC 6962 leaves, repeated).
class Log {
 public:
  Log() : key_(*Ed25519Key::Generate()) {
    for (int i = 0; i < 70; ++i)
      leaves_.push_back(merkle::HashLeaf(absl::HexStringToBytes(kLeaves[i % 8])));
  }
  absl::StatusOr<Digest> Node(int level, uint64_t index) const {
    if (level == 0) return leaves_.at(index);
    return merkle::HashChildren(*Node(level - 1, 2 * index), *Node(level - 1, 2 * index + 1));
  }
  Digest Root(uint64_t size) const {
    return *merkle::SubtreeHash(0, size, [this](int l, uint64_t i) { return Node(l, i); });
  }
  std::string Note(uint64_t size, const Digest& root) const {
    Checkpoint c{"custody-node-log", size, root, 1};
    return *SignCheckpoint(c, key_);
  }
  std::string Note(uint64_t size) const { return Note(size, Root(size)); }
  std::vector<Digest> Proof(uint64_t from, uint64_t to) const {
    return *merkle::ConsistencyProof(from, to, [this](int l, uint64_t i) { return Node(l, i); });
  }
  v1::AddCheckpointRequest Request(uint64_t old_size, const std::string& note,
                                   const std::vector<Digest>& proof) const {
    v1::AddCheckpointRequest r;
    r.set_old_size(old_size);
    r.set_checkpoint(note);
    r.set_log_public_key(key_.public_raw());
    for (const Digest& d : proof) r.add_consistency_proof(std::string(d.Raw()));
    return r;
  }
  const Ed25519Key& key() const { return key_; }

 private:
  Ed25519Key key_;
  std::vector<Digest> leaves_;
};

class WitnessBookTest : public ::testing::Test {
 protected:
  WitnessBookTest() : book_("custody-witness-w", *Ed25519Key::Generate(), &store_) {}
  // Makes the witness hold `size`.
  void Hold(uint64_t size) {
    store_.Forget();
    auto r = book_.Add(log_.Request(0, log_.Note(size), {}), "n1");
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_FALSE(r->cosignature().empty());
  }
  MemoryStore store_;
  WitnessBook book_;
  Log log_;
};

TEST_F(WitnessBookTest, CosignsEveryConsistentGrowthAndRefusesEveryAlteredProof) {
  int refused = 0;
  for (uint64_t old_size = 1; old_size < 70; ++old_size) {
    for (uint64_t size = old_size + 1; size <= 70; ++size) {
      std::vector<Digest> proof = log_.Proof(old_size, size);
      std::string note = log_.Note(size);
      std::vector<std::vector<Digest>> altered;
      for (size_t i = 0; i < proof.size(); ++i) {
        for (int bit : {0, 77, 255}) {
          std::vector<Digest> p = proof;
          p[i].mutable_data()[bit / 8] ^= static_cast<uint8_t>(1 << (bit % 8));
          altered.push_back(p);
        }
        std::vector<Digest> dropped = proof;
        dropped.erase(dropped.begin() + static_cast<long>(i));
        altered.push_back(dropped);
      }
      std::vector<Digest> added = proof;
      added.push_back(Digest::Of("extra"));
      altered.push_back(added);
      Hold(old_size);
      for (const std::vector<Digest>& p : altered) {
        auto r = book_.Add(log_.Request(old_size, note, p), "n1");
        ASSERT_TRUE(absl::IsFailedPrecondition(r.status()))
            << old_size << " -> " << size << ": " << r.status();
        ++refused;
      }
      auto ok = book_.Add(log_.Request(old_size, note, proof), "n1");
      ASSERT_TRUE(ok.ok()) << old_size << " -> " << size << ": " << ok.status();
      std::string cosigned = AddNoteSignature(note, ok->cosignature());
      ASSERT_TRUE(VerifyCosignature(cosigned, book_.key().public_raw()).ok());
      EXPECT_EQ(ok->witness_size(), size);
    }
  }
  EXPECT_GT(refused, 2415);
}

TEST_F(WitnessBookTest, ARollbackOrAForkIsRefusedWithBothCheckpointsOnRecord) {
  Hold(40);
  std::string held = log_.Note(40);
  // Rollback: a smaller tree after size 40.
  auto r = book_.Add(log_.Request(40, log_.Note(30), {}), "n1");
  EXPECT_TRUE(absl::IsFailedPrecondition(r.status())) << r.status();
  EXPECT_NE(r.status().message().find("rollback"), std::string::npos);
  // Fork: the same size with another root.
  std::string forked = log_.Note(40, Digest::Of("another history"));
  r = book_.Add(log_.Request(40, forked, {}), "n1");
  EXPECT_TRUE(absl::IsFailedPrecondition(r.status())) << r.status();
  ASSERT_GE(store_.events.size(), 3u);
  const v1::AuditEvent& e = store_.events.back();
  EXPECT_EQ(e.action(), "witness.refused");
  std::map<std::string, std::string> d;
  for (const auto& x : e.details()) d[x.key()] = x.value();
  EXPECT_EQ(d["cosigned_checkpoint"], held);
  EXPECT_EQ(d["offered_checkpoint"], forked);
  // The witness still holds 40, and still cosigns growth from it.
  auto grown = book_.Add(log_.Request(40, log_.Note(50), log_.Proof(40, 50)), "n1");
  ASSERT_TRUE(grown.ok()) << grown.status();
  auto info = book_.Info();
  ASSERT_TRUE(info.ok());
  ASSERT_EQ(info->logs_size(), 1);
  EXPECT_EQ(info->logs(0).refusals(), 2u);
  EXPECT_EQ(info->logs(0).size(), 50u);
}

TEST_F(WitnessBookTest, AnotherOldSizeGetsTheHeldSizeAndAnotherKeyIsRefused) {
  Hold(10);
  auto r = book_.Add(log_.Request(5, log_.Note(20), log_.Proof(5, 20)), "n1");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->cosignature().empty());
  EXPECT_EQ(r->witness_size(), 10u);
  // Signed by another key under the same origin.
  auto other = Ed25519Key::Generate();
  Checkpoint c{"custody-node-log", 20, log_.Root(20), 1};
  v1::AddCheckpointRequest req = log_.Request(10, *SignCheckpoint(c, *other), log_.Proof(10, 20));
  req.set_log_public_key(other->public_raw());
  EXPECT_TRUE(absl::IsPermissionDenied(book_.Add(req, "n1").status()));
  req.clear_log_public_key();
  EXPECT_TRUE(absl::IsPermissionDenied(book_.Add(req, "n1").status()));
  // Malformed.
  req.set_checkpoint("not a note");
  EXPECT_TRUE(absl::IsInvalidArgument(book_.Add(req, "n1").status()));
}

}  // namespace
}  // namespace custody
