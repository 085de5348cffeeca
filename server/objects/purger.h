// Purge on one node (doc/records.md, "Purge"): the local effect of a
// `purge.executed` ledger entry, which names the chunks no retained object
// uses. Every node applies every such entry it holds, when it is stored and
// again at start-up, so a node that was down purges when it catches up.
//
// For each chunk, one RocksDB batch writes a tombstone (meta
// "purged/c/" + SHA-256, holding where the entry was and the request) and
// removes the chunk's index entry; then the payload is punched out of its
// volume (the entry header stays, so scans go on; see Volume::Scan). A crash
// between the two is finished by the next Apply, from the tombstone.
// Manifests, records and audit events are never removed.
//
// Thread-safe (one purge at a time).
#ifndef CUSTODY_SERVER_OBJECTS_PURGER_H_
#define CUSTODY_SERVER_OBJECTS_PURGER_H_

#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/digest.h"
#include "custody/v1/access.pb.h"

namespace custody {

class AuditTrail;
class Index;
class LedgerFold;
class VolumeSet;

class Purger {
 public:
  // Tombstones go to `index` with their events through `trail`; payloads are
  // punched out of `volumes`; ApplyAll reads the purges of `fold`.
  Purger(Index* index, VolumeSet* volumes, AuditTrail* trail, LedgerFold* fold)
      : index_(index), volumes_(volumes), trail_(trail), fold_(fold) {}

  // Applies one `purge.executed` entry (others are ignored).
  absl::Status Apply(const v1::LedgerEntry& entry);
  // Applies every executed purge in the ledger (start-up): reads the purge
  // entries only.
  absl::Status ApplyAll();
  // Whether `chunk` was purged on this node.
  absl::StatusOr<bool> IsPurged(const Digest& chunk);
  // Of `chunks`, those that a manifest held on this node uses, other than
  // the manifests of `exclude` (object ids, "sha256:<hex>").
  absl::StatusOr<std::vector<Digest>> InUse(const std::vector<Digest>& chunks,
                                            const std::set<std::string>& exclude);

  // The tombstone key of `chunk`.
  static std::string TombstoneKey(const Digest& chunk);
  // Whether `index` holds a tombstone for `chunk` (for writers that must not
  // store a purged chunk again: uploads, peers).
  static absl::StatusOr<bool> IsTombstoned(Index* index, const Digest& chunk);

 private:
  Index* index_;
  VolumeSet* volumes_;
  AuditTrail* trail_;
  LedgerFold* fold_;
  absl::Mutex mu_;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_OBJECTS_PURGER_H_
