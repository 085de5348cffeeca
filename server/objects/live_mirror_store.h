// A node's mirrors of other nodes' live uploads (doc/live.md, "On R
// nodes"): for each, the owner's LiveRecord (with every full chunk's hash,
// the chunks themselves being stored on their homes like any chunk) and the
// bytes after the last full chunk, stored synced in the uploads column
// family under keys that neither LiveUploads::Open nor SealIdle sees:
//
//   ID \7            the mirrored LiveRecord (owner_node: whose stream)
//   ID \10 offset    a tail piece (offset: 8 bytes, big-endian)
//
// A mirror follows its owner segment by segment; one that missed a step
// answers `gap`, and the owner sends it whole. When the upload is sealed,
// the tail goes and the record stays. A request from another node than the
// mirror's owner is answered with `held_by` (that owner) when the upload was
// sealed, when it is of the same or an older epoch (a node that was taken
// over, or that opened the upload beside the owner), or when it holds fewer
// bytes than the mirror (a take-over from a copy that fell behind).
#ifndef CUSTODY_SERVER_OBJECTS_LIVE_MIRROR_STORE_H_
#define CUSTODY_SERVER_OBJECTS_LIVE_MIRROR_STORE_H_

#include <rocksdb/write_batch.h>

#include <array>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "custody/internal/v1/replica.pb.h"
#include "custody/internal/v1/storage.pb.h"
#include "server/storage/index.h"

namespace custody {

// Thread-safe: the steps of one upload are applied one at a time.
class LiveMirrorStore {
 public:
  LiveMirrorStore(Index* index, uint32_t chunk_size) : index_(index), chunk_size_(chunk_size) {}

  // Applies one step of the owner `from`. A record that is no longer
  // recording drops the mirror's tail and keeps the record. INVALID_ARGUMENT for a request that
  // does not describe itself consistently.
  absl::StatusOr<internal::v1::LiveMirrorResponse> Apply(const internal::v1::LiveMirrorRequest& req,
                                                         const std::string& from);

  struct Copy {
    internal::v1::LiveRecord rec;  // chunks: every full chunk's hash
    std::string tail;              // the bytes from rec.tail_offset()
  };
  // The mirror of `live_id`; NOT_FOUND when this node holds none. One that
  // is no longer recording has no tail.
  absl::StatusOr<Copy> Load(const std::string& live_id);
  // Every mirror's record, recording or ended.
  absl::Status ForEach(const std::function<void(const internal::v1::LiveRecord&)>& fn);
  // The keys of `live_id`'s mirror (a take-over deletes them in the same
  // batch as the upload it becomes).
  absl::StatusOr<std::vector<std::string>> Keys(const std::string& live_id);

 private:
  absl::Mutex* LockOf(const std::string& live_id);
  absl::StatusOr<Copy> LoadLocked(const std::string& live_id);
  // The response to a request that does not follow what the mirror holds.
  absl::StatusOr<internal::v1::LiveMirrorResponse> Follow(
      const Copy& held, const internal::v1::LiveMirrorRequest& req, const std::string& from);

  Index* index_;
  const uint32_t chunk_size_;
  std::array<absl::Mutex, 16> locks_;  // by the id's hash
};

// Every LiveRecord in the uploads column family whose key is a live id and
// `marker` ('\4': this node's uploads, '\7': its mirrors).
absl::Status ForEachLiveRecord(Index* index, char marker,
                               const std::function<void(const internal::v1::LiveRecord&)>& fn);
std::string LiveMirrorKey(const std::string& live_id);
std::string LiveMirrorTailKey(const std::string& live_id, uint64_t offset);

}  // namespace custody

#endif  // CUSTODY_SERVER_OBJECTS_LIVE_MIRROR_STORE_H_
