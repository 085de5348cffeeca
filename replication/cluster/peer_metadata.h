// How nodes of a cluster recognise each other's calls: every node-to-node
// call carries the caller's cluster map version and node id as metadata, and
// a node refuses a caller whose map version differs from its own.
#ifndef CUSTODY_REPLICATION_CLUSTER_PEER_METADATA_H_
#define CUSTODY_REPLICATION_CLUSTER_PEER_METADATA_H_

#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/status/status.h"
#include "replication/cluster/cluster_map.h"

namespace custody {

inline constexpr char kMapVersionHeader[] = "custody-map-version";
inline constexpr char kNodeIdHeader[] = "custody-node-id";

// Adds this node's map version and id to an outgoing call.
void AddPeerMetadata(grpc::ClientContext* ctx, const ClusterMap& map, const std::string& node_id);

// OK if the caller sent the same map version as `map`'s; FAILED_PRECONDITION
// naming both versions (and the caller) otherwise, or when it sent none.
absl::Status CheckPeer(const grpc::CallbackServerContext* ctx, const ClusterMap& map);

// The caller's node id ("" if it sent none).
std::string PeerNodeId(const grpc::CallbackServerContext* ctx);

}  // namespace custody

#endif  // CUSTODY_REPLICATION_CLUSTER_PEER_METADATA_H_
