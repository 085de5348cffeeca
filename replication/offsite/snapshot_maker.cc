#include "replication/offsite/snapshot_maker.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/snapshot_format.h"
#include "common/status_macros.h"
#include "replication/offsite/snapshot_source.h"

namespace custody {

namespace {

constexpr const char* kSnapshotKind = kSnapshotEntryKind;
constexpr const char* kReceiptKind = kReceiptEntryKind;
constexpr size_t kMaxSnapshotEntry = 3u << 20;  // under the peers' 5 MiB message limit

using ObjectPage =
    std::function<absl::StatusOr<internal::v1::ListObjectsResponse>(const std::string&)>;

// Adds every object one node lists, page by page, to `objects`.
absl::Status AddObjects(const ObjectPage& page,
                        std::map<std::string, v1::SnapshotObject>* objects) {
  std::string after;
  for (;;) {
    ASSIGN_OR_RETURN(internal::v1::ListObjectsResponse r, page(after));
    for (const v1::SnapshotObject& o : r.objects()) {
      auto [it, fresh] = objects->emplace(o.id(), o);
      if (!fresh && o.purged()) it->second.set_purged(true);
    }
    if (!r.more() || r.objects_size() == 0) return absl::OkStatus();
    after = r.objects(r.objects_size() - 1).id();
  }
}

absl::Status Unanswered(const NodeInfo& n, const absl::Status& s) {
  return absl::UnavailableError(absl::StrCat(
      "node ", n.id, " did not answer (", s.message(),
      "); a snapshot names every node's objects and audit log, so it needs every node"));
}

// Every node's audit log up to a checkpoint signed now.
absl::Status GatherAuditLogs(Node* node, v1::SnapshotBody* body) {
  ASSIGN_OR_RETURN(*body->add_audit_logs(), LocalAuditLog(node));
  if (node->placement() == nullptr) return absl::OkStatus();
  for (const Placement::Other& n : node->placement()->Others()) {
    absl::StatusOr<v1::SnapshotAuditLog> log = n.peer->AuditSnapshot();
    if (!log.ok()) return Unanswered(*n.info, log.status());
    *body->add_audit_logs() = std::move(*log);
  }
  std::sort(body->mutable_audit_logs()->begin(), body->mutable_audit_logs()->end(),
            [](const auto& a, const auto& b) { return a.node_id() < b.node_id(); });
  return absl::OkStatus();
}

absl::StatusOr<KnownSnapshot> FromEntry(const v1::LedgerEntry& e) {
  KnownSnapshot k;
  ASSIGN_OR_RETURN(k.snapshot, SnapshotOfEntry(e));
  ASSIGN_OR_RETURN(k.body, CheckSnapshot(k.snapshot));
  return k;
}

// Attaches a receipt entry to its snapshot (the latest receipt wins).
void AttachReceipt(const v1::LedgerEntry& e, std::map<std::string, KnownSnapshot>* by_id) {
  auto s = by_id->find(e.subject().substr(9));
  absl::StatusOr<v1::Receipt> read = ReceiptOfEntry(e);
  if (s == by_id->end() || !read.ok()) return;
  const v1::Receipt& r = *read;
  absl::StatusOr<v1::ReceiptBody> body = CheckReceipt(r);
  if (!body.ok() || body->snapshot_id() != s->second.body.id()) return;
  s->second.receipt = r;
  s->second.receipt_body = *body;
  auto peer = e.fields().find("peer");
  s->second.receipt_peer = peer == e.fields().end() ? "" : peer->second;
}

}  // namespace

absl::StatusOr<std::map<std::string, v1::SnapshotObject>> ClusterObjects(Node* node) {
  std::map<std::string, v1::SnapshotObject> objects;
  RETURN_IF_ERROR(AddObjects(
      [node](const std::string& after) { return ListLocalObjects(node, after, 1000); }, &objects));
  if (node->placement() == nullptr) return objects;
  for (const Placement::Other& n : node->placement()->Others()) {
    PeerClient* peer = n.peer;
    absl::Status s = AddObjects(
        [peer](const std::string& after) { return peer->ListObjects(after, 1000); }, &objects);
    if (!s.ok()) return Unanswered(*n.info, s);
  }
  return objects;
}

absl::StatusOr<v1::SnapshotBody> GatherSnapshot(Node* node) {
  v1::SnapshotBody body;
  body.set_created_unix_nanos(absl::ToUnixNanos(absl::Now()));
  body.set_created_by(node->node_id());
  body.set_map_version(node->cluster().version());
  ASSIGN_OR_RETURN(auto objects, ClusterObjects(node));
  for (auto& [id, o] : objects) *body.add_objects() = o;
  RETURN_IF_ERROR(GatherAuditLogs(node, &body));
  RETURN_IF_ERROR(node->ledger()->ForEach([&body](const Digest& id, const v1::LedgerEntry&) {
    body.add_ledger_entries(std::string(id.Raw()));
  }));
  ASSIGN_OR_RETURN(std::vector<v1::ObjectManifest> manifests, SnapshotManifests(node, body));
  std::set<std::string> chunks;
  for (const v1::ObjectManifest& m : manifests) {
    body.set_data_bytes(body.data_bytes() + m.size());
    chunks.insert(m.chunks().begin(), m.chunks().end());
  }
  body.set_chunk_count(chunks.size());
  return body;
}

absl::StatusOr<KnownSnapshot> MakeSnapshot(Node* node, const std::string& reason,
                                           const std::string& actor) {
  ASSIGN_OR_RETURN(v1::SnapshotBody body, GatherSnapshot(node));
  body.set_reason(reason);
  KnownSnapshot k;
  ASSIGN_OR_RETURN(k.snapshot,
                   SignSnapshot(std::move(body), node->node_id(), node->audit()->key()));
  ASSIGN_OR_RETURN(k.body, CheckSnapshot(k.snapshot));
  v1::LedgerEntry e;
  e.set_kind(kSnapshotKind);
  e.set_subject("snapshot:" + k.body.id());
  e.set_actor(actor);
  (*e.mutable_fields())["snapshot"] = absl::Base64Escape(k.snapshot.SerializeAsString());
  // Every node must hold it, in one message to each (doc/offsite.md, "Limits").
  if (e.ByteSizeLong() > kMaxSnapshotEntry) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "a snapshot of ", k.body.objects_size(), " objects and ", k.body.ledger_entries_size(),
        " ledger entries takes ", e.ByteSizeLong(), " bytes, more than the ", kMaxSnapshotEntry,
        " a ledger entry may; none was made"));
  }
  v1::AuditEvent event = NewEvent(kSnapshotKind, e.subject(), actor);
  AddDetail(&event, "merkle_root", Digest::FromRaw(k.body.merkle_root())->Hex());
  AddDetail(&event, "objects", absl::StrCat(k.body.objects_size()));
  AddDetail(&event, "data_bytes", absl::StrCat(k.body.data_bytes()));
  AddDetail(&event, "ledger_entries", absl::StrCat(k.body.ledger_entries_size()));
  AddDetail(&event, "audit_logs", absl::StrCat(k.body.audit_logs_size()));
  AddDetail(&event, "reason", reason);
  RETURN_IF_ERROR(node->ledger()->Append(std::move(e), std::move(event)).status());
  return k;
}

