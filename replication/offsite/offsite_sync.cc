#include "replication/offsite/offsite_sync.h"

#include <atomic>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/log.h"
#include "common/rate_limiter.h"
#include "common/snapshot_format.h"
#include "common/status_macros.h"
#include "common/units.h"
#include "replication/offsite/snapshot_source.h"

namespace custody {

namespace {

// One blob to send: where its bytes come from, and for a chunk its place in
// its object. `checked`, if set, reads the blob again, hashed, when the peer
// refuses the bytes `load` gave (the peer hashes every blob it takes).
struct Item {
  Digest key;
  BlobSource load;
  std::optional<ChunkPosition> at;
  BlobSource checked;
};
// Sends items with `streams` workers, each on its own channel, taking the
// next item in the list as it is free (so an object's chunks go on several
// streams at once, nearly in order; the peer follows them in any order); the
// first failure stops them all.
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
      if (s.ok()) continue;
      absl::MutexLock l(&mu_);
      if (error_.ok()) error_ = s;
      stop_ = true;
    }
  }

  absl::Status Send(int w, const Item& item) {
    absl::StatusOr<std::string> data = item.load();
    if (!data.ok() && item.checked) data = item.checked();
    if (!data.ok()) return data.status();
    uint64_t size = data->size();
    limiter_.Acquire(size);
    absl::StatusOr<bool> held = peer_->Put(w, item.key, std::move(*data), item.at);
    if (absl::IsInvalidArgument(held.status()) && item.checked) {
      LOG(WARNING) << "the offsite peer refused " << item.key.ToString()
                   << " as read from this node's volume (" << held.status().message()
                   << "); reading it again, hashed";
      ASSIGN_OR_RETURN(std::string again, item.checked());
      held = peer_->Put(w, item.key, std::move(again), item.at);
    }
    if (!held.ok()) {
      return absl::Status(held.status().code(),
                          absl::StrCat("sending ", item.key.ToString(),
                                       " to the offsite peer: ", held.status().message()));
    }
    if (*held) return absl::OkStatus();  // it came by another way meanwhile
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
    PeerClient* peer = node->placement() ? node->placement()->peer(id) : nullptr;
    if (peer == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the snapshot names the audit log of node ", id, ", which is not in this cluster's map"));
    }
    return peer->AuditPage(page, upto);
  };
}

// The chunks the peer lacks, object by object in each object's order, each
// chunk once. A chunk this node holds is read without hashing it here: the
// peer hashes it, and a refused or unreadable one is read again through the
// cluster's verifying store (counted as corrupt there, and taken from another
// replica when there is one).
absl::StatusOr<std::vector<Item>> ChunkItems(Node* node,
                                             const std::vector<v1::ObjectManifest>& manifests,
                                             OffsiteClient* peer) {
  std::set<Digest> all;
  for (const v1::ObjectManifest& m : manifests) {
    ASSIGN_OR_RETURN(std::vector<Digest> chunks, DigestsFromRaw(m.chunks()));
    all.insert(chunks.begin(), chunks.end());
  }
  ASSIGN_OR_RETURN(std::vector<Digest> lacking,
                   peer->FindMissing(std::vector<Digest>(all.begin(), all.end())));
  std::set<Digest> missing(lacking.begin(), lacking.end());
  std::vector<Item> items;
  for (const v1::ObjectManifest& m : manifests) {
    ASSIGN_OR_RETURN(Digest object, Digest::FromRaw(m.sha256()));
    ASSIGN_OR_RETURN(std::vector<Digest> chunks, DigestsFromRaw(m.chunks()));
    ChunkPosition at{object, Digest::Of(DeterministicBytes(m)), 0};
    for (int i = 0; i < m.chunks_size(); ++i) {
      const Digest& d = chunks[i];
      if (missing.erase(d) == 0) continue;
      at.index = static_cast<uint32_t>(i);
      ReadFor why{ReadFor::Purpose::kOffsite, at.object.ToString(), "", ""};
      items.push_back({d, [node, d]() { return node->unhashed_chunks()->Get(d); }, at,
                       [node, d, why]() { return node->cluster_chunks()->GetFor(d, why); }});
    }
  }
  return items;
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
    ASSIGN_OR_RETURN(Digest manifest, Digest::FromRaw(o.manifest_sha256()));
    out[manifest] = [node, id]() -> absl::StatusOr<std::string> {
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
  std::vector<std::pair<const char*, absl::Time>> marks;  // phase ends, for the log
  const v1::SnapshotBody& body = snapshot.body;
  v1::SyncResult result;
  result.set_snapshot_id(body.id());
  ASSIGN_OR_RETURN(internal::v1::OfferResponse offer, peer->Offer(snapshot.snapshot));
  marks.push_back({"offer", absl::Now()});
  RETURN_IF_ERROR(peer->Connect(absl::Minutes(1)));
  marks.push_back({"connect", absl::Now()});
  ASSIGN_OR_RETURN(std::vector<v1::ObjectManifest> manifests, SnapshotManifests(node, body));
  ASSIGN_OR_RETURN(auto sources, SnapshotBlobSources(node, body, manifests));
  std::vector<Item> first;  // manifests, ledger entries, audit pages
  for (const std::string& raw : offer.missing()) {
    ASSIGN_OR_RETURN(Digest key, Digest::FromRaw(raw));
    auto it = sources.find(key);
    if (it == sources.end()) {
      return absl::InternalError(absl::StrCat("the peer asked for ", key.ToString(),
                                              ", which the snapshot does not name"));
    }
    first.push_back(Item{key, it->second, std::nullopt, {}});
  }
  ASSIGN_OR_RETURN(std::vector<Item> chunks, ChunkItems(node, manifests, peer));
  marks.push_back({"find-missing", absl::Now()});
  uint64_t chunk_count = 0;
  for (const v1::ObjectManifest& m : manifests) chunk_count += m.chunks_size();
  result.set_blobs_offered(sources.size() + chunk_count);
  Sender sender(peer, options.rate_bytes_per_second);
  // The peer has every manifest before the chunks come, so it can follow them.
  RETURN_IF_ERROR(sender.Run(first, options.streams, &result));
  marks.push_back({"send-metadata", absl::Now()});
  Sender chunk_sender(peer, options.rate_bytes_per_second);
  RETURN_IF_ERROR(chunk_sender.Run(chunks, options.streams, &result));
  marks.push_back({"send-chunks", absl::Now()});
  ASSIGN_OR_RETURN(*result.mutable_receipt(), peer->Seal(body.id()));
  marks.push_back({"seal", absl::Now()});
  ASSIGN_OR_RETURN(v1::ReceiptBody receipt, CheckReceipt(result.receipt()));
  if (receipt.snapshot_id() != body.id() || receipt.merkle_root() != body.merkle_root()) {
    return absl::DataLossError("the peer's receipt names another snapshot");
  }
  result.set_peer_id(receipt.peer_id());
  RETURN_IF_ERROR(KeepReceipt(node, result.receipt(), options.peer, options.actor));
  marks.push_back({"receipt", absl::Now()});
  result.set_seconds(absl::ToDoubleSeconds(absl::Now() - start));
  std::string phases;
  absl::Time from = start;
  for (const auto& [name, at] : marks) {
    absl::StrAppend(&phases, " ", name, " ", absl::FormatDuration(at - from));
    from = at;
  }
  LOG(INFO) << "offsite sync of " << body.id() << ": " << result.blobs_sent() << " blobs, "
            << FormatBytes(result.bytes_sent()) << " sent;" << phases;
  return result;
}

}  // namespace custody
