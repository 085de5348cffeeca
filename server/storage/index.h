// The node's RocksDB: the chunk index, object manifests, upload sessions and
// node state, one column family each. See doc/storage_format.md.
#ifndef CUSTODY_SERVER_STORAGE_INDEX_H_
#define CUSTODY_SERVER_STORAGE_INDEX_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "rocksdb/db.h"
#include "server/storage/volume_format.h"

namespace custody {

// A digest's raw bytes as a RocksDB key.
inline rocksdb::Slice KeyOf(const Digest& d) {
  return rocksdb::Slice(reinterpret_cast<const char*>(d.data()), Digest::kSize);
}

// Converts a rocksdb::Status (the one adapter).
absl::Status FromRocksStatus(const rocksdb::Status& s, absl::string_view what);

// Volume bookkeeping kept in the meta column family.
struct VolumeState {
  uint64_t durable_end = 0;  // bytes of the file known written and synced
  bool sealed = false;
};

// Free space no write may take, whatever --min-free says: room for RocksDB's
// flushes and compactions of a node's index and for an orderly stop. Below
// it Index::Commit refuses (RESOURCE_EXHAUSTED) before RocksDB sees the
// batch: a WAL write that fails on a full disk left RocksDB 7.8 to abort at
// close (sync_without_flush_called_).
inline constexpr uint64_t kHardReserveBytes = 32ull << 20;

// Thread-safe (RocksDB is).
class Index {
 public:
  // Opens or creates the database in `dir`, its files through `env` (the
  // default Env when null; server/storage/index_encryption.h encrypts). `env` must
  // outlive the index.
  static absl::StatusOr<std::unique_ptr<Index>> Open(const std::string& dir,
                                                     rocksdb::Env* env = nullptr);
  // Copies every column family of `from` into `to` (a fresh index), in
  // batches, and syncs it.
  static absl::Status CopyAll(Index* from, Index* to);
  ~Index();

  rocksdb::DB* db() { return db_.get(); }
  rocksdb::ColumnFamilyHandle* meta() { return cf_[0]; }
  rocksdb::ColumnFamilyHandle* chunks() { return cf_[1]; }
  rocksdb::ColumnFamilyHandle* objects() { return cf_[2]; }
  rocksdb::ColumnFamilyHandle* uploads() { return cf_[3]; }
  // The audit log (server/audit/audit_log.h).
  rocksdb::ColumnFamilyHandle* events() { return cf_[4]; }
  rocksdb::ColumnFamilyHandle* tree() { return cf_[5]; }
  rocksdb::ColumnFamilyHandle* subjects() { return cf_[6]; }
  rocksdb::ColumnFamilyHandle* checkpoints() { return cf_[7]; }
  // The security ledger (server/security/ledger.h): entries by id.
  rocksdb::ColumnFamilyHandle* ledger() { return cf_[8]; }
  // The ledger fold (server/security/ledger_fold.h, doc/ledger_fold.md).
  rocksdb::ColumnFamilyHandle* fold() { return cf_[9]; }

  // Applies `batch` and syncs the WAL before returning; RESOURCE_EXHAUSTED
  // below the hard reserve.
  absl::Status Commit(rocksdb::WriteBatch* batch);

  // Why RocksDB stopped taking writes (a background error: a flush or
  // compaction that failed, e.g. on a full disk), or nullopt. RocksDB
  // resumes by itself from a full disk once space returns; Resume asks it
  // to now.
  std::optional<std::string> BackgroundError() const;
  absl::Status Resume();

  absl::StatusOr<std::optional<Location>> FindChunk(const Digest& d);
  absl::StatusOr<bool> HasObject(const Digest& id);
  // The serialized ObjectManifest, or nullopt.
  absl::StatusOr<std::optional<std::string>> GetObject(const Digest& id);

  absl::StatusOr<std::optional<VolumeState>> GetVolume(uint32_t id);
  static void PutVolume(rocksdb::WriteBatch* b, rocksdb::ColumnFamilyHandle* meta, uint32_t id,
                        const VolumeState& v);
  void PutVolume(rocksdb::WriteBatch* b, uint32_t id, const VolumeState& v) {
    PutVolume(b, meta(), id, v);
  }

 private:
  class Listener;
  Index() = default;
  std::shared_ptr<Listener> listener_;  // before db_: the DB calls it until closed
  std::unique_ptr<rocksdb::DB> db_;
  std::string dir_;
  std::vector<rocksdb::ColumnFamilyHandle*> cf_;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_STORAGE_INDEX_H_
