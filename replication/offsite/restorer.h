// Restoring a cluster from the offsite peer (custody restore --from-offsite;
// doc/offsite.md, "Restore"). Into a cluster that holds no object yet, the
// coordinating node brings back, from a snapshot the peer sealed:
//   - every ledger entry (users, grants, records, devices, purges, earlier
//     snapshots), stored and sent to every node (ledger.restored);
//   - every object: its chunks fetched in parallel, each checked against its
//     hash, the whole file against its id, stored on its home nodes, then its
//     manifest (object.restored);
//   - every old node's audit log, checked page by page against the
//     checkpoint its node signed, kept on this node (server/audit/audit_history.h);
// and logs cluster.restored about the snapshot.
#ifndef CUSTODY_REPLICATION_OFFSITE_RESTORER_H_
#define CUSTODY_REPLICATION_OFFSITE_RESTORER_H_

#include <string>

#include "absl/status/statusor.h"
#include "custody/v1/offsite.pb.h"
#include "replication/offsite/offsite_client.h"
#include "server/node.h"

namespace custody {

// Blocks until done. FAILED_PRECONDITION if a node of the cluster holds an
// object already, or (restore_guard.h) if the snapshot is empty or signed by
// a key the cluster does not know and `request` does not allow it;
// DATA_LOSS naming the first blob that does not verify. With
// request.dry_run, returns after those checks with only the snapshot's
// fields set.
absl::StatusOr<v1::RestoreResult> RestoreFromOffsite(Node* node, OffsiteClient* peer,
                                                     const v1::RestoreRequest& request,
                                                     const std::string& peer_address,
                                                     const std::string& actor);

}  // namespace custody

#endif  // CUSTODY_REPLICATION_OFFSITE_RESTORER_H_
