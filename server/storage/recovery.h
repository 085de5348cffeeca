// Bringing the index in line with the volumes: after a crash (the tail of
// the active volume) and after the index was lost (every volume).
#ifndef CUSTODY_SERVER_STORAGE_RECOVERY_H_
#define CUSTODY_SERVER_STORAGE_RECOVERY_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "server/storage/index.h"
#include "server/storage/volume_set.h"

namespace custody {

struct RecoveryStats {
  uint64_t entries_scanned = 0;
  uint64_t chunks_indexed = 0;   // chunk entries the index did not have
  uint64_t objects_indexed = 0;  // manifests the index did not have
  uint64_t torn_bytes = 0;       // quarantined tail bytes
  double seconds = 0;            // RebuildIndex: how long it took
};

// Scans the active volume from its durable end: complete, valid entries
// written before a crash are indexed; a torn or invalid tail is copied to
// the quarantine folder and cut off. Run before the Committer starts.
// `sealer` checks sealed chunks (null: the node has no --data-key).
absl::StatusOr<RecoveryStats> RecoverActiveVolume(Index* index, VolumeSet* volumes,
                                                  const ChunkSealer* sealer = nullptr);

// Rebuilds the chunk index, object manifests and volume states from the
// volumes alone, verifying every entry's hash. `index` should be empty.
absl::StatusOr<RecoveryStats> RebuildIndex(Index* index, VolumeSet* volumes,
                                           const ChunkSealer* sealer = nullptr);

}  // namespace custody

#endif  // CUSTODY_SERVER_STORAGE_RECOVERY_H_
