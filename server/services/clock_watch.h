// Checks this node's clock against the cluster's every 30 s (a cluster of
// more than one node): the same probe as `custody cluster status`, its own
// offset from the median of the answering nodes' clocks into the metrics
// (custody_clock_offset_seconds, custody_clock_skewed), and a warning in the
// log when it is beyond the bound. The ledger's order does not depend on it
// (common/hybrid_clock.h); people's times do.
//
// Thread-safe.
#ifndef CUSTODY_SERVER_SERVICES_CLOCK_WATCH_H_
#define CUSTODY_SERVER_SERVICES_CLOCK_WATCH_H_

#include <memory>

#include "common/job_loop.h"
#include "server/node.h"

namespace custody {

class ClockWatch {
 public:
  explicit ClockWatch(Node* node);
  ~ClockWatch();  // stops the checks

 private:
  bool Check();

  Node* node_;
  std::unique_ptr<JobLoop<bool>> loop_;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_SERVICES_CLOCK_WATCH_H_
