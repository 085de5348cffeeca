// The offsite peer's store (custodyd --role offsite; doc/offsite.md). Every
// blob of a snapshot (chunk, manifest, ledger entry, audit page) is kept
// content-addressed in the peer's own volumes, write-once and verified when
// read. Snapshots offered and receipts signed are kept in the index's meta
// family; nothing here is ever deleted. A blob a verify found corrupt is
// marked bad until a sync sends it again, and is then written anew.
#ifndef CUSTODY_REPLICATION_OFFSITE_OFFSITE_VAULT_H_
#define CUSTODY_REPLICATION_OFFSITE_OFFSITE_VAULT_H_

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "common/snapshot_format.h"
#include "custody/internal/v1/offsite_peer.grpc.pb.h"
#include "custody/v1/offsite.pb.h"
#include "replication/offsite/object_follower.h"
#include "server/node.h"

namespace custody {

// Thread-safe.
class OffsiteVault {
 public:
  // Chunks that come before their turn in their object are held, up to this
  // many bytes in all, so that they can be hashed into the object in order.
  static constexpr uint64_t kMaxEarlyBytes = 256ull << 20;

  explicit OffsiteVault(Node* node)
      : node_(node),
        follower_([this](const ChunkPosition& at) { return ChunksOf(at); }, kMaxEarlyBytes) {}

  // Checks the snapshot's signature and root, keeps it (offsite.offered),
  // and names its blobs besides chunks that are missing or bad here.
  absl::StatusOr<internal::v1::OfferResponse> Offer(const v1::Snapshot& s, const std::string& from);
  // Which of `keys` are not held intact.
  absl::StatusOr<std::vector<Digest>> FindMissing(const std::vector<Digest>& keys);
  // Stores `data` under `key` durably, then calls `done` with whether it was
  // held intact already; INVALID_ARGUMENT if it does not hash to it. The
  // checks run on the caller's thread; `done` may run later on the
  // committer's thread (no thread waits for the disk), and must not block.
  // Chunks of an object sent with their place (`at`) are hashed into the
  // object's hash in the object's order, whatever order they come in
  // (ObjectFollower); once the last matches the object's id, the object
  // counts as verified and Seal does not read it again.
  void Put(const Digest& key, std::string data, const std::optional<ChunkPosition>& at,
           absl::AnyInvocable<void(absl::StatusOr<bool>) &&> done);
  absl::StatusOr<std::string> Get(const Digest& key);
  // Verifies an offered snapshot completely and signs a receipt for it
  // (offsite.sealed). FAILED_PRECONDITION naming what is missing or wrong.
  absl::StatusOr<v1::Receipt> Seal(const std::string& id, const std::string& from);
  // Re-reads every byte of a sealed snapshot ("" = of all), marks what is
  // corrupt bad, and reports (offsite.verified).
  absl::StatusOr<v1::OffsiteVerifyReport> Verify(const std::string& id, const std::string& actor);
  absl::StatusOr<internal::v1::PeerSnapshotsResponse> ListSealed();
  // Answers a challenge (doc/offsite.md, "Challenges"): SHA-256(nonce ||
  // bytes) of each blob, read through the verifying store no faster than the
  // rate asked; a blob not held intact gets an empty answer, and a corrupt
  // one is marked bad, as a verify marks it.
  absl::StatusOr<internal::v1::ChallengeResponse> Challenge(
      const internal::v1::ChallengeRequest& req);
  absl::StatusOr<internal::v1::PeerStatus> Status();

 private:
  struct Check;  // offsite_vault_check.cc
  absl::Status CheckContents(const v1::SnapshotBody& body, bool reread_all, Check* check);
  absl::Status CheckObject(const v1::SnapshotObject& o, bool reread, Check* check);
  absl::Status CheckAuditLogs(const v1::SnapshotBody& body, Check* check);
  absl::StatusOr<std::string> Read(const Digest& key, Check* check);
  absl::StatusOr<std::optional<std::string>> GetMeta(const std::string& key);
  absl::Status PutMeta(std::vector<std::pair<std::string, std::string>> kv,
                       std::optional<v1::AuditEvent> event);
  absl::StatusOr<v1::Snapshot> Offered(const std::string& id);
  absl::StatusOr<bool> IsBad(const Digest& key);
  enum class Admission { kHeld, kNew, kBad };
  // A blob's checks before it is stored (hash, follow, held or bad here).
  absl::StatusOr<Admission> Admit(const Digest& key, const std::shared_ptr<const std::string>& data,
                                  const std::optional<ChunkPosition>& at);
  // Stores a new copy of a blob marked bad, and logs the repair.
  absl::Status Repair(const Digest& key, std::string data);

  // The chunk list of the object at `at`, from its manifest here.
  std::optional<std::vector<std::string>> ChunksOf(const ChunkPosition& at);

  Node* node_;
  ObjectFollower follower_;
  std::atomic<uint64_t> blobs_received_{0}, bytes_received_{0}, already_held_{0};
  std::atomic<uint64_t> read_back_{0};  // objects a seal hashed again
};

}  // namespace custody

#endif  // CUSTODY_REPLICATION_OFFSITE_OFFSITE_VAULT_H_
