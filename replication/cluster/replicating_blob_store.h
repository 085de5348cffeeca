// A decorator that spreads chunks over the cluster (doc/cluster.md): each
// chunk goes to its R home nodes in rendezvous order, this node's own store
// standing for this node. When a home node fails, the chunk goes to the next
// node in rank order instead (a handoff copy, which anti-entropy moves home).
#ifndef CUSTODY_REPLICATION_CLUSTER_REPLICATING_BLOB_STORE_H_
#define CUSTODY_REPLICATION_CLUSTER_REPLICATING_BLOB_STORE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "replication/cluster/cluster_map.h"
#include "server/storage/blob_store.h"

namespace custody {

// Thread-safe if the stores it is given are.
class ReplicatingBlobStore : public BlobStore {
 public:
  // `store_for(node)` is the store of a node of `map`: `local` for `self`, a
  // RemoteBlobStore for the others. Both must outlive this object.
  ReplicatingBlobStore(std::shared_ptr<const ClusterMap> map, std::string self,
                       std::function<BlobStore*(const NodeInfo&)> store_for);

  // Tries the nodes in rank order (home replicas first, then handoff
  // holders) and returns the first copy whose bytes hash to `digest`: a down
  // node, a missing chunk or a corrupt copy falls through to the next. The
  // error names every node tried when none has a good copy.
  absl::StatusOr<std::string> Get(const Digest& digest) override;
  absl::StatusOr<std::string> GetFor(const Digest& digest, const ReadFor& why) override;
  // Done with OK once R nodes hold the chunk durably; UNAVAILABLE (naming each
  // failure) when fewer than R nodes of the whole cluster could store it.
  // When its holders span fewer zones than they should (min(R, zones of the
  // map): a home was down or full, and the next node in rank is in a zone
  // already used), the put is zone-degraded: OK and reported to
  // ZonePolicy::on_degraded when degraded puts are allowed, else UNAVAILABLE.
  void Put(const Digest& digest, std::string data,
           absl::AnyInvocable<void(absl::Status) &&> done) override;
  struct ZonePolicy {
    bool allow_degraded = true;  // --allow-zone-degraded
    // Called (on the thread that stored the last copy; must not block) with
    // the chunk and the nodes that hold it.
    std::function<void(const Digest&, const std::vector<std::string>& holders)> on_degraded;
  };
  // Before the first Put.
  void set_zone_policy(ZonePolicy p) { zones_ = std::move(p); }

  // Keys that fewer than R of their home nodes hold (asks each home node).
  absl::StatusOr<std::vector<Digest>> FindMissing(absl::Span<const Digest> digests) override;

 private:
  struct PutOp;
  void Launch(const std::shared_ptr<PutOp>& op, const NodeInfo* target);
  void Landed(const std::shared_ptr<PutOp>& op, const NodeInfo* target, absl::Status s);
  // OK, or why a put whose R copies span too few zones fails.
  // Called with op.mu held.
  absl::Status CheckZones(const PutOp& op);

  std::shared_ptr<const ClusterMap> map_;
  std::string self_;
  std::function<BlobStore*(const NodeInfo&)> store_for_;
  ZonePolicy zones_;
};

}  // namespace custody

#endif  // CUSTODY_REPLICATION_CLUSTER_REPLICATING_BLOB_STORE_H_
