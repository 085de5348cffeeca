// The owner's side of a live upload's mirrors (doc/live.md, "On R nodes"):
// in a cluster with R > 1, each step of an upload (its opening, each
// segment, its seal) goes to R - 1 other nodes before it is acknowledged,
// so that the bytes after the last full chunk, the chain and the hash state
// are durable on R nodes, as the full chunks are on their homes. The
// mirror nodes are the first R - 1 other nodes in rendezvous order of the
// upload's id, the next ones standing in for those that fail.
#ifndef CUSTODY_SERVER_OBJECTS_LIVE_MIRROR_H_
#define CUSTODY_SERVER_OBJECTS_LIVE_MIRROR_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "custody/internal/v1/replica.pb.h"
#include "replication/cluster/placement.h"

namespace custody {

// Thread-safe.
class LiveMirror {
 public:
  // `replicas` is the cluster's R (> 1).
  LiveMirror(Placement* placement, uint32_t replicas)
      : placement_(placement), replicas_(replicas) {}

  struct Sent {
    std::vector<std::string> nodes;  // that hold the step
    std::string taken_by;  // not empty: that node took the upload over; nothing was sent on
  };
  // Sends `step` to the upload's mirror nodes; one that missed a step gets
  // `whole()` instead. UNAVAILABLE when fewer than R - 1 hold it, naming
  // each failure.
  absl::StatusOr<Sent> Send(
      const internal::v1::LiveMirrorRequest& step,
      const std::function<absl::StatusOr<internal::v1::LiveMirrorRequest>()>& whole);
  // Asks node `owner` to give `live_id` up to this node, whose copy holds
  // `held` bytes: its record after.
  absl::StatusOr<internal::v1::LiveRecord> HandOff(const std::string& owner,
                                                   const std::string& live_id, uint64_t held);
  // Tells every other node that reaches `step` (a seal): each that holds a
  // mirror of it keeps only its record. Failures are logged.
  void Tell(const internal::v1::LiveMirrorRequest& step);
  const std::string& self() const { return placement_->self(); }

 private:
  Placement* placement_;
  const uint32_t replicas_;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_OBJECTS_LIVE_MIRROR_H_
