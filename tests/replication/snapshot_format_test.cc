#include "common/snapshot_format.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/event_records.h"

namespace custody {
namespace {

v1::SnapshotBody SampleBody() {
  v1::SnapshotBody b;
  b.set_created_unix_nanos(1764316800000000000);
  b.set_created_by("n1");
  for (int i = 0; i < 3; ++i) {
    v1::SnapshotObject* o = b.add_objects();
    o->set_id(std::string(Digest::Of(absl::StrCat("file", i)).Raw()));
    o->set_manifest_sha256(std::string(Digest::Of(absl::StrCat("manifest", i)).Raw()));
    o->set_size(100 + i);
  }
  b.add_ledger_entries(std::string(Digest::Of("entry").Raw()));
  return b;
}

TEST(SnapshotFormatTest, SignedSnapshotChecksAndNamesItsRoot) {
  Ed25519Key key = *Ed25519Key::Generate();
  absl::StatusOr<v1::Snapshot> s = SignSnapshot(SampleBody(), "n1", key);
  ASSERT_TRUE(s.ok()) << s.status();
  absl::StatusOr<v1::SnapshotBody> body = CheckSnapshot(*s);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(body->merkle_root(), SnapshotRoot(SampleBody()).Raw());
  EXPECT_EQ(body->id(),
            absl::StrCat("snap-20251128T080000Z-", SnapshotRoot(SampleBody()).Hex().substr(0, 8)));
}

TEST(SnapshotFormatTest, AnyChangeToASignedSnapshotIsFound) {
  Ed25519Key key = *Ed25519Key::Generate();
  v1::Snapshot s = *SignSnapshot(SampleBody(), "n1", key);
  v1::Snapshot flipped = s;
  flipped.mutable_body()->back() ^= 1;
  EXPECT_TRUE(absl::IsDataLoss(CheckSnapshot(flipped).status()));
  // Re-signed by another key but claiming the signer's audit key.
  v1::SnapshotBody body = *CheckSnapshot(s);
  v1::SnapshotAuditLog* log = body.add_audit_logs();
  log->set_node_id("n1");
  log->set_public_key(Ed25519Key::Generate()->public_raw());
  EXPECT_TRUE(absl::IsDataLoss(CheckSnapshot(*SignSnapshot(body, "n1", key)).status()));
  // A body whose root does not match what it names, signed anyway.
  v1::SnapshotBody forged = *CheckSnapshot(s);
  forged.mutable_objects(0)->set_size(1);  // size is not in the root: still fine
  forged.mutable_objects(1)->set_purged(true);
  v1::Snapshot re;
  re.set_body(DeterministicBytes(forged));
  re.set_signer("n1");
  re.set_public_key(key.public_raw());
  re.set_signature(*key.Sign(absl::StrCat("custody-snapshot-v1\n", re.body())));
  absl::Status st = CheckSnapshot(re).status();
  EXPECT_TRUE(absl::IsDataLoss(st)) << st;
  EXPECT_NE(st.message().find("Merkle root"), std::string::npos) << st;
}

TEST(SnapshotFormatTest, ThePurgedFlagIsInTheRoot) {
  v1::SnapshotBody purged = SampleBody();
  purged.mutable_objects(2)->set_purged(true);
  EXPECT_NE(SnapshotRoot(purged), SnapshotRoot(SampleBody()));
}

TEST(SnapshotFormatTest, ReceiptsAreSignedByThePeer) {
  Ed25519Key key = *Ed25519Key::Generate();
  v1::ReceiptBody body;
  body.set_snapshot_id("snap-x");
  body.set_objects(3);
  v1::Receipt r = *SignReceipt(body, key);
  EXPECT_EQ(CheckReceipt(r)->objects(), 3u);
  r.set_public_key(Ed25519Key::Generate()->public_raw());
  EXPECT_TRUE(absl::IsDataLoss(CheckReceipt(r).status()));
}

// A log of `n` events, its checkpoint signed by `key`, cut into pages.
v1::SnapshotAuditLog Log(uint64_t n, const Ed25519Key& key, std::vector<std::string>* pages) {
  merkle::CompactRange range;
  pages->clear();
  for (uint64_t i = 0; i < n; ++i) {
    std::string e = absl::StrCat("event ", i);
    range.Append(merkle::HashLeaf(e), [](int, uint64_t, const Digest&) {});
    if (i % kAuditPageEvents == 0) pages->emplace_back();
    AppendEventRecord(&pages->back(), e);
  }
  Checkpoint c{"custody-node-n1", n, range.Root(), 1};
  v1::SnapshotAuditLog log;
  log.set_node_id("n1");
  log.set_public_key(key.public_raw());
  log.set_checkpoint(*SignCheckpoint(c, key));
  for (const std::string& p : *pages) log.add_pages(std::string(Digest::Of(p).Raw()));
  return log;
}

TEST(SnapshotFormatTest, AuditPagesVerifyAgainstTheSignedCheckpoint) {
  Ed25519Key key = *Ed25519Key::Generate();
  std::vector<std::string> pages;
  v1::SnapshotAuditLog log = Log(kAuditPageEvents + 5, key, &pages);
  ASSERT_EQ(pages.size(), 2u);
  absl::StatusOr<AuditPageVerifier> v = AuditPageVerifier::Start(log);
  ASSERT_TRUE(v.ok()) << v.status();
  int seen = 0;
  for (const std::string& p : pages) {
    ASSERT_TRUE(v->AddPage(p, [&](absl::string_view) { ++seen; }).ok());
  }
  EXPECT_TRUE(v->Finish().ok());
  EXPECT_EQ(seen, static_cast<int>(kAuditPageEvents + 5));

  // One event changed: the root no longer matches.
  std::string bad = pages[1];
  bad.back() ^= 1;
  AuditPageVerifier w = *AuditPageVerifier::Start(log);
  ASSERT_TRUE(w.AddPage(pages[0]).ok());
  ASSERT_TRUE(w.AddPage(bad).ok());
  EXPECT_TRUE(absl::IsDataLoss(w.Finish()));
  // A page short of events, and a checkpoint by another key.
  AuditPageVerifier x = *AuditPageVerifier::Start(log);
  EXPECT_TRUE(absl::IsDataLoss(x.AddPage(pages[1])));
  log.set_public_key(Ed25519Key::Generate()->public_raw());
  EXPECT_TRUE(absl::IsDataLoss(AuditPageVerifier::Start(log).status()));
}

}  // namespace
}  // namespace custody
