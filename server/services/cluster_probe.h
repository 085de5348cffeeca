// What `custody cluster status` shows (doc/cluster.md, doc/etcd.md): every
// node of the map as this node sees it, with its own status, liveness from
// the etcd leases beside a 2-second probe, and each clock's offset from the
// others'. Used by the Custody service and by the node's clock watch.
#ifndef CUSTODY_SERVER_SERVICES_CLUSTER_PROBE_H_
#define CUSTODY_SERVER_SERVICES_CLUSTER_PROBE_H_

#include "absl/time/time.h"
#include "custody/v1/custody.pb.h"
#include "replication/witness/attester.h"
#include "server/node.h"

namespace custody {

// How far a node's clock may be from the median of the others' before it is
// flagged (ClusterNodeStatus.clock_skewed, custody_clock_skewed).
inline constexpr absl::Duration kClockSkewBound = absl::Seconds(2);

// This node's own status; its witness and TSA from `attester` (may be null).
void FillNodeStatus(Node* node, const Attester* attester, v1::NodeStatusResponse* response);
// Every node of the map, probed now (each peer at most 2 s).
v1::ClusterStatusResponse ProbeCluster(Node* node, const Attester* attester);

}  // namespace custody

#endif  // CUSTODY_SERVER_SERVICES_CLUSTER_PROBE_H_
