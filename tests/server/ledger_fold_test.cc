// The ledger fold (server/security/ledger_fold.h): entries folded one by one,
// in whatever order they arrive, leave exactly the state a replay of the
// whole ledger in time order makes, field by field, with the same derived
// keys.
#include "server/security/ledger_fold.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "rocksdb/write_batch.h"
#include "server/records/record_book.h"
#include "server/records/record_fold.h"
#include "server/security/access_fold.h"
#include "server/security/access_state.h"
#include "server/security/ledger.h"
#include "server/storage/index.h"
#include "tests/test_util.h"

namespace custody {
namespace {

using testing::TempDir;

constexpr int64_t kT0 = 1795000000LL * 1000000000LL;

class LedgerFoldTest : public ::testing::Test {
 protected:
  void SetUp() override { OpenFresh(); }
  // A fresh, empty index (a new one for each call).
  void OpenFresh() {
    fold_.reset();
    book_.reset();
    access_.reset();
    ledger_.reset();
    index_.reset();
    auto index = Index::Open(absl::StrCat(dir_.path(), "/index", ++indexes_));
    ASSERT_TRUE(index.ok()) << index.status();
    index_ = std::move(*index);
    ledger_ = std::make_unique<Ledger>(index_.get(), nullptr, "n1", 1);
    access_ = std::make_unique<AccessRules>(ledger_.get());
    book_ = std::make_unique<BookRules>(ledger_.get());
    fold_ = MakeFold();
  }
  std::unique_ptr<LedgerFold> MakeFold() {
    auto fold = std::make_unique<LedgerFold>(index_.get());
    fold->AddRules(access_.get());
    fold->AddRules(book_.get());
    return fold;
  }

  // Stores `e` and its fold in one batch, as Ledger::Store does.
  Digest Deliver(const v1::LedgerEntry& e) {
    const std::string bytes = e.SerializeAsString();
    const Digest id = Digest::Of(bytes);
    FoldOps ops;
    absl::Status s = fold_->Stage(id, e, &ops);
    EXPECT_TRUE(s.ok()) << s;
    rocksdb::WriteBatch b;
    b.Put(index_->ledger(), KeyOf(id), bytes);
    fold_->Write(ops, &b);
    s = index_->Commit(&b);
    EXPECT_TRUE(s.ok()) << s;
    return id;
  }

  // Every key of the fold but the version: "g/" groups, "e/" entries and
  // derived keys.
  std::map<std::string, std::string> Stored() {
    std::map<std::string, std::string> out;
    std::unique_ptr<rocksdb::Iterator> it(
        index_->db()->NewIterator(rocksdb::ReadOptions(), index_->fold()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->key() != "v") out[it->key().ToString()] = it->value().ToString();
    }
    return out;
  }

  // Compares the stored fold with a replay of the whole ledger.
  void ExpectSameAsReplay() {
    absl::StatusOr<std::map<std::string, internal::v1::FoldGroup>> replay = fold_->Replay();
    ASSERT_TRUE(replay.ok()) << replay.status();
    std::map<std::string, std::string> stored = Stored();
    std::map<std::string, std::string> derived;
    size_t groups = 0;
    for (const auto& [name, want] : *replay) {
      auto it = stored.find("g/" + name);
      ASSERT_NE(it, stored.end()) << "group " << name << " is not stored";
      internal::v1::FoldGroup got;
      ASSERT_TRUE(got.ParseFromString(it->second));
      std::string diff;
      google::protobuf::util::MessageDifferencer d;
      d.ReportDifferencesToString(&diff);
      EXPECT_TRUE(d.Compare(want, got)) << "group " << name << ":\n" << diff;
      const FoldRules* rules = name.rfind("user:", 0) == 0 || name.rfind("request:", 0) == 0
                                   ? static_cast<const FoldRules*>(access_.get())
                                   : book_.get();
      rules->Derived(name, want, &derived);
      ++groups;
    }
    std::map<std::string, std::string> stored_derived;
    size_t stored_groups = 0;
    for (const auto& [k, v] : stored) {
      if (k.rfind("g/", 0) == 0) {
        ++stored_groups;
      } else if (k.rfind("e/", 0) != 0) {
        stored_derived[k] = v;
      }
    }
    EXPECT_EQ(stored_groups, groups);
    EXPECT_TRUE(stored_derived == derived)
        << stored_derived.size() << " derived keys stored, " << derived.size() << " replayed";
  }

