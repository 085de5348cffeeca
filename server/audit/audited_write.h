// The one way to change the index with its audit event: both go into one
// RocksDB batch that the committer applies in order with the volume writes,
// so that no change is ever without its event (or the reverse).
#ifndef CUSTODY_SERVER_AUDIT_AUDITED_WRITE_H_
#define CUSTODY_SERVER_AUDIT_AUDITED_WRITE_H_

#include <atomic>
#include <deque>
#include <functional>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "custody/v1/audit.pb.h"
#include "rocksdb/write_batch.h"
#include "server/audit/audit_log.h"
#include "server/storage/committer.h"

namespace custody {

// Applies `writes` (may be null) and appends `event` (if any; `audit` may be
// null on a node without a log, as in unit tests) in one batch, and waits
// until it is durable. Thread-safe.
absl::Status AuditedIndexWrite(Committer* committer, AuditLog* audit,
                               std::optional<v1::AuditEvent> event,
                               const std::function<void(rocksdb::WriteBatch*)>& writes = nullptr);

// The node's audit trail as most subsystems see it: record a change's event,
// or an index change together with its event, durably. Thread-safe.
class AuditTrail {
 public:
  // `audit` may be null (unit tests of a store without a log).
  AuditTrail(Committer* committer, AuditLog* audit) : committer_(committer), audit_(audit) {}

  // Appends `event` and waits until it is durable; events held for lack of
  // space (RecordOrHold) are appended first, in their order. For an event
  // that must be on record before its action happens (a read): when it
  // cannot be, the action is refused. Thread-safe.
  absl::Status Record(v1::AuditEvent event) { return Append(std::move(event), false); }
  // For an event about what already happened (a refusal, a start, a stop, a
  // finding): refused for lack of space (RESOURCE_EXHAUSTED), it is held in
  // memory, up to kMaxHeld (beyond, only counted), and appended by the next
  // Record or Flush that finds room; the error is still returned.
  absl::Status RecordOrHold(v1::AuditEvent event) { return Append(std::move(event), true); }
  // Appends the events held for lack of space now; OK when none is left.
  absl::Status Flush();
  // For a thread that must not wait for a write (a store's callback): holds
  // `event` to be appended by the next Record or Flush (the node flushes
  // every 2 s, server/node_space_watch.h).
  void Enqueue(v1::AuditEvent event);
  // Events held for lack of space, and those dropped beyond kMaxHeld.
  size_t held() const;
  uint64_t dropped() const;
  static constexpr size_t kMaxHeld = 10000;
  // AuditedIndexWrite through this trail.
  absl::Status Write(std::optional<v1::AuditEvent> event,
                     const std::function<void(rocksdb::WriteBatch*)>& writes = nullptr) {
    return AuditedIndexWrite(committer_, audit_, std::move(event), writes);
  }
  // Signs a checkpoint over the log as it is now (or returns the latest if
  // nothing was logged since), durably.
  absl::StatusOr<std::string> SignCheckpointNow();
  // The log itself, for readers (its size, its key); null without one.
  AuditLog* log() const { return audit_; }

 private:
  absl::Status Append(v1::AuditEvent event, bool hold);
  // Appends the held events (and, after them, an event counting any that
  // were dropped), oldest first, until one is refused.
  absl::Status AppendHeld() ABSL_EXCLUSIVE_LOCKS_REQUIRED(held_mu_);

  Committer* committer_;
  AuditLog* audit_;
  std::atomic<bool> holding_{false};  // held_ or dropped_ is not empty
  mutable absl::Mutex held_mu_;
  std::deque<v1::AuditEvent> held_ ABSL_GUARDED_BY(held_mu_);
  uint64_t dropped_ ABSL_GUARDED_BY(held_mu_) = 0;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_AUDIT_AUDITED_WRITE_H_
