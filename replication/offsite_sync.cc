#include "replication/offsite_sync.h"

#include <atomic>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/rate_limiter.h"
#include "common/status_macros.h"
#include "replication/snapshot_format.h"
#include "server/snapshot_source.h"

namespace custody {

namespace {

// One blob to send: where its bytes come from.
struct Item {
  Digest key;
  BlobSource load;
};

// Sends `items` with `streams` workers, each on its own channel; the first
// failure stops them all.
class Sender {
 public:
  Sender(OffsiteClient* peer, uint64_t rate) : peer_(peer), limiter_(rate) {}

  absl::Status Run(const std::vector<Item>& items, int streams, v1::SyncResult* result) {
    std::vector<std::thread> workers;
    for (int w = 0; w < std::max(1, streams); ++w) {
      workers.emplace_back([this, w, &items] { Work(w, items); });
    }
    for (std::thread& t : workers) t.join();
    result->set_blobs_sent(result->blobs_sent() + sent_);
    result->set_bytes_sent(result->bytes_sent() + bytes_);
    absl::MutexLock l(&mu_);
    return error_;
  }

 private:
  void Work(int w, const std::vector<Item>& items) {
    for (size_t i = next_++; i < items.size() && !stop_; i = next_++) {
      absl::Status s = Send(w, items[i]);
      if (!s.ok()) {
        absl::MutexLock l(&mu_);
        if (error_.ok()) error_ = s;
        stop_ = true;
      }
    }
  }

  absl::Status Send(int w, const Item& item) {
    ASSIGN_OR_RETURN(std::string data, item.load());
    uint64_t size = data.size();
    limiter_.Acquire(size);
    absl::StatusOr<bool> held = peer_->Put(w, item.key, std::move(data));
    if (!held.ok()) {
      return absl::Status(held.status().code(),
                          absl::StrCat("sending ", item.key.ToString(), " to the offsite peer: ",
                                       held.status().message()));
    }
    ++sent_;
    bytes_ += size;
    return absl::OkStatus();
  }

  OffsiteClient* peer_;
  RateLimiter limiter_;
  std::atomic<size_t> next_{0};
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> sent_{0}, bytes_{0};
  absl::Mutex mu_;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
};

// Where page `page` of `log` is read: this node's own log, or another's.
BlobSource AuditPageSource(Node* node, const v1::SnapshotAuditLog& log, uint64_t page) {
  uint64_t upto = 0;
  if (absl::StatusOr<Checkpoint> c = VerifyCheckpoint(log.checkpoint(), log.public_key()); c.ok()) {
    upto = c->size;
  }
  std::string id = log.node_id();
  return [node, id, page, upto]() -> absl::StatusOr<std::string> {
    if (id == node->node_id()) return LocalAuditPage(node, page, upto);
    RemoteBlobStore* peer = node->placement() ? node->placement()->peer(id) : nullptr;
    if (peer == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the snapshot names the audit log of node ", id, ", which is not in this cluster's map"));
    }
    return peer->AuditPage(page, upto);
  };
}

}  // namespace

absl::StatusOr<std::map<Digest, BlobSource>> SnapshotBlobSources(
    Node* node, const v1::SnapshotBody& body, const std::vector<v1::ObjectManifest>& manifests) {
  std::map<Digest, BlobSource> out;
  for (const v1::ObjectManifest& m : manifests) {
    auto bytes = std::make_shared<std::string>(DeterministicBytes(m));
    out[Digest::Of(*bytes)] = [bytes]() -> absl::StatusOr<std::string> { return *bytes; };
  }
  for (const v1::SnapshotObject& o : body.objects()) {
    if (!o.purged()) continue;  // manifests of purged objects: read when needed
    ASSIGN_OR_RETURN(Digest id, Digest::FromRaw(o.id()));
    out[*Digest::FromRaw(o.manifest_sha256())] = [node, id]() -> absl::StatusOr<std::string> {
      ASSIGN_OR_RETURN(v1::ObjectManifest m, node->FindManifest(id));
      return DeterministicBytes(m);
    };
  }
  for (const std::string& raw : body.ledger_entries()) {
    ASSIGN_OR_RETURN(Digest id, Digest::FromRaw(raw));
    out[id] = [node, id]() -> absl::StatusOr<std::string> {
      ASSIGN_OR_RETURN(std::optional<std::string> e, node->ledger()->Get(id));
      if (!e) return absl::NotFoundError(absl::StrCat("no ledger entry ", id.ToString()));
      return *e;
    };
  }
  for (const v1::SnapshotAuditLog& log : body.audit_logs()) {
    for (int p = 0; p < log.pages_size(); ++p) {
      ASSIGN_OR_RETURN(Digest id, Digest::FromRaw(log.pages(p)));
      out[id] = AuditPageSource(node, log, p);
    }
  }
  return out;
}

absl::StatusOr<v1::SyncResult> SyncSnapshot(Node* node, const KnownSnapshot& snapshot,
                                            OffsiteClient* peer, const SyncOptions& options) {
  absl::Time start = absl::Now();
  const v1::SnapshotBody& body = snapshot.body;
  v1::SyncResult result;
  result.set_snapshot_id(body.id());
  ASSIGN_OR_RETURN(v1::OfferResponse offer, peer->Offer(snapshot.snapshot));
  ASSIGN_OR_RETURN(std::vector<v1::ObjectManifest> manifests, SnapshotManifests(node, body));
  ASSIGN_OR_RETURN(auto sources, SnapshotBlobSources(node, body, manifests));
  std::vector<Item> items;
  for (const std::string& raw : offer.missing()) {
    ASSIGN_OR_RETURN(Digest key, Digest::FromRaw(raw));
    auto it = sources.find(key);
    if (it == sources.end()) {
      return absl::InternalError(absl::StrCat("the peer asked for ", key.ToString(),
                                              ", which the snapshot does not name"));
    }
    items.push_back({key, it->second});
  }
  std::set<Digest> chunks;
  for (const v1::ObjectManifest& m : manifests) {
    for (const std::string& raw : m.chunks()) chunks.insert(*Digest::FromRaw(raw));
  }
  ASSIGN_OR_RETURN(std::vector<Digest> missing,
                   peer->FindMissing(std::vector<Digest>(chunks.begin(), chunks.end())));
  for (const Digest& d : missing) {
    items.push_back({d, [node, d]() { return node->cluster_chunks()->Get(d); }});
  }
  result.set_blobs_offered(sources.size() + chunks.size());
  Sender sender(peer, options.rate_bytes_per_second);
  RETURN_IF_ERROR(sender.Run(items, options.streams, &result));
  ASSIGN_OR_RETURN(*result.mutable_receipt(), peer->Seal(body.id()));
  ASSIGN_OR_RETURN(v1::ReceiptBody receipt, CheckReceipt(result.receipt()));
  if (receipt.snapshot_id() != body.id() || receipt.merkle_root() != body.merkle_root()) {
    return absl::DataLossError("the peer's receipt names another snapshot");
  }
  result.set_peer_id(receipt.peer_id());
  RETURN_IF_ERROR(KeepReceipt(node, result.receipt(), options.peer, options.actor));
  result.set_seconds(absl::ToDoubleSeconds(absl::Now() - start));
  return result;
}

}  // namespace custody
