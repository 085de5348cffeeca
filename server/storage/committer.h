// The single writer of a node: appends entries to the active volume in
// groups, syncs them, and only then makes their index entries visible.
#ifndef CUSTODY_SERVER_STORAGE_COMMITTER_H_
#define CUSTODY_SERVER_STORAGE_COMMITTER_H_

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/write_batch.h"
#include "server/storage/chunk_sealer.h"
#include "server/storage/commit_hook.h"
#include "server/storage/file_writer.h"
#include "server/storage/index.h"
#include "server/storage/volume_set.h"

namespace custody {

struct WriteResult {
  Location location;     // where the entry is (for kChunk)
  bool existed = false;  // nothing was written: the key was already held
};

struct WriteRequest {
  EntryType type = EntryType::kChunk;
  // What makes the entry unique: a chunk's hash (which must be SHA-256 of
  // `payload`, or of what a sealed payload seals) or a manifest's object id. A key already in the
  // index (chunks or objects family) is not written again.
  Digest key;
  std::string payload;
  // The payload when its bytes are shared with another holder (who must not
  // change them; the offsite peer's object follower keeps early chunks so):
  // used instead of `payload` when set.
  std::shared_ptr<const std::string> shared_payload;
  // A sealed chunk's entry payload is head + payload + tail (SealedParts),
  // staged without joining them first; both empty otherwise.
  std::string head;
  std::string tail;
  // No volume entry: only on_index's changes (e.g. audit events).
  bool index_only = false;
  // A chunk written again although the index has it, the index then pointing
  // to the new copy: the scrubber's repair of a corrupt one.
  bool replace = false;
  // Adds the caller's own index changes to the group's batch; runs on the
  // committer thread whether or not the entry existed.
  absl::AnyInvocable<void(rocksdb::WriteBatch*, const WriteResult&)> on_index;
  // Called once, on the committer thread, after the group is durable (or
  // failed). Must not block.
  absl::AnyInvocable<void(absl::StatusOr<WriteResult>) &&> done;

  absl::string_view body() const { return shared_payload ? *shared_payload : payload; }
  // The length of the entry's payload in the volume.
  size_t size() const { return head.size() + body().size() + tail.size(); }
};

struct CommitterOptions {
  uint64_t max_batch_bytes = 32ull << 20;   // per group commit
  uint64_t max_queued_bytes = 64ull << 20;  // Submit blocks above this
  // The soft reserve: below it (plus what a group writes), writes of
  // volume entries (chunks, manifests) are refused, while index-only writes
  // (audit events, decisions, upload state) go on until the hard reserve.
  uint64_t min_free_bytes = 64ull << 20;
  // With --data-key: manifest entries are sealed before they reach a
  // volume (kSealedManifest), as chunks are by their writers.
  const ChunkSealer* sealer = nullptr;
};

// Thread-safe. Durability contract: `done` reports OK only after the entry's
// bytes were fdatasync'ed and the index batch was committed with a synced
// WAL; an index entry never points to unsynced data.
class Committer {
 public:
  // `hook` (may be null; the audit log) adds to every group's batch and
  // learns its outcome (server/storage/commit_hook.h).
  Committer(Index* index, VolumeSet* volumes, std::unique_ptr<FileWriter> writer,
            CommitterOptions options, CommitHook* hook = nullptr);
  ~Committer();  // drains the queue, then stops

  // Queues `r`; blocks while more than max_queued_bytes are queued, except
  // on the committer thread itself (from a callback), where it never blocks.
  void Submit(WriteRequest r);
  // Submit and wait for the result. INTERNAL on the committer thread, where
  // waiting would never end.
  absl::StatusOr<WriteResult> Write(WriteRequest r);

  absl::string_view io_backend() const { return writer_->name(); }
  // RESOURCE_EXHAUSTED unless `bytes` more fit on the disk above the reserve.
  absl::Status CheckSpace(uint64_t bytes) const;

 private:
  void Loop();
  struct Group;
  void RunGroup(std::deque<WriteRequest> reqs);
  // Answers RESOURCE_EXHAUSTED to, and removes, the requests the disk has
  // no room for: volume writes below the soft reserve, every write below
  // the hard one.
  void RefuseWhenFull(std::deque<WriteRequest>* reqs);
  absl::Status Place(Group& g);
  absl::Status WriteEntries(Group& g);  // stages, checks space, writes and syncs
  absl::Status CommitIndex(Group& g);
  void RollIfFull();  // seals the active volume when it is full
  absl::StatusOr<bool> IsHeld(const WriteRequest& r, WriteResult* res);
  void Stage(const std::deque<WriteRequest>& reqs, const std::vector<WriteResult>& results,
             const std::vector<size_t>& fresh, uint64_t start, uint64_t end);

  void AfterCommit(const absl::Status& status);
  void SignIfDue(const absl::Status& status);

  Index* index_;
  VolumeSet* volumes_;
  CommitHook* hook_;
  std::unique_ptr<FileWriter> writer_;
  CommitterOptions options_;

  absl::Mutex mu_;
  std::deque<WriteRequest> queue_ ABSL_GUARDED_BY(mu_);
  uint64_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  char* staging_ = nullptr;  // committer thread only
  uint64_t staging_size_ = 0;
  std::thread thread_;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_STORAGE_COMMITTER_H_
