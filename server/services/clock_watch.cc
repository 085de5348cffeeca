#include "server/services/clock_watch.h"

#include <cstdlib>

#include "absl/time/clock.h"
#include "common/log.h"
#include "server/services/cluster_probe.h"

namespace custody {

ClockWatch::ClockWatch(Node* node) : node_(node) {
  if (node_->cluster().nodes().size() < 2) return;
  const absl::Time started = absl::Now();
  loop_ = std::make_unique<JobLoop<bool>>([this] { return Check(); },
                                          [started](const std::optional<bool>& last) {
                                            // The first a few seconds in, once the peers may be up.
                                            return last ? absl::Now() + absl::Seconds(30)
                                                        : started + absl::Seconds(3);
                                          });
  loop_->Start();
}

ClockWatch::~ClockWatch() {
  if (loop_) loop_->Stop();
}

bool ClockWatch::Check() {
  const v1::ClusterStatusResponse r = ProbeCluster(node_, nullptr);
  int answered = 0;
  const v1::ClusterNodeStatus* me = nullptr;
  for (const v1::ClusterNodeStatus& n : r.nodes()) {
    answered += n.has_status();
    if (n.id() == node_->node_id()) me = &n;
  }
  if (me == nullptr || answered < 2) return false;  // nothing to compare with
  node_->metrics()->ClockChecked(me->clock_offset_nanos(), me->clock_skewed());
  if (me->clock_skewed()) {
    LOG(WARNING) << "this node's clock is " << std::abs(me->clock_offset_nanos()) / 1e9 << " s "
                 << (me->clock_offset_nanos() > 0 ? "ahead of" : "behind")
                 << " the cluster's: times shown to people are off by that much";
  }
  return true;
}

}  // namespace custody
