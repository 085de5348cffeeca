// Live uploads (doc/live.md, issue 32): a recording streamed while the
// camera writes it. Each segment is checked against the segment chain
// (common/live_chain.h) and acknowledged only once it is durable: its full
// chunks are stored like an upload's (on their R home nodes in a cluster)
// and recorded as the upload's progress (UploadChunk), and the bytes after
// the last full chunk, the chain and the SHA-256 state of the whole file go
// into the upload's LiveRecord, all in one synced index write. The index is
// encrypted at rest with --data-key, so that state is too.
//
// The upload ends as an ordinary object: when the camera finishes the file
// (its whole SHA-256 must match), or when an operator, or the idle timeout,
// seals it as truncated (its id is then the SHA-256 of the bytes received,
// and the loss is on record). Sealing resumes the upload through
// UploadManager with the now known size, so the manifest, its placement and
// its events are an upload's.
//
// Events: live.opened, live.resumed (a stream that continues one), and
// live.sealed or live.truncated about "live:ID"; the object's own
// object.stored. Segments are recorded in the index, not as events.
#ifndef CUSTODY_SERVER_OBJECTS_LIVE_UPLOAD_H_
#define CUSTODY_SERVER_OBJECTS_LIVE_UPLOAD_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/digest.h"
#include "common/live_chain.h"
#include "custody/internal/v1/storage.pb.h"
#include "custody/v1/custody.pb.h"
#include "custody/v1/live.pb.h"
#include "server/audit/audited_write.h"
#include "server/objects/live_mirror.h"
#include "server/objects/live_mirror_store.h"
#include "server/objects/upload.h"

namespace custody {

class LiveUploads;

// One stream's worth of a live upload. Not thread-safe: one thread at a
// time, in order. A failure leaves the stream unusable (the next call fails
// too); the client resumes on a new stream from what is durable.
class LiveStream {
 public:
  ~LiveStream();

  // Appends the next segment once its chain follows; returns once it is
  // durable. INVALID_ARGUMENT for an empty or too large segment, or one
  // that does not follow the chain (dropped, repeated or reordered).
  absl::StatusOr<v1::LiveAck> Append(const v1::LiveSegment& segment);
  // The file is complete: seals it if `sha256` is the hash of every byte
  // held (DATA_LOSS otherwise, and nothing is sealed).
  absl::StatusOr<v1::LiveAck> Finish(const std::string& sha256);
  // The answer to the header.
  v1::LiveAck Ack() const;
  const v1::LiveInfo& info() const { return rec_.info(); }

 private:
  friend class LiveUploads;
  LiveStream(LiveUploads* mgr, internal::v1::LiveRecord rec) : mgr_(mgr), rec_(std::move(rec)) {}
  // Adds `data` (the next segment, which follows the chain) to the upload:
  // the chunks it fills are stored, and they and its piece go into `batch`.
  absl::Status AddBytes(const std::string& data, rocksdb::WriteBatch* batch);
  // Stores one full chunk durably (its home nodes in a cluster).
  absl::Status StoreChunk(const Digest& d, std::string data);
  // In a cluster with R > 1 (live_takeover.cc): sends `step` (the segment
  // appended at `offset`, with the chunks it filled from `first_chunk` on),
  // or the whole upload, to its mirror nodes. UNAVAILABLE when fewer than
  // R - 1 hold it, or when another node took the upload over (this node
  // then gives it up).
  absl::Status Mirror(uint32_t first_chunk, uint64_t offset, const std::string& data);
  absl::Status MirrorWhole();
  absl::StatusOr<internal::v1::LiveMirrorRequest> WholeMirror();

