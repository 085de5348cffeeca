// Storing an object's manifest: shared by an upload that finishes on this
// node and by a coordinator placing the manifest here as a replica.
#ifndef CUSTODY_SERVER_OBJECTS_MANIFEST_WRITER_H_
#define CUSTODY_SERVER_OBJECTS_MANIFEST_WRITER_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "custody/v1/audit.pb.h"
#include "rocksdb/write_batch.h"
#include "server/audit/audit_log.h"
#include "server/storage/committer.h"
#include "server/storage/index.h"

namespace custody {

// Writes `manifest` (a serialized ObjectManifest of object `id`) durably as a
// volume entry and, unless the node already held the object, in the objects
// index. In the same RocksDB batch: the audit event `make_event(held)` (if
// `audit` is set) and whatever `extra` adds. Returns whether the object was
// already held. Blocks until durable; call it from a worker.
absl::StatusOr<bool> WriteManifest(Committer* committer, Index* index, AuditLog* audit,
                                   const Digest& id, std::string manifest,
                                   std::function<v1::AuditEvent(bool held)> make_event,
                                   std::function<void(rocksdb::WriteBatch*)> extra = nullptr);

}  // namespace custody

#endif  // CUSTODY_SERVER_OBJECTS_MANIFEST_WRITER_H_
