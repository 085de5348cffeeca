#include "common/snapshot_format.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/event_records.h"
#include "common/status_macros.h"

namespace custody {

namespace {

constexpr char kSnapshotContext[] = "custody-snapshot-v1\n";
constexpr char kReceiptContext[] = "custody-receipt-v1\n";

std::string Leaf(absl::string_view kind) { return absl::StrCat(kind, std::string(1, '\0')); }

}  // namespace

Digest SnapshotRoot(const v1::SnapshotBody& body) {
  merkle::CompactRange range;
  auto add = [&range](const std::string& leaf) {
    range.Append(merkle::HashLeaf(leaf), [](int, uint64_t, const Digest&) {});
  };
  for (const v1::SnapshotObject& o : body.objects()) {
    add(absl::StrCat(Leaf("object"), o.id(), o.manifest_sha256(),
                     std::string(1, o.purged() ? '\1' : '\0')));
  }
  for (const std::string& e : body.ledger_entries()) add(absl::StrCat(Leaf("ledger"), e));
  for (const v1::SnapshotAuditLog& l : body.audit_logs()) {
    std::string leaf = absl::StrCat(Leaf("audit"), l.node_id(), std::string(1, '\0'),
                                    l.public_key(), l.checkpoint(), std::string(1, '\0'));
    for (const std::string& p : l.pages()) leaf += p;
    add(leaf);
  }
  return range.Root();
}

std::string SnapshotId(int64_t created_unix_nanos, const Digest& root) {
  return absl::StrCat("snap-",
                      absl::FormatTime("%Y%m%dT%H%M%SZ", absl::FromUnixNanos(created_unix_nanos),
                                       absl::UTCTimeZone()),
                      "-", root.Hex().substr(0, 8));
}

absl::StatusOr<v1::Snapshot> SignSnapshot(v1::SnapshotBody body, const std::string& signer,
                                          const Ed25519Key& key) {
  Digest root = SnapshotRoot(body);
  body.set_merkle_root(std::string(root.Raw()));
  body.set_id(SnapshotId(body.created_unix_nanos(), root));
  v1::Snapshot s;
  s.set_body(DeterministicBytes(body));
  s.set_signer(signer);
  s.set_public_key(key.public_raw());
  ASSIGN_OR_RETURN(std::string sig, key.Sign(absl::StrCat(kSnapshotContext, s.body())));
  s.set_signature(sig);
  return s;
}

absl::StatusOr<v1::SnapshotBody> CheckSnapshot(const v1::Snapshot& s) {
  absl::Status sig =
      Ed25519Verify(s.public_key(), absl::StrCat(kSnapshotContext, s.body()), s.signature());
  if (!sig.ok()) return absl::DataLossError("the snapshot's signature does not hold");
  v1::SnapshotBody body;
  if (!body.ParseFromString(s.body())) return absl::DataLossError("the snapshot does not parse");
  Digest root = SnapshotRoot(body);
  if (body.merkle_root() != root.Raw()) {
    return absl::DataLossError(
        absl::StrCat("snapshot ", body.id(), ": its Merkle root is not the root of what it names"));
  }
  if (body.id() != SnapshotId(body.created_unix_nanos(), root)) {
    return absl::DataLossError(absl::StrCat("snapshot id ", body.id(), " does not fit its root"));
  }
  if (body.created_by() != s.signer()) {
    return absl::DataLossError("the snapshot was signed by another node than made it");
  }
  for (const v1::SnapshotAuditLog& l : body.audit_logs()) {
    if (l.node_id() == s.signer() && l.public_key() != s.public_key()) {
      return absl::DataLossError(absl::StrCat(
          "snapshot ", body.id(), " is signed with a key other than its signer's audit key"));
    }
  }
  return body;
}

absl::StatusOr<v1::Receipt> SignReceipt(const v1::ReceiptBody& body, const Ed25519Key& key) {
  v1::Receipt r;
  r.set_body(DeterministicBytes(body));
  r.set_public_key(key.public_raw());
  ASSIGN_OR_RETURN(std::string sig, key.Sign(absl::StrCat(kReceiptContext, r.body())));
  r.set_signature(sig);
  return r;
}

absl::StatusOr<v1::ReceiptBody> CheckReceipt(const v1::Receipt& r) {
  absl::Status sig =
      Ed25519Verify(r.public_key(), absl::StrCat(kReceiptContext, r.body()), r.signature());
  if (!sig.ok()) return absl::DataLossError("the receipt's signature does not hold");
  v1::ReceiptBody body;
  if (!body.ParseFromString(r.body())) return absl::DataLossError("the receipt does not parse");
  return body;
}

namespace {

template <typename M>
absl::StatusOr<M> FieldMessage(const v1::LedgerEntry& e, const std::string& field) {
  auto it = e.fields().find(field);
  std::string bytes;
  M m;
  if (it == e.fields().end() || !absl::Base64Unescape(it->second, &bytes) ||
      !m.ParseFromString(bytes)) {
    return absl::DataLossError(
        absl::StrCat("the ledger entry about ", e.subject(), " has no readable ", field));
  }
  return m;
}

}  // namespace

absl::StatusOr<v1::Snapshot> SnapshotOfEntry(const v1::LedgerEntry& e) {
  return FieldMessage<v1::Snapshot>(e, "snapshot");
}

absl::StatusOr<v1::Receipt> ReceiptOfEntry(const v1::LedgerEntry& e) {
  return FieldMessage<v1::Receipt>(e, "receipt");
}

std::vector<Digest> SnapshotBlobKeys(const v1::SnapshotBody& body) {
  std::vector<Digest> keys;
  auto add = [&keys](const std::string& raw) {
    if (absl::StatusOr<Digest> d = Digest::FromRaw(raw); d.ok()) keys.push_back(*d);
  };
  for (const v1::SnapshotObject& o : body.objects()) add(o.manifest_sha256());
  for (const std::string& e : body.ledger_entries()) add(e);
  for (const v1::SnapshotAuditLog& l : body.audit_logs()) {
    for (const std::string& p : l.pages()) add(p);
  }
  return keys;
}

absl::StatusOr<AuditPageVerifier> AuditPageVerifier::Start(const v1::SnapshotAuditLog& log) {
  AuditPageVerifier v;
  v.node_ = log.node_id();
  absl::StatusOr<Checkpoint> c = VerifyCheckpoint(log.checkpoint(), log.public_key());
  if (!c.ok()) {
    return absl::DataLossError(
        absl::StrCat("the audit checkpoint of node ", log.node_id(), ": ", c.status().message()));
  }
  v.checkpoint_ = *c;
  uint64_t want = (c->size + kAuditPageEvents - 1) / kAuditPageEvents;
  if (static_cast<uint64_t>(log.pages_size()) != want) {
    return absl::DataLossError(absl::StrCat("the audit log of node ", log.node_id(), " has ",
                                            log.pages_size(), " pages for ", c->size,
                                            " events; expected ", want));
  }
  return v;
}

absl::Status AuditPageVerifier::AddPage(absl::string_view page,
                                        const std::function<void(absl::string_view)>& on_event) {
  std::vector<absl::string_view> events;
  if (!DecodeEventGroup(page, &events)) {
    return absl::DataLossError(
        absl::StrCat("audit page ", pages_, " of node ", node_, " is damaged"));
  }
  uint64_t first = pages_ * kAuditPageEvents;
  uint64_t expect =
      std::min(kAuditPageEvents, checkpoint_.size - std::min(first, checkpoint_.size));
  if (events.size() != expect) {
    return absl::DataLossError(absl::StrCat("audit page ", pages_, " of node ", node_, " holds ",
                                            events.size(), " events; expected ", expect));
  }
  for (absl::string_view e : events) {
    range_.Append(merkle::HashLeaf(e), [](int, uint64_t, const Digest&) {});
    if (on_event) on_event(e);
  }
  ++pages_;
  return absl::OkStatus();
}

absl::Status AuditPageVerifier::Finish() const {
  if (range_.size() != checkpoint_.size || range_.Root() != checkpoint_.root) {
    return absl::DataLossError(
        absl::StrCat("the audit log of node ", node_, " does not match its signed checkpoint (",
                     range_.size(), " events read, ", checkpoint_.size, " signed)"));
  }
  return absl::OkStatus();
}

}  // namespace custody
