// What other nodes read from this one (Replica.GetBlob): nodes are not
// readers, so every read a node certificate makes is counted per peer and
// kind for /metrics, and recorded as a `replica.read` audit event: the
// first read of a peer at once, then at most one event a minute per peer
// with the counts since the last (common/event_throttle.h). Thread-safe.
#ifndef CUSTODY_REPLICATION_CLUSTER_NODE_READS_H_
#define CUSTODY_REPLICATION_CLUSTER_NODE_READS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "common/event_throttle.h"
#include "custody/internal/v1/replica.pb.h"
#include "custody/v1/audit.pb.h"

namespace custody {

class NodeReads {
 public:
  // Counts a read of `bytes` of `kind` by node `peer`. Returns the audit
  // event to record now, if one is due.
  std::optional<v1::AuditEvent> Count(const std::string& peer, internal::v1::BlobKind kind,
                                      uint64_t bytes, absl::Time now = absl::Now());

  // Prometheus lines: custody_peer_reads_total{peer,kind} and
  // custody_peer_read_bytes_total{peer}.
  std::string Render() const;

 private:
  struct Since {  // since the last replica.read event of a peer
    uint64_t chunks = 0, manifests = 0, ledger = 0, bytes = 0;
  };
  mutable absl::Mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> reads_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, uint64_t> bytes_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Since> since_ ABSL_GUARDED_BY(mu_);
  EventThrottle throttle_{absl::Minutes(1)};
};

}  // namespace custody

#endif  // CUSTODY_REPLICATION_CLUSTER_NODE_READS_H_
