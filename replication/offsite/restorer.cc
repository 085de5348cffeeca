#include "replication/offsite/restorer.h"

#include <set>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "common/log.h"
#include "common/snapshot_format.h"
#include "common/status_macros.h"
#include "common/units.h"
#include "replication/offsite/ordered_fetcher.h"
#include "replication/offsite/restore_guard.h"
#include "replication/offsite/snapshot_maker.h"
#include "replication/offsite/snapshot_source.h"
#include "server/objects/manifest_writer.h"

namespace custody {

namespace {

// `key` from the peer, checked against its hash.
absl::StatusOr<std::string> Fetch(OffsiteClient* peer, int channel, const Digest& key) {
  ASSIGN_OR_RETURN(std::string data, peer->Get(channel, key));
  if (Digest::Of(data) != key) {
    return absl::DataLossError(
        absl::StrCat("blob ", key.ToString(), " from the offsite peer does not hash to its name"));
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
          "the cluster holds sha256:", absl::BytesToHexString(id), ", which snapshot ", body.id(),
          " does not name: a restore goes into an empty cluster (or one where a restore of "
          "this snapshot stopped half way)"));
    }
    out.insert(id);
  }
  return out;
}

// The sealed snapshot `id` ("" = the latest), checked with its receipt.
absl::StatusOr<SealedSnapshot> Choose(OffsiteClient* peer, const std::string& id) {
  ASSIGN_OR_RETURN(internal::v1::PeerSnapshotsResponse sealed, peer->ListSealed());
  for (int i = std::min(sealed.snapshots_size(), sealed.receipts_size()) - 1; i >= 0; --i) {
    if (!id.empty()) {  // only the one asked for must check
      v1::SnapshotBody unchecked;
      if (unchecked.ParseFromString(sealed.snapshots(i).body()) && unchecked.id() != id) continue;
    }
    return CheckSealed(sealed.snapshots(i), sealed.receipts(i));
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
    mu_.Await(absl::Condition(
        +[](int* n) { return *n == 0; }, &n_));
    return first_;
  }

 private:
  absl::Mutex mu_;
  int n_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status first_ ABSL_GUARDED_BY(mu_);
};

