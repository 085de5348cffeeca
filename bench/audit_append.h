// Appending audit events to a node's log as fast as the committer takes
// them: what custody_audit_bench and custody_attest_bench time.
#ifndef CUSTODY_BENCH_AUDIT_APPEND_H_
#define CUSTODY_BENCH_AUDIT_APPEND_H_

#include <cstdint>

#include "server/node.h"

namespace custody {

// A typical event (an object read by a peer), the i-th of a run.
v1::AuditEvent SampleEvent(uint64_t i);
// Submits `n` events without waiting for each (group commit, each durable
// before it is acknowledged), at most `window` in flight (0: all at once);
// returns events/s.
double AppendEvents(Node* node, uint64_t n, uint64_t window = 0);

}  // namespace custody

#endif  // CUSTODY_BENCH_AUDIT_APPEND_H_
