// The audit log of a node: events for every change, and tampering with the
// stored log (node stopped, RocksDB edited directly) named by VerifyAll.
#include "server/audit/audit_log.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>

#include "absl/base/internal/endian.h"
#include "absl/synchronization/notification.h"
#include "server/audit/event_groups.h"
#include "tests/server/node_fixture.h"
#include "tests/test_util.h"

namespace custody {
namespace {

using testing::PutBytes;
using testing::RandomBytes;
using testing::SmallNodeOptions;
using testing::TempDir;

class AuditLogTest : public ::testing::Test {
 protected:
  // A node with some history: started, 3 objects stored, a checkpoint.
  void SetUp() override {
    auto node = Node::Open(SmallNodeOptions(dir_.path()));
    ASSERT_TRUE(node.ok()) << node.status();
    for (int i = 0; i < 3; ++i) {
      auto r = PutBytes(node->get(), RandomBytes(5000 + i, i), "u" + std::to_string(i));
      ASSERT_TRUE(r.ok()) << r.status();
      ids_.push_back(r->id());
    }
    auto cp = (*node)->SignCheckpointNow();
    ASSERT_TRUE(cp.ok()) << cp.status();
    checkpoint_ = *cp;
    events_ = (*node)->audit()->size();
  }
  std::unique_ptr<Node> Reopen() {
    auto node = Node::Open(SmallNodeOptions(dir_.path()));
    EXPECT_TRUE(node.ok()) << node.status();
    return std::move(*node);
  }
  // Runs `edit` on the node's RocksDB with the node stopped.
  template <typename Edit>
  void Tamper(Edit edit) {
    auto index = Index::Open(dir_ / "index");
    ASSERT_TRUE(index.ok()) << index.status();
    edit(index->get());
  }
  // The stored event groups, by key, decoded.
  using Groups = std::map<uint64_t, std::vector<std::string>>;
  static Groups Load(Index* index) {
    Groups out;
    std::unique_ptr<rocksdb::Iterator> it(index->db()->NewIterator({}, index->events()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::vector<absl::string_view> events;
      EXPECT_TRUE(
          DecodeEventGroup(absl::string_view(it->value().data(), it->value().size()), &events));
      auto& g = out[absl::big_endian::Load64(it->key().data())];
      for (absl::string_view e : events) g.emplace_back(e);
    }
    return out;
  }
  // Replaces every stored group with `groups`.
  static void Store(Index* index, const Groups& groups) {
    rocksdb::WriteBatch b;
    for (const auto& [key, events] : Load(index)) b.Delete(index->events(), EventKey(key));
    for (const auto& [key, events] : groups) {
      std::string value;
      for (const std::string& e : events) AppendEventRecord(&value, e);
      if (!events.empty()) b.Put(index->events(), EventKey(key), value);
    }
    ASSERT_TRUE(index->Commit(&b).ok());
  }
  // The stored event at position `seq` (groups hold positions key, key+1, ...).
  static std::string* At(Groups* groups, uint64_t seq, std::vector<std::string>** group) {
    auto it = groups->upper_bound(seq);
    EXPECT_NE(it, groups->begin());
    --it;
    EXPECT_LT(seq - it->first, it->second.size());
    *group = &it->second;
    return &it->second[seq - it->first];
  }
  std::string Get(Index* index, uint64_t seq) {
    Groups g = Load(index);
    std::vector<std::string>* group;
    return *At(&g, seq, &group);
  }
  void Put(Index* index, uint64_t seq, const std::string& v) {
    Groups g = Load(index);
    std::vector<std::string>* group;
    *At(&g, seq, &group) = v;
    Store(index, g);
  }
  // Removes the event at `seq` from its group (later events of the group
  // move up one position).
  void Delete(Index* index, uint64_t seq) {
    Groups g = Load(index);
    std::vector<std::string>* group;
    std::string* e = At(&g, seq, &group);
    group->erase(group->begin() + (e - group->data()));
    Store(index, g);
  }
  std::string Problem() {
    auto r = Reopen()->audit()->VerifyAll("");
    EXPECT_FALSE(r.ok());
    return r.first_problem();
  }

  TempDir dir_;
  std::vector<std::string> ids_;
  std::string checkpoint_;
  uint64_t events_ = 0;
};

TEST_F(AuditLogTest, EveryChangeIsAnEventAndTheLogVerifies) {
  auto node = Reopen();
  auto events = node->audit()->Events(ids_[1]);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  v1::AuditEvent e;
  ASSERT_TRUE(e.ParseFromString((*events)[0]));
  EXPECT_EQ(e.action(), "object.stored");
  EXPECT_EQ(e.subject(), ids_[1]);
  EXPECT_EQ(e.actor(), "anonymous");
  auto node_events = node->audit()->Events("node");
  ASSERT_TRUE(node_events.ok());
  std::vector<std::string> actions;
  for (const auto& b : *node_events) {
    v1::AuditEvent n;
    n.ParseFromString(b);
    actions.push_back(n.action());
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"node.started", "node.stopped", "node.started"}));
  auto r = node->audit()->VerifyAll(checkpoint_);
  EXPECT_TRUE(r.ok()) << r.first_problem();
  EXPECT_GE(r.events(), events_);
}

TEST_F(AuditLogTest, EditedEventIsNamed) {
  Tamper([&](Index* index) {
    v1::AuditEvent e;
    ASSERT_TRUE(e.ParseFromString(Get(index, 2)));
    e.set_actor("someone-else");
    Put(index, 2, e.SerializeAsString());
  });
  EXPECT_NE(Problem().find("event 2 was changed"), std::string::npos) << Problem();
}

TEST_F(AuditLogTest, DeletedEventIsNamed) {
  Tamper([&](Index* index) { Delete(index, 1); });
  EXPECT_NE(Problem().find("event 1 is missing"), std::string::npos) << Problem();
}

TEST_F(AuditLogTest, SwappedEventsAreNamed) {
  Tamper([&](Index* index) {
    std::string a = Get(index, 1), b = Get(index, 2);
    Put(index, 1, b);
    Put(index, 2, a);
  });
  EXPECT_NE(Problem().find("event 1 is missing or out of place: the event stored at its position "
                           "says it is event 2"),
            std::string::npos)
      << Problem();
}

TEST_F(AuditLogTest, TruncatedLogIsNamed) {
  uint64_t last = events_ - 1;
  Tamper([&](Index* index) {
    Delete(index, last);
    Delete(index, last - 1);
  });
  std::string p = Problem();
  EXPECT_NE(p.find("event " + std::to_string(last - 1) + " is missing"), std::string::npos) << p;
}

TEST_F(AuditLogTest, RewrittenEventAndLeafStillBreakTheSignedRoot) {
  Tamper([&](Index* index) {
    v1::AuditEvent e;
    ASSERT_TRUE(e.ParseFromString(Get(index, 1)));
    AddDetail(&e, "forged", "yes");
    std::string bytes = e.SerializeAsString();
    Put(index, 1, bytes);
    ASSERT_TRUE(index->db()
                    ->Put({}, index->tree(), TreeNodeKey(0, 1), KeyOf(merkle::HashLeaf(bytes)))
                    .ok());
  });
  EXPECT_NE(Problem().find("does not match the signed checkpoint"), std::string::npos) << Problem();
}

TEST_F(AuditLogTest, CheckpointSignedByAnotherKeyIsRefused) {
  auto other = Ed25519Key::Generate();
  auto c = VerifyCheckpoint(checkpoint_, Reopen()->audit()->public_raw());
  ASSERT_TRUE(c.ok());
  auto forged = SignCheckpoint(*c, *other);
  ASSERT_TRUE(forged.ok());
  auto r = Reopen()->audit()->VerifyAll(*forged);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.first_problem().find("not signed by this node"), std::string::npos);
}

