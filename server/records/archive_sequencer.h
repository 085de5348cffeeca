// Who hands out archive numbers when any node of a cluster may archive
// (doc/records.md, "Archive numbers"; doc/etcd.md). Without one, a prefix's
// numbers come from its owner node (RecordKeeper::Archive).
#ifndef CUSTODY_SERVER_RECORDS_ARCHIVE_SEQUENCER_H_
#define CUSTODY_SERVER_RECORDS_ARCHIVE_SEQUENCER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace custody {

// A number reserved for a record and not yet known to be in the ledger.
struct ArchiveReservation {
  std::string record_id, prefix, actor;
  uint64_t sequence = 0;
  int64_t reserved_unix_seconds = 0;  // 0: not known (as old as can be)
};

// Implementations are thread-safe.
class ArchiveSequencer {
 public:
  virtual ~ArchiveSequencer() = default;
  // The sequence of `prefix` that record `record_id` is numbered with: the
  // one it was given before (a retry, or a crash between the reservation and
  // the ledger entry), else the next after max(the prefix's last, `at_least`)
  // -- reserved together with the record's claim, so that every number
  // belongs to exactly one record. `actor` is who archives (for a repair).
  virtual absl::StatusOr<uint64_t> Reserve(const std::string& prefix, const std::string& record_id,
                                           uint64_t at_least, const std::string& actor) = 0;
  // Reservations whose ledger entry may not have been written (some are
  // archives still in progress on their node: see reserved_unix_seconds).
  virtual absl::StatusOr<std::vector<ArchiveReservation>> Pending() = 0;
  // The ledger holds record `record_id`'s archive entry: not pending anymore.
  virtual absl::Status Done(const std::string& record_id) = 0;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_RECORDS_ARCHIVE_SEQUENCER_H_