  TempDir dir_;
  int indexes_ = 0;
  std::unique_ptr<Index> index_;
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<AccessRules> access_;
  std::unique_ptr<BookRules> book_;
  std::unique_ptr<LedgerFold> fold_;
};

v1::LedgerEntry Entry(const std::string& kind, const std::string& subject, const std::string& actor,
                      int64_t t, const std::map<std::string, std::string>& fields, uint64_t nonce) {
  v1::LedgerEntry e;
  e.set_kind(kind);
  e.set_subject(subject);
  e.set_actor(actor);
  e.set_time_unix_nanos(t);
  e.set_node_id("n1");
  e.set_nonce(absl::StrCat("nonce-", nonce));
  for (const auto& [k, v] : fields) (*e.mutable_fields())[k] = v;
  return e;
}

// A random history: records with attachments, corrections, archive numbers,
// holds, late hand-overs and purges; devices; users, some disabled; access
// requests with approvals, denials and revocations; replays of a signed
// statement; entries about records that never were.
std::vector<v1::LedgerEntry> History(std::mt19937_64& rng, int n) {
  std::vector<v1::LedgerEntry> out;
  std::vector<std::string> requests;
  auto pick = [&](int k) { return static_cast<int>(rng() % static_cast<uint64_t>(k)); };
  auto time = [&] { return kT0 + static_cast<int64_t>(pick(5000)) * 1000000000LL; };
  auto rec = [&] { return absl::StrCat("rec-", pick(25)); };
  auto obj = [&] { return absl::StrCat("sha256:o", pick(40)); };
  auto user = [&] { return absl::StrCat("user:u", pick(4)); };
  uint64_t nonce = 0;
  for (int i = 0; i < n; ++i) {
    const int64_t t = time();
    const std::string r = rec();
    v1::LedgerEntry e;
    switch (pick(16)) {
      case 0:
      case 1:
        e = Entry("record.created", "record:" + r, user(), t,
                  {{"agency", "A"}, {"matter", "3"}, {"devices", "dev-1,dev-2"}, {"start", "5"}},
                  ++nonce);
        break;
      case 2:
      case 3:
        e = Entry("record.attached", "record:" + r, user(), t,
                  {{"object", obj()}, {"device", "dev-1"}, {"start", absl::StrCat(pick(9))}},
                  ++nonce);
        break;
      case 4:
        e = Entry("record.corrected", "record:" + r, user(), t,
                  {{"field", "target"}, {"value", absl::StrCat("t", pick(9))}, {"reason", "r"}},
                  ++nonce);
        break;
      case 5:
        e = Entry("record.archived", "record:" + r, user(), t,
                  {{"number", absl::StrCat("N-", pick(30))},
                   {"prefix", absl::StrCat("P", pick(2))},
                   {"sequence", absl::StrCat(pick(30))}},
                  ++nonce);
        break;
      case 6: {
        const std::string hold = absl::StrCat("hold-", pick(3));
        e = Entry(pick(2) ? "record.hold-set" : "record.hold-released", "record:" + r, user(), t,
                  {{"hold", hold}, {"reason", "court"}}, ++nonce);
        break;
      }
      case 7:
        e = Entry(pick(2) ? "record.late-reported" : "record.late-approved", "record:" + r, user(),
                  t, {{"reason", "r"}, {"until", "9"}}, ++nonce);
        break;
      case 8: {
        const std::string id = absl::StrCat("pur-", pick(3));
        const char* kinds[] = {"purge.requested", "purge.approved", "purge.executed"};
        e = Entry(kinds[pick(3)], "purge:" + id, user(), t,
                  {{"records", r}, {"objects", obj() + "," + obj()}}, ++nonce);
        break;
      }
      case 9: {
        const char* kinds[] = {"device.added", "device.checked-out", "device.checked-in"};
        e = Entry(kinds[pick(3)], absl::StrCat("device:dev-", pick(3)), user(), t,
                  {{"agency", "A"}, {"officer", user()}}, ++nonce);
        break;
      }
      case 10: {
        const std::string name = absl::StrCat("u", pick(5));
        e = Entry(pick(3) ? "user.disabled" : "user.added", "user:" + name, "user:admin", t,
                  {{"roles", "officer"}, {"token_sha256", absl::StrCat("tok", pick(6))}}, ++nonce);
        break;
      }
      case 11:
      case 12:
        e = Entry("access.requested", pick(2) ? obj() : "record:" + r, user(), t,
                  {{"object", obj()},
                   {"record", pick(2) ? r : ""},
                   {"agency", "A"},
                   {"purpose", "view"},
                   {"seconds", "3600"}},
                  ++nonce);
        break;
      case 13:
      case 14: {
        const std::string req = requests.empty() || pick(8) == 0
                                    ? std::string(64, 'f')
                                    : requests[pick(static_cast<int>(requests.size()))];
        const char* kinds[] = {"access.approved", "access.approved", "access.denied",
                               "access.revoked"};
        e = Entry(kinds[pick(4)], "request:" + req, user(), t, {{"request", req}}, ++nonce);
        break;
      }
      default:
        e = Entry("record.ended", "record:" + r, user(), t, {{"end", "77"}}, ++nonce);
        break;
    }
    if (e.kind() == "access.requested") {
      requests.push_back(Digest::Of(e.SerializeAsString()).Hex());
    }
    // Now and then a signed statement, and later a replay of it.
    if (pick(10) == 0) {
      e.mutable_signed_()->set_decision(absl::StrCat("statement-", pick(6)));
      out.push_back(e);
      e.set_time_unix_nanos(time());
      e.set_nonce(absl::StrCat("replay-", ++nonce));
    }
    out.push_back(std::move(e));
  }
  return out;
}

TEST_F(LedgerFoldTest, EntriesInAnyOrderFoldAsAReplayInTimeOrder) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    OpenFresh();
    std::mt19937_64 rng(seed);
    std::vector<v1::LedgerEntry> entries = History(rng, 500);
    if (seed == 1) {  // in time order, but for a few late ones
      std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
        return a.time_unix_nanos() < b.time_unix_nanos();
      });
      for (int i = 0; i < 30; ++i) {
        std::swap(entries[rng() % entries.size()], entries[rng() % entries.size()]);
      }
    } else {
      std::shuffle(entries.begin(), entries.end(), rng);
    }
    for (size_t i = 0; i < entries.size(); ++i) {
      Deliver(entries[i]);
      if (rng() % 20 == 0) Deliver(entries[rng() % (i + 1)]);  // a copy again: no change
    }
    ExpectSameAsReplay();
    // A rebuild from the ledger gives the same fold again.
    std::map<std::string, std::string> before = Stored();
    fold_ = MakeFold();
    ASSERT_TRUE(fold_->Open("another version").ok());
    EXPECT_TRUE(Stored() == before) << "the rebuilt fold differs";
    ASSERT_TRUE(fold_->Open("another version").ok());  // the same version: nothing to do
  }
}