  LiveUploads* mgr_;
  internal::v1::LiveRecord rec_;
  std::vector<std::string> chunks_;  // in a cluster: every full chunk's hash (raw)
  std::string chunks_hash_state_;    // the file's hash state after them
  uint32_t mirrored_ = 0;            // nodes beside this one that hold the last step
  // The offsets of the pieces of the bytes held after the last full chunk
  // (read back from the index when a chunk fills: not held in memory).
  std::vector<uint64_t> tail_pieces_;
  Sha256 hash_;              // of every byte held
  uint32_t next_chunk_ = 0;  // index of the next full chunk
  absl::Status broken_;
};

// Thread-safe.
class LiveUploads {
 public:
  // Segments larger than this are refused.
  static constexpr size_t kMaxSegment = kMaxLiveSegment;

  // In a cluster with R > 1 (`uploads` has a placement), every step is
  // mirrored on R - 1 other nodes (doc/live.md, "On R nodes").
  LiveUploads(UploadManager* uploads, AuditTrail* trail);

  // Opens live upload `h.live_id` for `owner`, or resumes it: the stream's
  // Ack() says the bytes held, from which the client goes on (h.offset is
  // what the client believed, put on record). PERMISSION_DENIED for an
  // upload someone else opened; FAILED_PRECONDITION for one already sealed
  // or for another device or file; ABORTED while another stream appends to
  // it.
  //
  // With h.continues (a docking station, doc/live.md "Docking"): the
  // upload h.continues is taken over while it records (h.live_id must name
  // it), or, once sealed, continued by the new upload h.live_id, which
  // starts with its bytes, chain and hash state. `may_take_over`: the
  // caller may do so for uploads someone else opened (the service checked
  // that it docks the device).
  absl::StatusOr<std::unique_ptr<LiveStream>> Open(const v1::LiveHeader& h,
                                                   const std::string& owner,
                                                   bool may_take_over = false);
  // The upload as it stands (in a cluster, as this node's mirror of it has
  // it); NOT_FOUND if there is none.
  absl::StatusOr<v1::LiveInfo> Query(const std::string& live_id);
  // Seals an upload the camera did not finish as truncated, by `by`, for
  // `reason` (required); one this node mirrors is taken over first. ABORTED
  // while a stream appends to it.
  // `idle`: the node's own timeout, which in a cluster waits while the
  // mirror nodes cannot confirm that no other node took the upload over.
  absl::StatusOr<v1::LiveInfo> SealTruncated(const std::string& live_id, const std::string& by,
                                             const std::string& reason, bool idle = false);
  // In a cluster: makes `live_id` this node's own when it only mirrors it
  // (a take-over for `by`, asking its owner node first). OK when this node
  // owns it or holds no copy.
  absl::Status Claim(const std::string& live_id, const std::string& by);
  // Whether a stream appends to `live_id` now.
  bool Streaming(const std::string& live_id);
  // The uploads of `device`'s file `file_name`, sealed or not.
  absl::StatusOr<std::vector<v1::LiveInfo>> Find(const std::string& device,
                                                 const std::string& file_name);
  // Every live upload, sealed or not (not the mirrors of other nodes');
  // `held_sha256` only when asked for (it restores each hash state).
  absl::Status ForEach(const std::function<void(const v1::LiveInfo&)>& fn, bool held_sha256 = true);
  // Seals as truncated every upload still recording whose last segment (or
  // opening) is older than `idle` and that no stream appends to; returns
  // those that became objects. In a cluster, also the mirrors of uploads
  // silent for twice `idle` (their owner node is gone): this node takes
  // them over (asking the owner node first) and seals them.
  absl::StatusOr<std::vector<v1::LiveInfo>> SealIdle(absl::Duration idle, const std::string& by);

  // Another node's step of an upload it owns (ReplicaService.MirrorLive):
  // kept as a mirror; `held_by` names this node when it owns the upload
  // itself at the same or a later epoch. A request of a later epoch than
  // this node's own upload means it was taken over: this node gives it up.
  absl::StatusOr<internal::v1::LiveMirrorResponse> ApplyMirror(
      const internal::v1::LiveMirrorRequest& req, const std::string& from);
  // Node `to`, whose copy holds `held` bytes, asks for an upload this node
  // owns (a client failed over to it): given up ("moved") unless a stream
  // appends to it here or this node holds more (ABORTED). The record as it
  // stands after.
  absl::StatusOr<internal::v1::LiveRecord> HandOff(const std::string& live_id,
                                                   const std::string& to, uint64_t held);