absl::StatusOr<std::vector<KnownSnapshot>> KnownSnapshots(Node* node) {
  // Snapshot entries and their receipts, snapshot by snapshot (the fold's
  // "snapshot:ID" groups), then in the time order of the snapshots.
  std::map<std::string, KnownSnapshot> by_id;
  std::vector<std::pair<int64_t, std::string>> order;
  std::vector<v1::LedgerEntry> receipts;
  RETURN_IF_ERROR(node->fold()->Snapshot()->ForEachEntry(
      "snapshot:", [&](const std::string&, const Digest& id, const v1::LedgerEntry& e) {
        if (e.kind() == kReceiptKind) receipts.push_back(e);
        if (e.kind() != kSnapshotKind) return;
        absl::StatusOr<KnownSnapshot> k = FromEntry(e);
        if (!k.ok()) {  // one damaged entry must not hide the others
          LOG(ERROR) << "ledger entry " << id.ToString() << ": " << k.status();
          return;
        }
        if (by_id.count(k->body.id()) != 0) return;
        order.emplace_back(e.time_unix_nanos(), k->body.id());
        by_id.emplace(k->body.id(), std::move(*k));
      }));
  for (const v1::LedgerEntry& e : receipts) AttachReceipt(e, &by_id);
  std::sort(order.begin(), order.end());
  std::vector<KnownSnapshot> out;
  for (const auto& [time, id] : order) out.push_back(std::move(by_id[id]));
  return out;
}

