// Anti-entropy (doc/cluster.md, "Anti-entropy"): every node makes sure that
// what it holds is on the key's home nodes (every node, for security ledger
// entries). Each round, for chunks, then manifests, then ledger entries:
//   1. for every other node P, it compares bucket digests of the keys whose
//      homes include both itself and P (its own table against P's Buckets
//      answer); for a bucket that differs, it asks P which of its keys in that
//      bucket P lacks (FindMissing) and copies those to P;
//   2. a key held here whose homes do not include this node (a handoff copy,
//      or a map that changed) is checked on its homes directly and copied to
//      those that lack it; once every home holds it, it is marked delivered
//      and not checked again.
// Nodes only push, never pull: a node that was down, wiped or is new is
// filled by the others; one removed from the map has its keys pushed to their
// new homes. Nothing is ever removed: a delivered handoff copy stays.
#ifndef CUSTODY_REPLICATION_CLUSTER_ANTI_ENTROPY_H_
#define CUSTODY_REPLICATION_CLUSTER_ANTI_ENTROPY_H_

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/job_loop.h"
#include "custody/internal/v1/replica.pb.h"
#include "custody/v1/custody.pb.h"
#include "replication/cluster/buckets.h"
#include "replication/cluster/placement.h"

namespace custody {

class AuditTrail;
class BlobStore;
class Index;
class Ledger;
class NodeMetrics;

// What anti-entropy works on: this node's keys and where copies go.
struct AntiEntropyDeps {
  Index* index = nullptr;
  BlobStore* chunks = nullptr;  // this node's own chunks, verified on read
  Ledger* ledger = nullptr;
  AuditTrail* trail = nullptr;  // where repairs are recorded
  NodeMetrics* metrics = nullptr;
  Placement* placement = nullptr;
};

struct AntiEntropyOptions {
  absl::Duration interval = absl::Minutes(5);  // between rounds; 0: only on request
  int max_in_flight = 4;                       // chunk copies sent at once
  // Between live estimates of under-replication (Estimate); 0: none.
  absl::Duration estimate_interval = absl::Seconds(5);
};

// Thread-safe. Rounds run on the object's own thread, one at a time.
class AntiEntropy {
 public:
  AntiEntropy(AntiEntropyDeps deps, AntiEntropyOptions options);
  ~AntiEntropy();  // waits for a round in progress, then stops

  void Start() {
    loop_.Start();
    estimates_.Start();
  }
  // Ends waits in RunNow and stops the threads after a round. Idempotent.
  void Stop() {
    estimates_.Stop();
    loop_.Stop();
  }
  // Runs a round that starts after this call, waits for it, and returns it.
  v1::RepairReport RunNow();
  // For a peer's Buckets call: keys of `kind` held here whose homes include
  // both `peer` and this node.
  absl::StatusOr<BucketTable> TableFor(internal::v1::BlobKind kind, const std::string& peer);

  uint64_t under_replicated() const { return under_replicated_.load(); }
  std::optional<v1::RepairReport> last() const { return loop_.last(); }

  // A live estimate of the copies home nodes lack, without a round: for each
  // peer, the chunks and manifests held here that it should hold too, all
  // counted when it does not answer, else compared with its bucket digests
  // (a bucket whose count is short counts the difference, one whose digest
  // differs at least one); and the handoff copies held here not yet
  // delivered. A lower bound; re-made every estimate_interval on the
  // object's own thread. nullopt before the first.
  std::optional<v1::UnderReplication> estimate() const { return estimates_.last(); }

 private:
  struct KindRound;
  v1::RepairReport Round();
  void RoundKind(internal::v1::BlobKind kind, v1::RepairReport* report);
  void CompareWith(KindRound& k, const NodeInfo& peer, v1::RepairReport* report);
  void DeliverHandoffs(KindRound& k, v1::RepairReport* report);
  // Copies `keys` of the round's kind to `peer`; returns how many failed.
  uint64_t Push(KindRound& k, const std::string& peer, const std::vector<Digest>& keys,
                const std::string& reason, v1::RepairReport* report);
  // The nodes that should hold `key` of `kind`: its R homes, or every node
  // for a ledger entry.
  std::vector<const NodeInfo*> Homes(internal::v1::BlobKind kind, const Digest& key) const;
  // Calls `fn` for every key of `kind` held here (in bucket `bucket` only,
  // when >= 0), until it returns false.
  absl::Status ForEachKey(internal::v1::BlobKind kind, int bucket,
                          const std::function<bool(const Digest&)>& fn);

  v1::UnderReplication Estimate();
  // Whether a handoff copy held here was delivered to all its homes.
  bool Delivered(internal::v1::BlobKind kind, const Digest& key);

  AntiEntropyDeps d_;
  Placement* placement_;
  AntiEntropyOptions options_;
  std::atomic<uint64_t> under_replicated_{0};

  JobLoop<v1::RepairReport> loop_;  // last: stopped first
  JobLoop<v1::UnderReplication> estimates_;
};

}  // namespace custody

#endif  // CUSTODY_REPLICATION_CLUSTER_ANTI_ENTROPY_H_
