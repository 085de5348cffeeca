// The volumes of a data folder: one active (appendable) volume and sealed,
// read-only ones.
#ifndef CUSTODY_SERVER_STORAGE_VOLUME_SET_H_
#define CUSTODY_SERVER_STORAGE_VOLUME_SET_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/write_batch.h"
#include "server/storage/index.h"
#include "server/storage/volume.h"

namespace custody {

// Read is thread-safe. active() and Roll() belong to the single writer (the
// Committer) and to recovery before the writer starts.
class VolumeSet {
 public:
  // Opens every vol-*.dat in `dir` (creating the first if there is none).
  // A last volume whose header is torn (a crash while creating it) is moved
  // to `quarantine_dir`.
  static absl::StatusOr<std::unique_ptr<VolumeSet>> Open(const std::string& dir,
                                                         const std::string& quarantine_dir,
                                                         uint32_t chunk_size,
                                                         uint64_t max_volume_bytes, Index* index);

  absl::StatusOr<std::string> Read(const Location& loc, EntryType type, const Digest& hash) const;
  absl::StatusOr<std::pair<EntryHeader, std::string>> ReadEntry(const Location& loc) const;
  // The entry's bytes as they are on disk, header included, unchecked (what
  // the scrubber sets aside when an entry is corrupt).
  absl::StatusOr<std::string> ReadRaw(const Location& loc) const;

  // Removes the payload of the chunk entry at `loc` (purge, doc/records.md).
  absl::Status PunchPayload(const Location& loc);

  Volume* active() const { return active_; }
  // Seals the active volume and makes a new one active; records both in
  // `batch`, which the caller commits.
  absl::StatusOr<Volume*> Roll(rocksdb::WriteBatch* batch);
  bool ShouldRoll() const { return active_->end() >= max_volume_bytes_; }

  // All volumes in id order.
  std::vector<Volume*> All() const;
  uint64_t TotalBytes() const;
  const std::string& dir() const { return dir_; }
  const std::string& quarantine_dir() const { return quarantine_dir_; }

  // Copies bytes [from, EOF) of `v` into the quarantine folder, then
  // truncates `v` to `from`. Used for torn tails: nothing is dropped unseen.
  absl::Status QuarantineTail(Volume* v, uint64_t from, const std::string& why);

 private:
  VolumeSet() = default;
  std::string PathFor(uint32_t id) const;
  absl::StatusOr<Volume*> Find(uint32_t id) const;

  std::string dir_;
  std::string quarantine_dir_;
  uint32_t chunk_size_ = 0;
  uint64_t max_volume_bytes_ = 0;
  Index* index_ = nullptr;
  mutable absl::Mutex mu_;
  std::map<uint32_t, std::unique_ptr<Volume>> volumes_ ABSL_GUARDED_BY(mu_);
  Volume* active_ = nullptr;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_STORAGE_VOLUME_SET_H_