TEST_F(AuditLogTest, LaterCheckpointsAreProvablyConsistentWithEarlierOnes) {
  auto node = Reopen();
  auto old = VerifyCheckpoint(checkpoint_, node->audit()->public_raw());
  ASSERT_TRUE(old.ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(node->Record(NewEvent("object.stat", ids_[0])).ok());
  ASSERT_TRUE(node->SignCheckpointNow().ok());
  auto latest = node->audit()->ConsistencyFrom(old->size);
  ASSERT_TRUE(latest.ok()) << latest.status();
  auto now = VerifyCheckpoint(latest->first, node->audit()->public_raw());
  ASSERT_TRUE(now.ok());
  EXPECT_GT(now->size, old->size);
  EXPECT_TRUE(
      merkle::VerifyConsistency(old->size, now->size, old->root, now->root, latest->second).ok());
  EXPECT_FALSE(merkle::VerifyConsistency(old->size, now->size, Digest::Of("forged"), now->root,
                                         latest->second)
                   .ok());
}

TEST_F(AuditLogTest, RebuildingTheIndexIsAnEvent) {
  NodeOptions o = SmallNodeOptions(dir_.path());
  o.rebuild_index = true;
  auto node = Node::Open(o);
  ASSERT_TRUE(node.ok()) << node.status();
  auto events = (*node)->audit()->Events("node");
  ASSERT_TRUE(events.ok());
  v1::AuditEvent last;
  ASSERT_TRUE(last.ParseFromString(events->back()));
  EXPECT_EQ(last.action(), "index.rebuilt");
  std::map<std::string, std::string> details;
  for (const auto& d : last.details()) details[d.key()] = d.value();
  EXPECT_EQ(details.count("seconds"), 1u) << "how long it took";
  EXPECT_EQ(details.count("entries_per_second"), 1u);
  EXPECT_NE(details["entries"], "0");
}

// A verification from a signed checkpoint starts from the stored tree at
// that size (checked against the signed root) and reads only the events
// after it: damage before it is for a whole verification to find.
TEST_F(AuditLogTest, AVerificationFromACheckpointReadsOnlyTheEventsAfterIt) {
  uint64_t kept = 0;
  {
    auto node = Reopen();
    absl::StatusOr<Checkpoint> c = VerifyCheckpoint(checkpoint_, node->audit()->public_raw());
    ASSERT_TRUE(c.ok()) << c.status();
    kept = c->size;
    for (int i = 0; i < 300; ++i) {
      ASSERT_TRUE(node->Record(NewEvent("object.read", ids_[i % 3])).ok());
    }
    ASSERT_TRUE(node->SignCheckpointNow().ok());
    v1::AuditVerifyNodeResponse r = node->audit()->VerifyAll(checkpoint_, kept);
    EXPECT_TRUE(r.ok()) << r.first_problem();
    EXPECT_EQ(r.verified_from(), kept);
    EXPECT_GE(r.events(), kept + 300);
    EXPECT_GT(r.verified_checkpoint(), kept + 300);
    // Just before the latest checkpoint: no checkpoint was signed there.
    v1::AuditVerifyNodeResponse nowhere = node->audit()->VerifyAll("", r.verified_checkpoint() - 1);
    EXPECT_FALSE(nowhere.ok());
    EXPECT_NE(nowhere.first_problem().find("no checkpoint"), std::string::npos)
        << nowhere.first_problem();
  }
  Tamper([&](Index* index) {
    std::string e = Get(index, 1);
    e.back() ^= 1;
    Put(index, 1, e);
  });
  {
    auto node = Reopen();
    EXPECT_TRUE(node->audit()->VerifyAll(checkpoint_, kept).ok()) << "event 1 is not read";
    v1::AuditVerifyNodeResponse whole = node->audit()->VerifyAll("");
    EXPECT_FALSE(whole.ok());
    EXPECT_NE(whole.first_problem().find("event 1 "), std::string::npos) << whole.first_problem();
  }
  Tamper([&](Index* index) {
    std::string e = Get(index, kept + 5);
    e.back() ^= 1;
    Put(index, kept + 5, e);
  });
  v1::AuditVerifyNodeResponse after = Reopen()->audit()->VerifyAll(checkpoint_, kept);
  EXPECT_FALSE(after.ok());
  EXPECT_NE(after.first_problem().find(absl::StrCat("event ", kept + 5)), std::string::npos)
      << after.first_problem();
}

// The point a verification reached is signed with the node's key: one
// written by anyone else is refused, not trusted.
TEST_F(AuditLogTest, TheRememberedVerificationIsSignedByTheNode) {
  {
    auto node = Reopen();
    EXPECT_EQ(*node->audit()->LastVerified(), 0u);
    rocksdb::WriteBatch b;
    ASSERT_TRUE(node->audit()->RememberVerified(&b, 5).ok());
    ASSERT_TRUE(node->index()->Commit(&b).ok());
    EXPECT_EQ(*node->audit()->LastVerified(), 5u);
  }
  Tamper([](Index* index) {
    std::string v;
    ASSERT_TRUE(index->db()->Get({}, index->checkpoints(), "verified-upto", &v).ok());
    v[7] = 9;  // says 9, signed 5
    ASSERT_TRUE(index->db()->Put({}, index->checkpoints(), "verified-upto", v).ok());
  });
  absl::StatusOr<uint64_t> forged = Reopen()->audit()->LastVerified();
  EXPECT_TRUE(absl::IsDataLoss(forged.status())) << forged.status();
}

TEST_F(AuditLogTest, BundleProvesEachEventAgainstTheCheckpoint) {
  auto node = Reopen();
  ASSERT_TRUE(node->Record(NewEvent("object.read", ids_[0])).ok());
  ASSERT_TRUE(node->SignCheckpointNow().ok());
  auto b = node->audit()->Bundle(ids_[0]);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->entries_size(), 2);
  auto c = VerifyCheckpoint(b->checkpoint(), node->audit()->public_raw());
  ASSERT_TRUE(c.ok());
  for (const auto& e : b->entries()) {
    std::vector<Digest> proof;
    for (const auto& p : e.proof()) proof.push_back(*Digest::FromRaw(p));
    EXPECT_TRUE(
        merkle::VerifyInclusion(e.index(), c->size, merkle::HashLeaf(e.event()), proof, c->root)
            .ok());
  }
  EXPECT_EQ(node->audit()->Bundle("sha256:" + std::string(64, '0')).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace custody

namespace custody {
namespace {

// Events committed in one batch share a group; damage inside a group is named.
TEST_F(AuditLogTest, TamperingInsideAGroupOfEventsIsNamed) {
  uint64_t first = events_;
  {
    auto node = Reopen();
    first = node->audit()->size();
    std::atomic<int> left{200};
    absl::Notification done;
    for (int i = 0; i < 200; ++i) {
      WriteRequest r;
      r.index_only = true;
      r.on_index = [&node, i](rocksdb::WriteBatch* b, const WriteResult&) {
        node->audit()->Append(b, NewEvent("object.stat", "x" + std::to_string(i)));
      };
      r.done = [&](absl::StatusOr<WriteResult>) {
        if (--left == 0) done.Notify();
      };
      node->committer()->Submit(std::move(r));
    }
    done.WaitForNotification();
    ASSERT_TRUE(node->SignCheckpointNow().ok());
  }
  uint64_t victim = 0;
  Tamper([&](Index* index) {
    Groups g = Load(index);
    for (const auto& [key, events] : g) {
      if (key >= first && events.size() >= 3) victim = key + 1;
    }
    ASSERT_NE(victim, 0u) << "no batch held 3 or more events";
    Delete(index, victim);
  });
  std::string p = Problem();
  EXPECT_NE(p.find("event " + std::to_string(victim) + " is missing or out of place"),
            std::string::npos)
      << p;
}

}  // namespace
}  // namespace custody
