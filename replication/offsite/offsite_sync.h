// Sending a snapshot to the offsite peer (custody offsite sync;
// doc/offsite.md, "Sync"): offer it, learn what the peer lacks by content
// address, send only that, in parallel and paced, then ask the peer to verify
// everything and keep its signed receipt as an audit event. A sync that was
// cut resumes by running again: what the peer holds durably is not sent twice.
#ifndef CUSTODY_REPLICATION_OFFSITE_OFFSITE_SYNC_H_
#define CUSTODY_REPLICATION_OFFSITE_OFFSITE_SYNC_H_

#include <string>

#include "absl/status/statusor.h"
#include "custody/v1/offsite.pb.h"
#include "replication/offsite/offsite_client.h"
#include "replication/offsite/snapshot_maker.h"
#include "server/node.h"

namespace custody {

struct SyncOptions {
  std::string peer;                    // the peer's address, for the receipt's record
  uint64_t rate_bytes_per_second = 0;  // 0: unlimited
  int streams = 12;                    // blobs in flight
  std::string actor;                   // who asked
};

// Blocks until the peer returned its receipt, or fails naming why (the peer
// or a node unreachable, a blob the cluster cannot read).
absl::StatusOr<v1::SyncResult> SyncSnapshot(Node* node, const KnownSnapshot& snapshot,
                                            OffsiteClient* peer, const SyncOptions& options);

// A blob of a snapshot that is not a chunk (a manifest, ledger entry or audit
// page), read from wherever in the cluster it is.
using BlobSource = std::function<absl::StatusOr<std::string>()>;
absl::StatusOr<std::map<Digest, BlobSource>> SnapshotBlobSources(
    Node* node, const v1::SnapshotBody& body, const std::vector<v1::ObjectManifest>& manifests);

}  // namespace custody

#endif  // CUSTODY_REPLICATION_OFFSITE_OFFSITE_SYNC_H_
