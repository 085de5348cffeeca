// custodyd's flags for offsite snapshots (doc/offsite.md): the node's role
// (a storage node of a cluster, or the offsite peer), and on a storage node
// the peer's address, the schedule and the pace of syncs. Wires the matching
// services into the server.
#ifndef CUSTODY_REPLICATION_OFFSITE_OFFSITE_FLAGS_H_
#define CUSTODY_REPLICATION_OFFSITE_OFFSITE_FLAGS_H_

#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "replication/offsite/offsite_peer_service.h"
#include "replication/offsite/snapshots_service.h"
#include "server/node.h"

namespace custody {

class OffsiteFlags {
 public:
  // Adds the flags to `app`; Apply() checks them and sets `opts` after parsing.
  OffsiteFlags(CLI::App* app, NodeOptions* opts);
  absl::Status Apply();

  bool offsite_peer() const { return role_ == "offsite"; }
  bool witness() const { return role_ == "witness"; }
  // Not a storage node of the cluster: an offsite peer or a witness.
  bool restricted() const { return role_ != "storage"; }
  // Registers the Snapshots service and, on an offsite peer, the
  // OffsitePeer service (where Snapshots refuses every call) for `node`
  // with `builder`; kept alive here.
  void Register(Node* node, grpc::ServerBuilder* builder);
  // After the server started: the snapshot schedule of a storage node.
  void Start();
  // Stops the schedule (before the node is closed).
  void Stop();

 private:
  NodeOptions* opts_;
  std::string role_ = "storage", every_ = "720h", rate_;
  std::string challenge_every_ = "168h", challenge_rate_;
  OffsiteOptions options_;
  std::unique_ptr<SnapshotsService> snapshots_;
  std::unique_ptr<OffsitePeerService> peer_;
};

}  // namespace custody

#endif  // CUSTODY_REPLICATION_OFFSITE_OFFSITE_FLAGS_H_
