// The one way to change the index with its audit event: both go into one
// RocksDB batch that the committer applies in order with the volume writes,
// so that no change is ever without its event (or the reverse).
#ifndef CUSTODY_SERVER_AUDITED_WRITE_H_
#define CUSTODY_SERVER_AUDITED_WRITE_H_

#include <functional>
#include <optional>

#include "absl/status/status.h"
#include "custody/v1/audit.pb.h"
#include "rocksdb/write_batch.h"
#include "server/audit_log.h"
#include "server/committer.h"

namespace custody {

// Applies `writes` (may be null) and appends `event` (if any; `audit` may be
// null on a node without a log, as in unit tests) in one batch, and waits
// until it is durable. Thread-safe.
absl::Status AuditedIndexWrite(Committer* committer, AuditLog* audit,
                               std::optional<v1::AuditEvent> event,
                               const std::function<void(rocksdb::WriteBatch*)>& writes = nullptr);

}  // namespace custody

#endif  // CUSTODY_SERVER_AUDITED_WRITE_H_