// Stores the manifest on the object's homes (object.restored).
absl::Status PlaceManifest(Node* node, const Digest& id, const v1::ObjectManifest& m,
                           const std::string& bytes, const std::string& snapshot,
                           const std::string& actor) {
  auto event = [&](bool existed) {
    v1::AuditEvent e =
        NewEvent(existed ? "object.stored-again" : "object.restored", id.ToString(), actor);
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

OrderedFetcher::FetchFn PeerGet(OffsiteClient* peer) {
  return [peer](int c, const Digest& key) { return peer->Get(c, key); };
}

// An object whose chunks are on their way to their homes; its manifest is
// placed once they are all durable.
struct Landing {
  Digest id;
  v1::ObjectManifest manifest;
  std::string bytes;  // the manifest's
  bool purged = false;
  std::unique_ptr<Pending> pending = std::make_unique<Pending>();
};

// Waits for the object's chunks, then places its manifest.
absl::Status Land(Node* node, Landing& l, const std::string& snapshot, const std::string& actor,
                  v1::RestoreResult* result) {
  absl::Status stored = l.pending->Wait();
  if (absl::IsInvalidArgument(stored)) {  // a store found a chunk not hashing to its name
    return absl::DataLossError(
        absl::StrCat("a chunk of ", l.id.ToString(), " from the offsite peer: ", stored.message()));
  }
  RETURN_IF_ERROR(stored);
  RETURN_IF_ERROR(PlaceManifest(node, l.id, l.manifest, l.bytes, snapshot, actor));
  result->set_objects(result->objects() + 1);
  if (!l.purged) {
    result->set_chunks(result->chunks() + l.manifest.chunks_size());
    result->set_bytes(result->bytes() + l.manifest.size());
  }
  return absl::OkStatus();
}

// The manifests of `objects`, fetched in parallel, each checked.
absl::StatusOr<std::vector<Landing>> FetchManifests(
    OffsiteClient* peer, const std::vector<const v1::SnapshotObject*>& objects) {
  std::vector<Digest> keys;
  for (const v1::SnapshotObject* o : objects) {
    ASSIGN_OR_RETURN(keys.emplace_back(), Digest::FromRaw(o->manifest_sha256()));
  }
  OrderedFetcher fetcher(PeerGet(peer), peer->channels(), keys, 4 * peer->channels());
  std::vector<Landing> out(objects.size());
  for (size_t i = 0; i < objects.size(); ++i) {
    ASSIGN_OR_RETURN(out[i].bytes, fetcher.Next());
    ASSIGN_OR_RETURN(out[i].id, Digest::FromRaw(objects[i]->id()));
    out[i].purged = objects[i]->purged();
    if (Digest::Of(out[i].bytes) != keys[i] || !out[i].manifest.ParseFromString(out[i].bytes) ||
        out[i].manifest.sha256() != objects[i]->id()) {
      return absl::DataLossError(absl::StrCat("the manifest of ", out[i].id.ToString(),
                                              " from the offsite peer does not verify"));
    }
  }
  return out;
}

// Restores `objects`: their chunks stream in, in order, from every channel
// at once; each object is hashed whole against its id as they pass and
// stored on its homes, and its manifest placed while the next object's
// chunks already flow.
absl::Status RestoreBatch(Node* node, OffsiteClient* peer,
                          const std::vector<const v1::SnapshotObject*>& objects,
                          const std::string& snapshot, const std::string& actor,
                          v1::RestoreResult* result) {
  ASSIGN_OR_RETURN(std::vector<Landing> landings, FetchManifests(peer, objects));
  absl::Cleanup settle = [&landings] {  // no store callback outlives its Pending
    for (Landing& l : landings) (void)l.pending->Wait();
  };
  std::vector<Digest> keys;
  for (const Landing& l : landings) {
    if (l.purged) continue;
    ASSIGN_OR_RETURN(std::vector<Digest> of_object, DigestsFromRaw(l.manifest.chunks()));
    keys.insert(keys.end(), of_object.begin(), of_object.end());
  }
  OrderedFetcher chunks(PeerGet(peer), peer->channels(), keys, 2 * peer->channels());
  Landing* landing = nullptr;  // the previous object, its chunks in flight
  for (Landing& l : landings) {
    Sha256 whole;
    for (int i = 0; !l.purged && i < l.manifest.chunks_size(); ++i) {
      ASSIGN_OR_RETURN(std::string data, chunks.Next());
      whole.Update(data);
      ASSIGN_OR_RETURN(Digest key, Digest::FromRaw(l.manifest.chunks(i)));
      l.pending->Add();
      node->cluster_chunks()->Put(key, std::move(data),
                                  [p = l.pending.get()](absl::Status s) { p->Done(s); });
    }
    if (!l.purged && whole.Finish() != l.id) {
      return absl::DataLossError(absl::StrCat("the chunks of ", l.id.ToString(),
                                              " from the offsite peer do not hash to its id"));
    }
    if (landing != nullptr) RETURN_IF_ERROR(Land(node, *landing, snapshot, actor, result));
    landing = &l;
  }
  return landing == nullptr ? absl::OkStatus() : Land(node, *landing, snapshot, actor, result);
}

// Restores the objects of `body` not yet in `held`, in batches (the
// manifests of a batch are held in memory: at most 16,384 objects, or what
// names 64 GiB of chunks, about 512 KiB of chunk names at 4 MiB a chunk).
absl::Status RestoreObjects(Node* node, OffsiteClient* peer, const v1::SnapshotBody& body,
                            const std::set<std::string>& held, const std::string& actor,
                            v1::RestoreResult* result) {
  constexpr size_t kBatchObjects = 16384;
  constexpr uint64_t kBatchBytes = 64ull << 30;
  std::vector<const v1::SnapshotObject*> batch;
  uint64_t batch_bytes = 0;
  for (int i = 0; i <= body.objects_size(); ++i) {
    bool last = i == body.objects_size();
    if (!batch.empty() && (last || batch.size() >= kBatchObjects || batch_bytes >= kBatchBytes)) {
      RETURN_IF_ERROR(RestoreBatch(node, peer, batch, body.id(), actor, result));
      batch.clear();
      batch_bytes = 0;
    }
    if (last) break;
    const v1::SnapshotObject& o = body.objects(i);
    if (held.count(o.id())) {  // its manifest is placed last: it is whole
      result->set_objects_present(result->objects_present() + 1);
      continue;
    }
    batch.push_back(&o);
    batch_bytes += o.size();
  }
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
    ASSIGN_OR_RETURN(Digest key, Digest::FromRaw(raw));
    ASSIGN_OR_RETURN(std::string page, Fetch(peer, 0, key));
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

// cluster.restored, about the node: what came back, from which snapshot.
absl::Status LogRestored(Node* node, const v1::SnapshotBody& body, const v1::RestoreResult& result,
                         const std::string& peer_address, const std::string& actor) {
  v1::AuditEvent e = NewEvent("cluster.restored", "node", actor);
  AddDetail(&e, "snapshot", body.id());
  AddDetail(&e, "peer", peer_address);
  AddDetail(&e, "merkle_root", absl::BytesToHexString(body.merkle_root()));
  AddDetail(&e, "objects", absl::StrCat(result.objects()));
  AddDetail(&e, "bytes", absl::StrCat(result.bytes()));
  AddDetail(&e, "ledger_entries", absl::StrCat(result.ledger_entries()));
  AddDetail(&e, "audit_events", absl::StrCat(result.audit_events()));
  AddDetail(&e, "signer", result.signer());
  AddDetail(&e, "signer_key", result.signer_key());
  if (!result.forced().empty()) AddDetail(&e, "forced", absl::StrJoin(result.forced(), ","));
  return node->Record(std::move(e));
}

}  // namespace

absl::StatusOr<v1::RestoreResult> RestoreFromOffsite(Node* node, OffsiteClient* peer,
                                                     const v1::RestoreRequest& request,
                                                     const std::string& peer_address,
                                                     const std::string& actor) {
  absl::Time start = absl::Now();
  ASSIGN_OR_RETURN(SealedSnapshot chosen, Choose(peer, request.snapshot_id()));
  v1::RestoreResult result;
  RETURN_IF_ERROR(AdmitRestore(node, chosen, request, peer_address, actor, &result));
  const v1::SnapshotBody& body = chosen.body;
  LOG(INFO) << (request.dry_run() ? "would restore " : "restoring ") << body.id() << " from "
            << peer_address << ": " << body.objects_size() << " objects, "
            << FormatBytes(body.data_bytes()) << ", signed by " << chosen.snapshot.signer();
  ASSIGN_OR_RETURN(std::set<std::string> held, AlreadyRestored(node, body));
  if (request.dry_run()) return result;
  std::string from = "offsite:" + peer_address;
  for (const std::string& raw : body.ledger_entries()) {
    ASSIGN_OR_RETURN(Digest id, Digest::FromRaw(raw));
    ASSIGN_OR_RETURN(std::string entry, Fetch(peer, 0, id));
    RETURN_IF_ERROR(node->ledger()->Restore(id, entry, from));
    result.set_ledger_entries(result.ledger_entries() + 1);
  }
  RETURN_IF_ERROR(RestoreObjects(node, peer, body, held, actor, &result));
  absl::Time objects_done = absl::Now();
  for (const v1::SnapshotAuditLog& log : body.audit_logs()) {
    ASSIGN_OR_RETURN(uint64_t events, RestoreAuditLog(node, peer, log, body.id()));
    result.set_audit_logs(result.audit_logs() + 1);
    result.set_audit_events(result.audit_events() + events);
  }
  result.set_seconds(absl::ToDoubleSeconds(absl::Now() - start));
  LOG(INFO) << "restored " << body.id() << " in " << result.seconds() << " s: " << result.objects()
            << " objects, " << FormatBytes(result.bytes()) << " in "
            << absl::FormatDuration(objects_done - start) << ", " << result.audit_events()
            << " audit events in " << absl::FormatDuration(absl::Now() - objects_done);
  RETURN_IF_ERROR(LogRestored(node, body, result, peer_address, actor));
  return result;
}

}  // namespace custody
