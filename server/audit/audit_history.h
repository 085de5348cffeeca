// Audit logs of an earlier cluster, brought back by a restore from the
// offsite copy (doc/offsite.md, "Restore"). Each is kept as it was signed:
// its events, its node's public key and the checkpoint the snapshot named,
// under "history/" keys of the index's meta family. A log counts only once
// its checkpoint is written, which the restore does after verifying every
// page against it. Nothing here is ever changed or removed.
//
//   history/<node>/k                   raw Ed25519 public key
//   history/<node>/c                   the signed checkpoint note (last)
//   history/<node>/e/<be64 seq>        the event's canonical encoding
//   history/<node>/s/<subject> 0x00 <be64 seq>   subject index, empty value
//   history-logs/<node>                 one per committed log, empty value
#ifndef CUSTODY_SERVER_AUDIT_AUDIT_HISTORY_H_
#define CUSTODY_SERVER_AUDIT_AUDIT_HISTORY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "custody/v1/audit.pb.h"
#include "server/storage/committer.h"
#include "server/storage/index.h"

namespace custody {

class AuditLog;

// Thread-safe.
class AuditHistory {
 public:
  AuditHistory(Index* index, Committer* committer, AuditLog* audit)
      : index_(index), committer_(committer), audit_(audit) {}

  // Writes events [first, first + events.size()) of `node`'s old log.
  absl::Status AddEvents(const std::string& node, uint64_t first,
                         const std::vector<std::string>& events);
  // Makes `node`'s log count, with its key and checkpoint, and logs
  // audit.history-restored here. ALREADY_EXISTS if one was restored before.
  absl::Status Commit(const std::string& node, const std::string& public_key,
                      const std::string& checkpoint, const std::string& snapshot);
  // Whether `node`'s log up to `checkpoint` was committed here already.
  absl::StatusOr<bool> Has(const std::string& node, const std::string& checkpoint);
  // The canonical encodings of every restored event about `subject`.
  absl::StatusOr<std::vector<std::string>> Events(const std::string& subject);
  // Recomputes each restored log's tree against its signed checkpoint.
  absl::StatusOr<std::vector<v1::RestoredLogCheck>> Verify();

 private:
  absl::StatusOr<std::vector<std::string>> Nodes();
  v1::RestoredLogCheck VerifyOne(const std::string& node);

  Index* index_;
  Committer* committer_;
  AuditLog* audit_;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_AUDIT_AUDIT_HISTORY_H_
