// A node's tamper-evident audit log: events in an RFC 6962 Merkle tree with
// Ed25519-signed checkpoints. See doc/audit_log.md.
#ifndef CUSTODY_SERVER_AUDIT_AUDIT_LOG_H_
#define CUSTODY_SERVER_AUDIT_AUDIT_LOG_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/checkpoint.h"
#include "common/ed25519.h"
#include "common/merkle.h"
#include "custody/v1/audit.pb.h"
#include "rocksdb/write_batch.h"
#include "server/storage/commit_hook.h"
#include "server/storage/index.h"

namespace custody {

struct AuditOptions {
  uint64_t checkpoint_every_events = 1000;
  absl::Duration checkpoint_every = absl::Seconds(10);
};

// Which events the register shows (empty or 0 = any).
struct EventFilter {
  std::string actor;   // exactly
  std::string action;  // exactly, or a prefix when it ends in "."
  int64_t from_unix_nanos = 0;
  int64_t to_unix_nanos = 0;  // exclusive
  bool Matches(const v1::AuditEvent& e) const;
};

// Appending belongs to one thread, the Committer's, which puts events in the
// same RocksDB batch as the change they record: Append..., BeforeCommit,
// then OnCommit with the batch's outcome. Readers (Events, Bundle, Verify...) are thread-safe.
class AuditLog : public CommitHook {
 public:
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(Index* index, std::string node_id,
                                                        Ed25519Key key, AuditOptions options);

  // Gives `event` the next sequence number, its time and node, and adds its
  // tree nodes and its subject index entry to `batch`; the event itself goes
  // into the batch's event group, written by BeforeCommit.
  void Append(rocksdb::WriteBatch* batch, v1::AuditEvent event);
  // Adds the batch's event group and the tree's new right edge to `batch`,
  // once per batch, last.
  void BeforeCommit(rocksdb::WriteBatch* batch) override;
  // After the batch holding appended events committed (ok) or failed.
  void OnCommit(bool ok) override;
  // Whether a checkpoint is due (every N events or T seconds of activity).
  bool CheckpointDue() const;
  // Signs a checkpoint over the tree including everything appended so far
  // and puts it in `batch` (committer thread). Returns the signed note.
  absl::StatusOr<std::string> SignCheckpoint(rocksdb::WriteBatch* batch);
  // The commit hook's due work: a checkpoint when CheckpointDue().
  absl::Status AddDue(rocksdb::WriteBatch* batch, bool* added) override;

  const std::string& origin() const { return origin_; }
  uint64_t size() const { return committed_size_; }
  std::string public_key_pem() const { return key_.PublicPem(); }
  const std::string& public_raw() const { return key_.public_raw(); }
  // The node's audit key, which also signs its snapshots and receipts
  // (common/snapshot_format.h).
  const Ed25519Key& key() const { return key_; }

  // Canonical bytes of every event about `subject`, in log order.
  absl::StatusOr<std::vector<std::string>> Events(const std::string& subject);
  // Canonical bytes of the events that pass `filter`, in log order, at most
  // `limit` (then `truncated`), whatever their subject (audit_select.cc).
  absl::StatusOr<std::vector<std::string>> Select(const EventFilter& filter, size_t limit,
                                                  bool* truncated);
  // The latest signed checkpoint note ("" if none yet).
  absl::StatusOr<std::string> LatestCheckpoint();
  // The first signed checkpoint whose time is at or after `unix_nanos` (""
  // if none yet): a binary search over sizes, checkpoint times growing with
  // them.
  absl::StatusOr<std::string> FirstCheckpointAfter(int64_t unix_nanos);
  // The latest checkpoint and a consistency proof from tree size `old_size`
  // to it.
  absl::StatusOr<std::pair<std::string, std::vector<Digest>>> ConsistencyFrom(uint64_t old_size);
  // An RFC 9162 consistency proof from tree size `old_size` to `size` (at
  // most the committed size).
  absl::StatusOr<std::vector<Digest>> ConsistencyProof(uint64_t old_size, uint64_t size);
  // `subject`'s events with inclusion proofs against the latest checkpoint.
  absl::StatusOr<v1::AuditBundle> Bundle(const std::string& subject);
  // Recomputes the tree from the stored events and checks it against every
  // signed checkpoint (and `since_checkpoint`, if given). From event 0, or,
  // with `from` > 0 (a size this node signed a checkpoint for), from the
  // stored tree's perfect subtrees at `from`, checked against that signed
  // root: then only events from `from` on are read.
  v1::AuditVerifyNodeResponse VerifyAll(const std::string& since_checkpoint, uint64_t from = 0);
  // The last checkpoint size a verification reached (RememberVerified), or
  // 0; DATA_LOSS if the record of it is not signed by this node's key.
  absl::StatusOr<uint64_t> LastVerified();
  // Puts "this node verified its log from event 0 up to the checkpoint of
  // `size`", signed with the node's key, into `batch`. The caller makes sure
  // the verification was unbroken from event 0 (it started at 0 or at
  // LastVerified()).
  absl::Status RememberVerified(rocksdb::WriteBatch* batch, uint64_t size);
  // Puts the removal of that record into `batch` (a verification failed).
  void ForgetVerified(rocksdb::WriteBatch* batch);

  struct Verification;  // audit_verify.cc

 private:
  AuditLog() = default;
  absl::StatusOr<Digest> Node(int level, uint64_t index);
  void VerifyEvents(const rocksdb::ReadOptions& ro, uint64_t from, Verification* verification);
  // The compact range at `from` from the stored tree, checked against the
  // signed checkpoint of that size; false (and v's problem) otherwise.
  bool StartAt(const rocksdb::ReadOptions& ro, uint64_t from, merkle::CompactRange* range,
               Verification* v);
  // Events [from, to) one by one onto `joined`, checking the checkpoints
  // they reach.
  bool VerifyHead(const rocksdb::ReadOptions& ro, uint64_t from, uint64_t to,
                  merkle::CompactRange* joined, uint64_t* verified_upto, Verification* v);
  void FinishVerify(const rocksdb::ReadOptions& ro, const merkle::CompactRange& stored,
                    const merkle::CompactRange& joined, uint64_t verified_upto, Verification* v);

  Index* index_ = nullptr;
  std::string node_id_, origin_;
  Ed25519Key key_;
  AuditOptions options_;
  // Committer thread only.
  merkle::CompactRange pending_, committed_;
  std::string group_;  // the events of the batch being built (event_groups.h)
  uint64_t group_first_ = 0;
  std::atomic<uint64_t> committed_size_{0};  // for readers
  uint64_t last_checkpoint_size_ = 0;
  absl::Time last_checkpoint_time_;
};

// A new event (seq, time and node are filled in when it is appended).
v1::AuditEvent NewEvent(absl::string_view action, absl::string_view subject,
                        absl::string_view actor = "anonymous");
void AddDetail(v1::AuditEvent* event, absl::string_view key, absl::string_view value);

// Keys of the audit column families.
std::string EventKey(uint64_t seq);
std::string TreeNodeKey(int level, uint64_t index);
std::string SubjectPrefix(const std::string& subject);
std::string SubjectKey(const std::string& subject, uint64_t seq);

}  // namespace custody

#endif  // CUSTODY_SERVER_AUDIT_AUDIT_LOG_H_