absl::StatusOr<KnownSnapshot> FindSnapshot(Node* node, const std::string& id) {
  ASSIGN_OR_RETURN(std::vector<KnownSnapshot> all, KnownSnapshots(node));
  if (id.empty() && !all.empty()) return all.back();
  for (KnownSnapshot& k : all) {
    if (k.body.id() == id) return k;
  }
  return absl::NotFoundError(id.empty() ? "the cluster has no snapshot yet: custody snapshot create"
                                        : absl::StrCat("no snapshot ", id));
}

absl::Status KeepReceipt(Node* node, const v1::Receipt& receipt, const std::string& peer,
                         const std::string& actor) {
  ASSIGN_OR_RETURN(v1::ReceiptBody body, CheckReceipt(receipt));
  v1::LedgerEntry e;
  e.set_kind(kReceiptKind);
  e.set_subject("snapshot:" + body.snapshot_id());
  e.set_actor(actor);
  (*e.mutable_fields())["receipt"] = absl::Base64Escape(receipt.SerializeAsString());
  (*e.mutable_fields())["peer"] = peer;
  v1::AuditEvent event = NewEvent(kReceiptKind, e.subject(), actor);
  AddDetail(&event, "peer", peer);
  AddDetail(&event, "peer_id", body.peer_id());
  AddDetail(&event, "peer_key", absl::BytesToHexString(receipt.public_key()));
  AddDetail(&event, "verified_at",
            absl::FormatTime(absl::RFC3339_sec, absl::FromUnixNanos(body.verified_unix_nanos()),
                             absl::UTCTimeZone()));
  AddDetail(&event, "objects", absl::StrCat(body.objects()));
  AddDetail(&event, "chunks", absl::StrCat(body.chunks()));
  AddDetail(&event, "data_bytes", absl::StrCat(body.data_bytes()));
  AddDetail(&event, "signature", absl::BytesToHexString(receipt.signature()));
  return node->ledger()->Append(std::move(e), std::move(event)).status();
}

absl::StatusOr<std::vector<v1::ObjectManifest>> SnapshotManifests(Node* node,
                                                                  const v1::SnapshotBody& body) {
  std::vector<v1::ObjectManifest> out;
  for (const v1::SnapshotObject& o : body.objects()) {
    if (o.purged()) continue;
    ASSIGN_OR_RETURN(Digest id, Digest::FromRaw(o.id()));
    ASSIGN_OR_RETURN(v1::ObjectManifest m, node->FindManifest(id));
    out.push_back(std::move(m));
  }
  return out;
}

v1::SnapshotSummary Summarize(const KnownSnapshot& s) {
  v1::SnapshotSummary out;
  out.set_id(s.body.id());
  out.set_created_unix_nanos(s.body.created_unix_nanos());
  out.set_created_by(s.body.created_by());
  out.set_reason(s.body.reason());
  out.set_objects(s.body.objects_size());
  out.set_chunks(s.body.chunk_count());
  out.set_data_bytes(s.body.data_bytes());
  out.set_ledger_entries(s.body.ledger_entries_size());
  out.set_audit_logs(s.body.audit_logs_size());
  out.set_merkle_root(absl::BytesToHexString(s.body.merkle_root()));
  if (s.receipt) {
    out.set_receipt_unix_nanos(s.receipt_body.verified_unix_nanos());
    out.set_receipt_peer(s.receipt_peer);
  }
  return out;
}

}  // namespace custody
