// The offsite snapshot and receipt formats (doc/offsite.md): how a snapshot's
// Merkle root is computed, how snapshots and receipts are signed and checked,
// and the audit-log pages a snapshot names. Pure functions over bytes, shared
// by the cluster (which makes and restores snapshots) and the offsite peer
// (which verifies them).
#ifndef CUSTODY_COMMON_SNAPSHOT_FORMAT_H_
#define CUSTODY_COMMON_SNAPSHOT_FORMAT_H_

#include <google/protobuf/message.h>

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "common/checkpoint.h"
#include "common/deterministic_bytes.h"
#include "common/digest.h"
#include "common/ed25519.h"
#include "common/merkle.h"
#include "custody/v1/access.pb.h"
#include "custody/v1/offsite.pb.h"

namespace custody {

// Events per audit page. A page is each event's canonical encoding after its
// varint32 length; only the last page of a log is partial, so a log that grew
// since the last snapshot shares all its full pages with it.
inline constexpr uint64_t kAuditPageEvents = 2048;

// Leaves, one per item, in this order: every object
// ("object" 0x00 id manifest_sha256 purged-byte), every ledger entry
// ("ledger" 0x00 id), every audit log ("audit" 0x00 node_id 0x00 public_key
// checkpoint 0x00 pages...). The root is RFC 6962's over their leaf hashes.
Digest SnapshotRoot(const v1::SnapshotBody& body);

// "snap-YYYYMMDDTHHMMSSZ-<8 hex>" from the creation time and the root.
std::string SnapshotId(int64_t created_unix_nanos, const Digest& root);

// Sets body->merkle_root and body->id, then signs it with `key` as `signer`.
absl::StatusOr<v1::Snapshot> SignSnapshot(v1::SnapshotBody body, const std::string& signer,
                                          const Ed25519Key& key);
// The body of `s` if its signature holds, its root is the root of what it
// names, its id fits, and the signer's key is the one its own audit log
// names. DATA_LOSS saying what is wrong otherwise.
absl::StatusOr<v1::SnapshotBody> CheckSnapshot(const v1::Snapshot& s);

absl::StatusOr<v1::Receipt> SignReceipt(const v1::ReceiptBody& body, const Ed25519Key& key);
// The body if the signature by the key it carries holds.
absl::StatusOr<v1::ReceiptBody> CheckReceipt(const v1::Receipt& r);

// Where a chunk sits in its object (the manifest's chunk `index`), sent with
// chunks sent in order so the peer can hash the object as it arrives.
struct ChunkPosition {
  Digest object, manifest;
  uint32_t index = 0;
};

// Snapshots and receipts are kept as security-ledger entries of these kinds
// about "snapshot:ID" (replication/offsite/snapshot_maker.h), the Snapshot or Receipt
// in base64 in the field "snapshot" or "receipt".
inline constexpr char kSnapshotEntryKind[] = "snapshot.created";
inline constexpr char kReceiptEntryKind[] = "offsite.receipt";
// The checked snapshot, or the receipt's signed body, an entry carries.
absl::StatusOr<v1::Snapshot> SnapshotOfEntry(const v1::LedgerEntry& e);
absl::StatusOr<v1::Receipt> ReceiptOfEntry(const v1::LedgerEntry& e);

// Every blob key a snapshot names besides the objects' chunks: manifests,
// ledger entries and audit pages.
std::vector<Digest> SnapshotBlobKeys(const v1::SnapshotBody& body);

// Checks one node's audit log page by page against its signed checkpoint:
// AddPage in order, then Finish. `on_event` (optional) sees every event.
class AuditPageVerifier {
 public:
  static absl::StatusOr<AuditPageVerifier> Start(const v1::SnapshotAuditLog& log);

  absl::Status AddPage(absl::string_view page,
                       const std::function<void(absl::string_view event)>& on_event = nullptr);
  // OK when the pages held exactly the checkpoint's events and their tree
  // root is the signed one.
  absl::Status Finish() const;
  uint64_t events() const { return range_.size(); }
  uint64_t expected() const { return checkpoint_.size; }  // the checkpoint's events

 private:
  AuditPageVerifier() = default;
  std::string node_;
  Checkpoint checkpoint_;
  uint64_t pages_ = 0;
  merkle::CompactRange range_;
};

}  // namespace custody

#endif  // CUSTODY_COMMON_SNAPSHOT_FORMAT_H_
