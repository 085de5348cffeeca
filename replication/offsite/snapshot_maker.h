// Making offsite snapshots and finding them again (doc/offsite.md). A
// snapshot is kept as a security-ledger entry (kind snapshot.created, subject
// snapshot:ID), so that every node holds every snapshot and a restored
// cluster gets its older snapshots back; a receipt from the offsite peer is
// another entry (kind offsite.receipt) about the same subject.
#ifndef CUSTODY_REPLICATION_OFFSITE_SNAPSHOT_MAKER_H_
#define CUSTODY_REPLICATION_OFFSITE_SNAPSHOT_MAKER_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "custody/v1/manifest.pb.h"
#include "custody/v1/offsite.pb.h"
#include "server/node.h"

namespace custody {

// A snapshot as the ledger holds it, with its receipt if one came back.
struct KnownSnapshot {
  v1::Snapshot snapshot;
  v1::SnapshotBody body;
  std::optional<v1::Receipt> receipt;
  v1::ReceiptBody receipt_body;
  std::string receipt_peer;  // the address it was sent to
};

// Every object some node of the cluster holds a manifest of, by raw id.
// UNAVAILABLE naming a node that does not answer.
absl::StatusOr<std::map<std::string, v1::SnapshotObject>> ClusterObjects(Node* node);

// What a snapshot names, gathered from every node of the cluster: every
// object (manifests are asked of every node), every ledger entry, and every
// node's audit log up to a checkpoint signed now. UNAVAILABLE, naming the
// node, if one does not answer: a snapshot is never partial.
absl::StatusOr<v1::SnapshotBody> GatherSnapshot(Node* node);

// Gathers, signs with this node's audit key, and keeps a new snapshot in the
// ledger, with its audit event (snapshot.created) by `actor`.
absl::StatusOr<KnownSnapshot> MakeSnapshot(Node* node, const std::string& reason,
                                           const std::string& actor);

// Every snapshot in the ledger, oldest first, each with its latest receipt.
absl::StatusOr<std::vector<KnownSnapshot>> KnownSnapshots(Node* node);
// One of them ("" = the latest); NOT_FOUND naming it otherwise.
absl::StatusOr<KnownSnapshot> FindSnapshot(Node* node, const std::string& id);

// Keeps a receipt the peer at `peer` signed for a snapshot (offsite.receipt).
absl::Status KeepReceipt(Node* node, const v1::Receipt& receipt, const std::string& peer,
                         const std::string& actor);

// The manifest of every object of `body` that is not purged, in body order,
// from this node or another.
absl::StatusOr<std::vector<v1::ObjectManifest>> SnapshotManifests(Node* node,
                                                                  const v1::SnapshotBody& body);

v1::SnapshotSummary Summarize(const KnownSnapshot& s);

}  // namespace custody

#endif  // CUSTODY_REPLICATION_OFFSITE_SNAPSHOT_MAKER_H_
