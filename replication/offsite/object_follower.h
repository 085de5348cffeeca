// The offsite peer's running object hashes: the chunks of an object, arriving
// in any order from several streams, are hashed into the object's SHA-256 in
// the object's order, so that an object whose every chunk came in a sync is
// verified without reading it back (doc/offsite.md, "Following objects").
#ifndef CUSTODY_REPLICATION_OFFSITE_OBJECT_FOLLOWER_H_
#define CUSTODY_REPLICATION_OFFSITE_OBJECT_FOLLOWER_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/digest.h"
#include "common/snapshot_format.h"

namespace custody {

// Thread-safe. A chunk that comes before its turn is kept (a reference to
// its bytes, not a copy) until the chunks before it have come; what is kept
// for all objects together stays under `max_early_bytes`: to make room, the
// objects with the oldest kept chunks are no longer followed (their chunks
// are let go), and then, if that is not enough, the chunk's own object. The
// caller reads an object not followed back instead (Seal does). Following is
// an optimisation: a chunk never followed, or an object given up, never
// makes an object count as verified.
class ObjectFollower {
 public:
  // The raw chunk hashes of the object at `at` (from its manifest), or
  // nullopt when they cannot be had.
  using ChunkList = std::function<std::optional<std::vector<std::string>>(const ChunkPosition&)>;

  ObjectFollower(ChunkList chunks_of, uint64_t max_early_bytes)
      : chunks_of_(std::move(chunks_of)), max_early_bytes_(max_early_bytes) {}

  // Adds chunk `key` (whose bytes `data` the caller has checked hash to
  // `key`) at its place `at`; keeps a reference to `data` if it is early (no
  // one may change the bytes afterwards). Returns true exactly once per
  // object: from the call that completed the object's hash, when the hash is
  // the object's id. A chunk the manifest does not name at `at.index`, or one
  // already added, is ignored.
  bool Add(const ChunkPosition& at, const Digest& key,
           const std::shared_ptr<const std::string>& data);

  // Bytes held for chunks that came early.
  uint64_t early_bytes() const;

 private:
  struct Object {
    std::vector<std::string> chunks;  // raw, from the manifest
    uint32_t next = 0;                // chunks [0, next) are hashed
    bool busy = false;                // a thread is hashing into `hash`
    bool given_up = false;
    Sha256 hash;
    std::map<uint32_t, std::shared_ptr<const std::string>> early;  // index -> the bytes
    uint64_t early_seq = std::numeric_limits<uint64_t>::max();     // its oldest kept chunk's
  };

  Object* Find(const ChunkPosition& at) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void GiveUp(Object* o) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MakeRoom(uint64_t bytes, const Object* keep) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Hashes `data` (chunk o->next) and then every early chunk that follows it.
  bool HashInOrder(const Digest& object, Object* o, std::shared_ptr<const std::string> data)
      ABSL_LOCKS_EXCLUDED(mu_);

  const ChunkList chunks_of_;
  const uint64_t max_early_bytes_;
  mutable absl::Mutex mu_;
  std::map<Digest, Object> objects_ ABSL_GUARDED_BY(mu_);  // std::map: stable addresses
  uint64_t early_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t seq_ ABSL_GUARDED_BY(mu_) = 0;  // orders kept chunks by age
};

}  // namespace custody

#endif  // CUSTODY_REPLICATION_OFFSITE_OBJECT_FOLLOWER_H_