 private:
  friend class LiveStream;
  absl::StatusOr<internal::v1::LiveRecord> Load(const std::string& live_id);
  // Writes a new upload for h (into stream's record), with live.opened.
  absl::Status Create(const v1::LiveHeader& h, const std::string& owner, LiveStream* stream);
  // Writes upload h.live_id continuing the sealed upload h.continues.
  absl::Status CreateContinuation(const v1::LiveHeader& h, const std::string& owner,
                                  bool may_take_over);
  // The tail pieces of `rec` in order: their bytes, and their offsets.
  absl::Status LoadTail(const internal::v1::LiveRecord& rec, std::string* tail,
                        std::vector<uint64_t>* pieces);
  // Seals `rec` (not streaming) as an object: complete with the client's
  // hash `claimed`, or truncated with `reason`. Its tail pieces are kept,
  // and its chunks noted in its record (CreateContinuation).
  absl::StatusOr<v1::LiveInfo> Seal(internal::v1::LiveRecord rec, const std::string& tail,
                                    const std::string& claimed, const std::string& by,
                                    const std::string& reason);
  void Release(const std::string& live_id);
  // live_takeover.cc: makes this node's mirror of `live_id` the upload of
  // `owner` (after asking its owner node to hand it off, unless that node
  // is down), for `actor` (the owner streaming on, or who seals it):
  // NOT_FOUND when it holds none.
  absl::Status TakeOver(const std::string& live_id, const std::string& owner,
                        const std::string& actor);
  // The node that took `rec` over (the whole upload, `tail` its bytes after
  // its chunks, sent to its mirror nodes), or "" when this node owns it.
  absl::StatusOr<std::string> TakenBy(const internal::v1::LiveRecord& rec, const std::string& tail);
  // Tells the mirror nodes that `sealed` ended (they drop their mirrors).
  void DropMirrors(const internal::v1::LiveRecord& sealed);
  // Gives `live_id` up to node `to` (state "moved", live.moved).
  absl::Status Demote(const std::string& live_id, const std::string& to);
  // Adds the keys of an upload's chunk list to `b`: the last one carries
  // the file's hash state after it.
  void PutChunks(const std::string& live_id,
                 const google::protobuf::RepeatedPtrField<std::string>& chunks,
                 const std::string& hash_state, rocksdb::WriteBatch* b);
  // The keys of `live_id`'s tail pieces.
  absl::StatusOr<std::vector<std::string>> TailKeys(const std::string& live_id);

  UploadManager* uploads_;
  AuditTrail* trail_;
  std::unique_ptr<LiveMirror> mirror_;        // in a cluster with R > 1
  std::unique_ptr<LiveMirrorStore> mirrors_;  // other nodes' uploads
  absl::Mutex mu_;
  absl::flat_hash_set<std::string> active_ ABSL_GUARDED_BY(mu_);
};

// The kind of the signed decision to seal a live upload as truncated (an
// archivist's or an admin's; server/security/decisions.h).
inline constexpr char kLiveSealOrdered[] = "live.seal-ordered";

// The uploads column family keys of a live upload's record and of its tail
// piece at `offset`.
std::string LiveRecordKey(const std::string& live_id);
std::string LiveTailKey(const std::string& live_id, uint64_t offset);
// The upload state of a live upload still recording (its size unknown).
internal::v1::UploadState LiveUploadState(const internal::v1::LiveRecord& rec);
// An event about "live:ID" with its device, file and the bytes held.
v1::AuditEvent LiveEvent(const char* action, const v1::LiveInfo& info, const std::string& actor);

}  // namespace custody

#endif  // CUSTODY_SERVER_OBJECTS_LIVE_UPLOAD_H_
