// Which objects use a chunk, from the manifests one node holds: for the
// purger (is a chunk still used by an object that is not purged?) and the
// scrubber (an event about a chunk is filed under every object using it).
#ifndef CUSTODY_SERVER_STORAGE_MANIFEST_SCAN_H_
#define CUSTODY_SERVER_STORAGE_MANIFEST_SCAN_H_

#include <map>
#include <set>
#include <string>

#include "absl/status/statusor.h"

namespace custody {

class Index;

// The objects ("sha256:<hex>") whose manifests `index` holds that use any of
// `chunks` (raw SHA-256 values), each with the ones of `chunks` it uses. One
// pass over every manifest, at the index's read speed; DATA_LOSS for a
// manifest that does not parse. Thread-safe (reads a RocksDB snapshot).
absl::StatusOr<std::map<std::string, std::set<std::string>>> ObjectsUsingChunks(
    Index& index, const std::set<std::string>& chunks);

}  // namespace custody

#endif  // CUSTODY_SERVER_STORAGE_MANIFEST_SCAN_H_