TEST_F(LedgerFoldTest, ADisablingThatArrivesLateVoidsTheApprovalsMadeAfterIt) {
  v1::LedgerEntry req = Entry("access.requested", "sha256:o1", "user:req", kT0,
                              {{"object", "sha256:o1"}, {"agency", "A"}, {"purpose", "view"}}, 1);
  const std::string id = Deliver(req).Hex();
  Deliver(Entry("access.approved", "request:" + id, "user:boss", kT0 + 10, {}, 2));
  auto grant = [&] {
    AccessState st(fold_->Snapshot(), absl::FromUnixNanos(kT0 + 20));
    absl::StatusOr<std::optional<v1::AccessGrant>> g = st.Grant(id);
    EXPECT_TRUE(g.ok() && g->has_value());
    return g.ok() && g->has_value() ? **g : v1::AccessGrant();
  };
  EXPECT_EQ(grant().approvals_size(), 1);
  // boss was disabled before approving; the news comes late.
  Deliver(Entry("user.disabled", "user:boss", "user:admin", kT0 + 5, {}, 3));
  EXPECT_EQ(grant().approvals_size(), 0) << "the approval came from a disabled user";
  ExpectSameAsReplay();
}

TEST_F(LedgerFoldTest, AnAttachThatArrivesBeforeItsRecordCountsOnceTheRecordDoes) {
  Deliver(
      Entry("record.attached", "record:rec-1", "user:o", kT0 + 10, {{"object", "sha256:o1"}}, 1));
  RecordBook book(fold_->Snapshot());
  EXPECT_FALSE(book.Find("rec-1")->has_value());
  Deliver(Entry("record.created", "record:rec-1", "user:o", kT0, {{"devices", "dev-1"}}, 2));
  RecordBook later(fold_->Snapshot());
  absl::StatusOr<std::optional<FoldedRecord>> f = later.Find("rec-1");
  ASSERT_TRUE(f.ok() && f->has_value());
  EXPECT_EQ((*f)->record.segments_size(), 1);
  EXPECT_EQ(*later.RecordsOf("sha256:o1"), std::vector<std::string>{"rec-1"});
  EXPECT_EQ(*later.OpenRecordsOf("dev-1"), std::vector<std::string>{"rec-1"});
  EXPECT_FALSE(book.Find("rec-1")->has_value()) << "an older read stays as it was";
  ExpectSameAsReplay();
}

