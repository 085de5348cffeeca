#include "replication/restorer.h"

#include <set>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"
#include "replication/snapshot_format.h"
#include "replication/snapshot_maker.h"
#include "server/manifest_writer.h"
#include "server/snapshot_source.h"

namespace custody {

namespace {

// `key` from the peer, checked against its hash.
absl::StatusOr<std::string> Fetch(OffsiteClient* peer, int channel, const Digest& key) {
  ASSIGN_OR_RETURN(std::string data, peer->Get(channel, key));
  if (Digest::Of(data) != key) {
    return absl::DataLossError(absl::StrCat("blob ", key.ToString(),
                                            " from the offsite peer does not hash to its name"));
  }
  return data;
}

// The objects the cluster holds already, if all are of `body` (a restore of
// it that stopped half way); FAILED_PRECONDITION naming one that is not.
absl::StatusOr<std::set<std::string>> AlreadyRestored(Node* node, const v1::SnapshotBody& body) {
  std::set<std::string> named;
  for (const v1::SnapshotObject& o : body.objects()) named.insert(o.id());
  ASSIGN_OR_RETURN(auto held, ClusterObjects(node));
  std::set<std::string> out;
  for (const auto& [id, o] : held) {
    if (!named.count(id)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the cluster holds ", Digest::FromRaw(id)->ToString(), ", which snapshot ", body.id(),
          " does not name: a restore goes into an empty cluster (or one where a restore of "
          "this snapshot stopped half way)"));
    }
    out.insert(id);
  }
  return out;
}

// The sealed snapshot `id` ("" = the latest), checked with its receipt.
absl::StatusOr<v1::SnapshotBody> Choose(OffsiteClient* peer, const std::string& id) {
  ASSIGN_OR_RETURN(v1::PeerSnapshotsResponse sealed, peer->ListSealed());
  for (int i = sealed.snapshots_size() - 1; i >= 0; --i) {
    ASSIGN_OR_RETURN(v1::SnapshotBody body, CheckSnapshot(sealed.snapshots(i)));
    if (!id.empty() && body.id() != id) continue;
    ASSIGN_OR_RETURN(v1::ReceiptBody receipt, CheckReceipt(sealed.receipts(i)));
    if (receipt.merkle_root() != body.merkle_root() || receipt.snapshot_id() != body.id()) {
      return absl::DataLossError(absl::StrCat("the peer's receipt for ", body.id(),
                                              " names another root"));
    }
    return body;
  }
  return absl::NotFoundError(id.empty() ? "the offsite peer holds no verified snapshot"
                                        : absl::StrCat("the offsite peer holds no verified ", id));
}

// Counts chunk stores in flight and keeps the first failure.
class Pending {
 public:
  void Add() {
    absl::MutexLock l(&mu_);
    ++n_;
  }
  void Done(absl::Status s) {
    absl::MutexLock l(&mu_);
    --n_;
    if (!s.ok() && first_.ok()) first_ = s;
  }
  absl::Status Wait() {
    absl::MutexLock l(&mu_);
    mu_.Await(absl::Condition(+[](int* n) { return *n == 0; }, &n_));
    return first_;
  }

 private:
  absl::Mutex mu_;
  int n_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status first_ ABSL_GUARDED_BY(mu_);
};

// Fetches an object's chunks (one window of parallel fetches at a time),
// hashes them in order against its id, and stores them on their homes.
absl::Status RestoreChunks(Node* node, OffsiteClient* peer, const v1::ObjectManifest& m) {
  Sha256 whole;
  Pending pending;
  size_t window = peer->channels();
  for (size_t i = 0; i < static_cast<size_t>(m.chunks_size()); i += window) {
    size_t n = std::min(window, m.chunks_size() - i);
    std::vector<absl::StatusOr<std::string>> got(n, absl::UnknownError("not fetched"));
    std::vector<std::thread> fetchers;
    for (size_t j = 0; j < n; ++j) {
      fetchers.emplace_back([&, j] { got[j] = Fetch(peer, j, *Digest::FromRaw(m.chunks(i + j))); });
    }
    for (std::thread& t : fetchers) t.join();
    for (size_t j = 0; j < n; ++j) {
      RETURN_IF_ERROR(got[j].status());
      whole.Update(*got[j]);
      pending.Add();
      node->cluster_chunks()->Put(*Digest::FromRaw(m.chunks(i + j)), std::move(*got[j]),
                                  [&pending](absl::Status s) { pending.Done(s); });
    }
  }
  RETURN_IF_ERROR(pending.Wait());
  if (whole.Finish().Raw() != m.sha256()) {
    return absl::DataLossError(absl::StrCat("the chunks of ", Digest::FromRaw(m.sha256())->ToString(),
                                            " from the offsite peer do not hash to its id"));
  }
  return absl::OkStatus();
}

