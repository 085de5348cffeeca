// What a restore from the offsite peer may use (doc/offsite.md, "Which
// snapshot a restore uses"). The peer keeps what any node of its CA sends
// it, so its latest sealed snapshot may be an empty one (a fresh node
// synced it) or another cluster's. The restoring node refuses both unless
// the request says so: a snapshot that names no object, and one signed by a
// key the cluster does not know. The keys a cluster knows are its nodes'
// audit keys as its ledger's snapshots name them, and this node's own; a
// wiped cluster knows none of its old ones, so its restore names the key
// (RestoreRequest.trusted_signer_keys, `--trust-signer-key`).
#ifndef CUSTODY_REPLICATION_OFFSITE_RESTORE_GUARD_H_
#define CUSTODY_REPLICATION_OFFSITE_RESTORE_GUARD_H_

#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "custody/v1/offsite.pb.h"
#include "replication/offsite/offsite_client.h"
#include "server/node.h"

namespace custody {

// A snapshot the peer sealed, checked with its receipt.
struct SealedSnapshot {
  v1::Snapshot snapshot;
  v1::SnapshotBody body;
  v1::ReceiptBody receipt;
};

// The snapshot if it passes CheckSnapshot and its receipt holds and names
// its id and root; DATA_LOSS otherwise.
absl::StatusOr<SealedSnapshot> CheckSealed(const v1::Snapshot& s, const v1::Receipt& r);

// The raw Ed25519 keys this node's cluster knows as its own: this node's
// audit key, and the signer's and every audit log's key of each snapshot in
// its ledger.
absl::StatusOr<std::set<std::string>> KnownSignerKeys(Node* node);

// The sealed snapshots of the peer at `address`, oldest first, each checked
// (a failure is its `problem`) and marked whether its signer is known.
absl::StatusOr<v1::PeerSnapshotList> ListPeerSnapshots(Node* node, OffsiteClient* peer,
                                                       const std::string& address);

// OK if `request` may restore `s`; sets the snapshot's fields of `result`
// (what it names, its signer, what was forced). Otherwise
// FAILED_PRECONDITION naming every reason and the flag that overrides it,
// logged as restore.refused about snapshot:ID; INVALID_ARGUMENT for a
// trusted key that is not 16 to 64 hex digits.
absl::Status AdmitRestore(Node* node, const SealedSnapshot& s, const v1::RestoreRequest& request,
                          const std::string& peer, const std::string& actor,
                          v1::RestoreResult* result);

}  // namespace custody

#endif  // CUSTODY_REPLICATION_OFFSITE_RESTORE_GUARD_H_