TEST_F(LedgerFoldTest, TwoApprovalsGrantAReadOfTheObjectOrOfTheRecordsThatHoldIt) {
  const int64_t now = absl::ToUnixNanos(absl::Now());
  auto request = [&](const std::string& object, const std::string& record, uint64_t n) {
    std::string id = Deliver(Entry("access.requested", record.empty() ? object : "record:" + record,
                                   "user:olga", now,
                                   {{"object", object},
                                    {"record", record},
                                    {"agency", "A"},
                                    {"purpose", "view"},
                                    {"seconds", "3600"}},
                                   n))
                         .Hex();
    Deliver(Entry("access.approved", "request:" + id, "user:hank", now + 1, {}, n + 1));
    return id;
  };
  const std::string by_object = request("sha256:o1", "", 1);
  auto live = [&](const std::string& object, const std::vector<std::string>& records) {
    AccessState st(fold_->Snapshot(), absl::Now());
    absl::StatusOr<std::optional<v1::AccessGrant>> g =
        st.LiveGrant("user:olga", object, "view", records);
    EXPECT_TRUE(g.ok()) << g.status();
    return g.ok() && g->has_value() ? (*g)->request_id() : "";
  };
  EXPECT_EQ(live("sha256:o1", {}), "") << "one approval is not enough";
  Deliver(Entry("access.approved", "request:" + by_object, "user:lena", now + 2, {}, 3));
  EXPECT_EQ(live("sha256:o1", {}), by_object);
  EXPECT_EQ(live("sha256:o2", {}), "");
  const std::string by_record = request("", "rec-9", 4);
  Deliver(Entry("access.approved", "request:" + by_record, "user:lena", now + 2, {}, 6));
  EXPECT_EQ(live("sha256:o2", {"rec-9"}), by_record);
  EXPECT_EQ(live("sha256:o2", {"rec-8"}), "");
  ExpectSameAsReplay();
}

TEST_F(LedgerFoldTest, ATokenNamesItsUserUntilTheUserIsDisabled) {
  const std::string hash = Digest::Of("cust_token").Hex();
  Deliver(Entry("user.added", "user:tina", "user:admin", kT0,
                {{"roles", "officer"}, {"token_sha256", hash}}, 1));
  AccessState st(fold_->Snapshot(), absl::FromUnixNanos(kT0));
  absl::StatusOr<std::optional<std::string>> name = st.TokenUser(hash);
  ASSERT_TRUE(name.ok()) << name.status();
  ASSERT_TRUE(name->has_value());
  EXPECT_EQ(**name, "tina");
  EXPECT_FALSE(st.TokenUser(Digest::Of("other").Hex())->has_value());
  Deliver(Entry("user.disabled", "user:tina", "user:admin", kT0 + 1, {}, 2));
  AccessState later(fold_->Snapshot(), absl::FromUnixNanos(kT0));
  EXPECT_TRUE((*later.User("tina"))->disabled());
  ExpectSameAsReplay();
}

}  // namespace
}  // namespace custody