// Stores the manifest on the object's homes (object.restored).
absl::Status PlaceManifest(Node* node, const Digest& id, const v1::ObjectManifest& m,
                           const std::string& bytes, const std::string& snapshot,
                           const std::string& actor) {
  auto event = [&](bool existed) {
    v1::AuditEvent e = NewEvent(existed ? "object.stored-again" : "object.restored",
                                id.ToString(), actor);
    AddDetail(&e, "snapshot", snapshot);
    AddDetail(&e, "size", absl::StrCat(m.size()));
    AddDetail(&e, "file_name", m.file_name());
    return e;
  };
  auto store_here = [&](const std::string& handoff_for) -> absl::Status {
    return WriteManifest(node->committer(), node->index(), node->audit(), id, bytes,
                         [&](bool existed) {
                           v1::AuditEvent e = event(existed);
                           if (!handoff_for.empty()) AddDetail(&e, "handoff_for", handoff_for);
                           return e;
                         })
        .status();
  };
  if (node->placement() == nullptr) return store_here("");
  ASSIGN_OR_RETURN(std::vector<std::string> holders,
                   node->placement()->PlaceManifest(id, bytes, store_here));
  if (std::find(holders.begin(), holders.end(), node->node_id()) != holders.end()) {
    return absl::OkStatus();
  }
  v1::AuditEvent e = event(false);
  AddDetail(&e, "nodes", absl::StrJoin(holders, ","));
  return node->Record(std::move(e));
}

absl::Status RestoreObject(Node* node, OffsiteClient* peer, const v1::SnapshotObject& o,
                           const std::string& snapshot, const std::string& actor,
                           v1::RestoreResult* result) {
  ASSIGN_OR_RETURN(Digest id, Digest::FromRaw(o.id()));
  ASSIGN_OR_RETURN(Digest mkey, Digest::FromRaw(o.manifest_sha256()));
  ASSIGN_OR_RETURN(std::string bytes, Fetch(peer, 0, mkey));
  v1::ObjectManifest m;
  if (!m.ParseFromString(bytes) || m.sha256() != o.id()) {
    return absl::DataLossError(absl::StrCat("the manifest of ", id.ToString(), " names another object"));
  }
  if (!o.purged()) {
    RETURN_IF_ERROR(RestoreChunks(node, peer, m));
    result->set_chunks(result->chunks() + m.chunks_size());
    result->set_bytes(result->bytes() + m.size());
  }
  RETURN_IF_ERROR(PlaceManifest(node, id, m, bytes, snapshot, actor));
  result->set_objects(result->objects() + 1);
  return absl::OkStatus();
}

// One old node's log, page by page, checked against its checkpoint.
absl::StatusOr<uint64_t> RestoreAuditLog(Node* node, OffsiteClient* peer,
                                         const v1::SnapshotAuditLog& log,
                                         const std::string& snapshot) {
  ASSIGN_OR_RETURN(AuditPageVerifier v, AuditPageVerifier::Start(log));
  ASSIGN_OR_RETURN(bool done, node->history()->Has(log.node_id(), log.checkpoint()));
  if (done) return v.expected();  // by a restore that stopped after it
  uint64_t at = 0;
  for (const std::string& raw : log.pages()) {
    ASSIGN_OR_RETURN(std::string page, Fetch(peer, 0, *Digest::FromRaw(raw)));
    std::vector<std::string> events;
    RETURN_IF_ERROR(v.AddPage(page, [&](absl::string_view e) { events.emplace_back(e); }));
    RETURN_IF_ERROR(node->history()->AddEvents(log.node_id(), at, events));
    at += events.size();
  }
  RETURN_IF_ERROR(v.Finish());
  RETURN_IF_ERROR(
      node->history()->Commit(log.node_id(), log.public_key(), log.checkpoint(), snapshot));
  return at;
}

}  // namespace

absl::StatusOr<v1::RestoreResult> RestoreFromOffsite(Node* node, OffsiteClient* peer,
                                                     const std::string& snapshot_id,
                                                     const std::string& peer_address,
                                                     const std::string& actor) {
  absl::Time start = absl::Now();
  ASSIGN_OR_RETURN(v1::SnapshotBody body, Choose(peer, snapshot_id));
  ASSIGN_OR_RETURN(std::set<std::string> held, AlreadyRestored(node, body));
  v1::RestoreResult result;
  result.set_snapshot_id(body.id());
  std::string from = "offsite:" + peer_address;
  for (const std::string& raw : body.ledger_entries()) {
    ASSIGN_OR_RETURN(Digest id, Digest::FromRaw(raw));
    ASSIGN_OR_RETURN(std::string entry, Fetch(peer, 0, id));
    RETURN_IF_ERROR(node->ledger()->Restore(id, entry, from));
    result.set_ledger_entries(result.ledger_entries() + 1);
  }
  for (const v1::SnapshotObject& o : body.objects()) {
    if (held.count(o.id())) {  // its manifest is placed last: it is whole
      result.set_objects_present(result.objects_present() + 1);
      continue;
    }
    RETURN_IF_ERROR(RestoreObject(node, peer, o, body.id(), actor, &result));
  }
  for (const v1::SnapshotAuditLog& log : body.audit_logs()) {
    ASSIGN_OR_RETURN(uint64_t events, RestoreAuditLog(node, peer, log, body.id()));
    result.set_audit_logs(result.audit_logs() + 1);
    result.set_audit_events(result.audit_events() + events);
  }
  result.set_seconds(absl::ToDoubleSeconds(absl::Now() - start));
  v1::AuditEvent e = NewEvent("cluster.restored", "node", actor);
  AddDetail(&e, "snapshot", body.id());
  AddDetail(&e, "peer", peer_address);
  AddDetail(&e, "merkle_root", absl::BytesToHexString(body.merkle_root()));
  AddDetail(&e, "objects", absl::StrCat(result.objects()));
  AddDetail(&e, "bytes", absl::StrCat(result.bytes()));
  AddDetail(&e, "ledger_entries", absl::StrCat(result.ledger_entries()));
  AddDetail(&e, "audit_events", absl::StrCat(result.audit_events()));
  RETURN_IF_ERROR(node->Record(std::move(e)));
  return result;
}

}  // namespace custody
