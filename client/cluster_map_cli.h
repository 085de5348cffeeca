// `custody cluster map show|apply FILE` (doc/etcd.md, "The cluster map").
#ifndef CUSTODY_CLIENT_CLUSTER_MAP_CLI_H_
#define CUSTODY_CLIENT_CLUSTER_MAP_CLI_H_

#include <string>

#include "client/cluster_cli.h"

namespace custody {

// Prints the map as etcd holds it (its JSON text; --json: with its version,
// source and the answering node's running version). Exit 0, or 1.
int ClusterMapShowCommand(const ClusterArgs& args);
// Installs the map file `file` as the next version. Exit 0, 1, or 2 for a
// file that cannot be read.
int ClusterMapApplyCommand(const ClusterArgs& args, const std::string& file);

}  // namespace custody

#endif  // CUSTODY_CLIENT_CLUSTER_MAP_CLI_H_
