// What the committer tells a listener about every group it commits. The audit
// log implements it (server/audit/audit_log.h): its events go into the same
// RocksDB batch as the change they record, and checkpoints are signed when due.
#ifndef CUSTODY_SERVER_STORAGE_COMMIT_HOOK_H_
#define CUSTODY_SERVER_STORAGE_COMMIT_HOOK_H_

#include "absl/status/status.h"
#include "rocksdb/write_batch.h"

namespace custody {

// Called on the committer thread only, in this order per batch: BeforeCommit,
// then OnCommit with the batch's outcome. Must not block on the committer.
class CommitHook {
 public:
  virtual ~CommitHook() = default;
  // Adds the hook's own entries to `batch`, last, once per batch.
  virtual void BeforeCommit(rocksdb::WriteBatch* batch) = 0;
  // After the batch committed (ok) or failed.
  virtual void OnCommit(bool ok) = 0;
  // When idle or after a committed batch: puts whatever is due now (a signed
  // checkpoint) into `batch`; returns false if nothing is due.
  virtual absl::Status AddDue(rocksdb::WriteBatch* batch, bool* added) = 0;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_STORAGE_COMMIT_HOOK_H_
