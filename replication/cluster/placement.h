// Where things live in a cluster of more than one node: chunks through a
// ReplicatingBlobStore, manifests on their R home nodes, both found again
// in rank order. Built by the Node when its map has more than one node.
#ifndef CUSTODY_REPLICATION_CLUSTER_PLACEMENT_H_
#define CUSTODY_REPLICATION_CLUSTER_PLACEMENT_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "custody/v1/manifest.pb.h"
#include "replication/cluster/cluster_map.h"
#include "replication/cluster/peer_client.h"
#include "replication/cluster/remote_blob_store.h"
#include "replication/cluster/replicating_blob_store.h"

namespace custody {

// Thread-safe.
class Placement {
 public:
  // `local_chunks` is this node's own (verifying) chunk store, and
  // `local_unverified` the same store without the verifying decorator; peers
  // are called with `credentials`.
  Placement(std::shared_ptr<const ClusterMap> map, std::string self, BlobStore* local_chunks,
            BlobStore* local_unverified, std::shared_ptr<grpc::ChannelCredentials> credentials);

  BlobStore* chunks() { return &replicated_; }
  // The same, for Put only of bytes whose digest the caller computed from
  // them itself (an upload's chunks): this node's copy is not hashed a
  // second time (issue 29); each peer still hashes what it receives.
  BlobStore* hashed_chunks() { return &hashed_; }
  // Before the first put (ReplicatingBlobStore::ZonePolicy).
  void set_zone_policy(ReplicatingBlobStore::ZonePolicy p) {
    hashed_.set_zone_policy(p);
    replicated_.set_zone_policy(std::move(p));
  }
  const ClusterMap& map() const { return *map_; }
  const std::string& self() const { return self_; }
  // Every other node of the map, in map order, with its peer client.
  struct Other {
    const NodeInfo* info;
    PeerClient* peer;
  };
  std::vector<Other> Others() const;

  // Another node of the map, or nullptr for this node or an unknown id.
  PeerClient* peer(const std::string& id) {
    auto it = peers_.find(id);
    return it == peers_.end() ? nullptr : it->second.client.get();
  }

  // Stores a manifest on its R home nodes, the next nodes in rank order
  // standing in for those that fail. `store_here(handoff_for)` stores it on
  // this node. Returns the nodes that hold it; fewer than R is UNAVAILABLE,
  // naming each failure.
  absl::StatusOr<std::vector<std::string>> PlaceManifest(
      const Digest& id, const std::string& manifest,
      const std::function<absl::Status(const std::string& handoff_for)>& store_here);
  // The manifest from the first other node, in rank order, that has it;
  // node `skip` is not asked (a node is never asked to vouch for its own read).
  absl::StatusOr<v1::ObjectManifest> FindManifest(const Digest& id, const std::string& skip = "");

 private:
  std::shared_ptr<const ClusterMap> map_;
  std::string self_;
  BlobStore* local_;
  BlobStore* local_unverified_;
  ReplicatingBlobStore replicated_;
  ReplicatingBlobStore hashed_;
  // Last: destroyed first, joining their threads before `replicated_`, which
  // their callbacks use, goes away.
  struct Peer {
    std::unique_ptr<PeerClient> client;
    std::unique_ptr<RemoteBlobStore> chunks;  // through `client`
  };
  std::map<std::string, Peer> peers_;
};

}  // namespace custody

#endif  // CUSTODY_REPLICATION_CLUSTER_PLACEMENT_H_
