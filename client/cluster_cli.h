// `custody cluster status|repair|scrub`: the cluster as one node sees it,
// and maintenance on one node or all of them.
#ifndef CUSTODY_CLIENT_CLUSTER_CLI_H_
#define CUSTODY_CLIENT_CLUSTER_CLI_H_

#include <string>

namespace custody {

struct ClusterArgs {
  std::string server;
  bool json = false;
  std::string node;  // repair and scrub: one node's id; "" for all
};

// Each returns the process exit code: 0, or 1 after printing why. Repair and
// scrub also exit 1 when a node could not do its part or left something
// undone (copies still missing, a corrupt chunk not repaired).
int ClusterStatusCommand(const ClusterArgs& args);
int ClusterRepairCommand(const ClusterArgs& args);
int ClusterScrubCommand(const ClusterArgs& args);

}  // namespace custody

#endif  // CUSTODY_CLIENT_CLUSTER_CLI_H_
