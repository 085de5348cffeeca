// What a node tells a snapshot about itself (doc/offsite.md): the objects it
// holds manifests of, and its audit log up to a checkpoint signed for the
// snapshot, page by page. Served to the snapshot's maker through the Replica
// service, and used directly by the node that makes it.
#ifndef CUSTODY_REPLICATION_OFFSITE_SNAPSHOT_SOURCE_H_
#define CUSTODY_REPLICATION_OFFSITE_SNAPSHOT_SOURCE_H_

#include <string>

#include "absl/status/statusor.h"
#include "custody/internal/v1/replica.pb.h"

namespace custody {

class Node;

// Up to `limit` objects after the raw id `after` (empty: from the first), in
// id order, each with the SHA-256 of its manifest's deterministic encoding
// and whether a purge removed its data here.
absl::StatusOr<internal::v1::ListObjectsResponse> ListLocalObjects(Node* node,
                                                                   const std::string& after,
                                                                   uint32_t limit);

// Signs a checkpoint over the log as it is now and names the log's pages up
// to it (common/snapshot_format.h).
absl::StatusOr<v1::SnapshotAuditLog> LocalAuditLog(Node* node);

// Page `page` of the log's first `upto` events.
absl::StatusOr<std::string> LocalAuditPage(Node* node, uint64_t page, uint64_t upto);

}  // namespace custody

#endif  // CUSTODY_REPLICATION_OFFSITE_SNAPSHOT_SOURCE_H_
