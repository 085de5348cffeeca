#include "server/storage/index.h"

#include <cstdarg>
#include <cstdio>

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/files.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/units.h"
#include "rocksdb/cache.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/listener.h"
#include "rocksdb/options.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/sst_file_manager.h"
#include "rocksdb/table.h"

namespace custody {
namespace {

std::string VolumeKey(uint32_t id) {
  std::string k = "vol/";
  char be[4];
  absl::big_endian::Store32(be, id);
  k.append(be, 4);
  return k;
}

}  // namespace

absl::Status FromRocksStatus(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = absl::StrCat(what, ": ", s.ToString());
  if (s.IsNoSpace() || s.subcode() == rocksdb::Status::kNoSpace) {
    return absl::ResourceExhaustedError(absl::StrCat("disk full: ", msg));
  }
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsIOError() && s.ToString().find("No space") != std::string::npos) {
    return absl::ResourceExhaustedError(absl::StrCat("disk full: ", msg));
  }
  return absl::InternalError(msg);
}

namespace {

// The index's memory stays bounded as history grows (issue 27): memtables of
// every family share kMemtableBytes (the fullest is flushed when they reach
// it), and data blocks live in one kBlockCacheBytes cache instead of one per
// family. Index and filter blocks stay with their tables (about 2.5% of the
// table bytes): kept in the cache instead, they were evicted and read again
// whole, and a page of 50 records took 25 ms instead of 0.5 at a million
// ledger entries (bench/README.md, custody_scale_bench).
constexpr size_t kMemtableBytes = 64 << 20;
constexpr size_t kBlockCacheBytes = 64 << 20;

std::shared_ptr<rocksdb::TableFactory> SharedTables() {
  static const std::shared_ptr<rocksdb::TableFactory> tables = [] {
    rocksdb::BlockBasedTableOptions t;
    t.block_cache = rocksdb::NewLRUCache(kBlockCacheBytes);
    // A point read (a record, a group of the ledger fold, a chunk that may
    // not be here) skips the tables that do not hold its key.
    t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    return std::shared_ptr<rocksdb::TableFactory>(rocksdb::NewBlockBasedTableFactory(t));
  }();
  return tables;
}

rocksdb::ColumnFamilyOptions Cf() {
  rocksdb::ColumnFamilyOptions o;
  o.table_factory = SharedTables();
  o.write_buffer_size = 16 << 20;
  return o;
}

// Keys that arrive in order within a prefix (event seqs; tree nodes of one
// level) are inserted into the memtable with a hint: appends of audit events
// spent a fifth of their time searching the skiplist.
rocksdb::ColumnFamilyOptions SequentialCf(size_t prefix) {
  rocksdb::ColumnFamilyOptions o = Cf();
  o.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(prefix));
  // Hashes do not compress, and verify-node reads the whole log: decompressing
  // every block cost more than the space saved (events are small next to footage).
  o.compression = rocksdb::kNoCompression;
  return o;
}
}  // namespace

// Keeps the last background error RocksDB reported until it recovered.
class Index::Listener : public rocksdb::EventListener {
 public:
  void OnBackgroundError(rocksdb::BackgroundErrorReason, rocksdb::Status* error) override {
    LOG(ERROR) << "the index stopped taking writes: " << error->ToString()
               << "; reads go on; it resumes by itself once there is free space";
    absl::MutexLock l(&mu_);
    error_ = error->ToString();
  }
  void OnErrorRecoveryEnd(const rocksdb::BackgroundErrorRecoveryInfo& info) override {
    if (!info.new_bg_error.ok()) return;
    LOG(INFO) << "the index takes writes again (it had stopped on: " << info.old_bg_error.ToString()
              << ")";
    absl::MutexLock l(&mu_);
    error_.reset();
  }
  std::optional<std::string> error() const {
    absl::MutexLock l(&mu_);
    return error_;
  }

 private:
  mutable absl::Mutex mu_;
  std::optional<std::string> error_ ABSL_GUARDED_BY(mu_);
};

namespace {

// RocksDB's own log (warnings and errors) goes to the node's log. RocksDB's
// file logger, on a full disk, failed one write and then aborted the node on
// the next (WritableFileWriter, sync_without_flush_called_), at start and at
// stop; this one never writes to the disk it guards.
class IndexLogger : public rocksdb::Logger {
 public:
  IndexLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel()) return;
    char line[1024];
    vsnprintf(line, sizeof(line), format, ap);
    LOG(WARNING) << "rocksdb: " << line;
  }
};

}  // namespace

absl::StatusOr<std::unique_ptr<Index>> Index::Open(const std::string& dir, rocksdb::Env* env) {
  rocksdb::DBOptions opts;
  if (env != nullptr) opts.env = env;
  opts.create_if_missing = true;
  opts.create_missing_column_families = true;
  opts.max_background_jobs = 2;
  opts.keep_log_file_num = 4;
  // Every commit syncs the WAL, so a stop need not flush the memtables: on a
  // full disk that flush failed and the stop aborted in RocksDB 7.8
  // (sync_without_flush_called_); the next start replays the WAL instead.
  opts.avoid_flush_during_shutdown = true;
  opts.avoid_flush_during_recovery = true;  // and a start on a full disk needs no new file
  opts.info_log = std::make_shared<IndexLogger>();
  // With an SST file manager RocksDB recovers by itself from a full disk
  // once space returns (ErrorHandler's auto-recovery); the listener tells.
  opts.sst_file_manager.reset(rocksdb::NewSstFileManager(env ? env : rocksdb::Env::Default()));
  opts.db_write_buffer_size = kMemtableBytes;
  // A start replays the WAL since the last flush (stops do not flush): the
  // oldest memtables are flushed once the WAL holds this much, so a start
  // replays at most about this, however much the node holds.
  opts.max_total_wal_size = kMemtableBytes;
  rocksdb::ColumnFamilyOptions cfo = Cf();
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {{rocksdb::kDefaultColumnFamilyName, cfo},
                                                      {"chunks", cfo},
                                                      {"objects", cfo},
                                                      {"uploads", cfo},
                                                      {"events", SequentialCf(0)},
                                                      {"tree", SequentialCf(1)},
                                                      {"subjects", cfo},
                                                      {"checkpoints", cfo},
                                                      {"ledger", cfo},
                                                      {"fold", cfo}};
  std::unique_ptr<Index> idx(new Index);
  idx->listener_ = std::make_shared<Listener>();
  opts.listeners.push_back(idx->listener_);
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(opts, dir, cfs, &idx->cf_, &raw);
  if (!s.ok()) return FromRocksStatus(s, absl::StrCat("opening index ", dir));
  idx->db_.reset(raw);
  idx->dir_ = dir;
  return idx;
}

absl::Status Index::CopyAll(Index* from, Index* to) {
  for (size_t f = 0; f < from->cf_.size(); ++f) {
    std::unique_ptr<rocksdb::Iterator> it(
        from->db_->NewIterator(rocksdb::ReadOptions(), from->cf_[f]));
    rocksdb::WriteBatch batch;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      batch.Put(to->cf_[f], it->key(), it->value());
      if (batch.GetDataSize() > (4 << 20)) {
        RETURN_IF_ERROR(to->Commit(&batch));
        batch.Clear();
      }
    }
    RETURN_IF_ERROR(FromRocksStatus(it->status(), "copying the index"));
    RETURN_IF_ERROR(to->Commit(&batch));
  }
  return FromRocksStatus(to->db_->Flush(rocksdb::FlushOptions(), to->cf_), "flushing the index");
}

Index::~Index() {
  for (auto* h : cf_) db_->DestroyColumnFamilyHandle(h);
  if (db_) db_->Close();
}

absl::Status Index::Commit(rocksdb::WriteBatch* batch) {
  absl::StatusOr<uint64_t> free = FreeBytes(dir_);  // a file system that cannot say is written to
  if (free.ok() && *free < kHardReserveBytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("disk full: ", FormatBytes(*free), " free; ", FormatBytes(kHardReserveBytes),
                     " is the hard reserve (the index's own work and an orderly stop)"));
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocksStatus(db_->Write(wo, batch), "index commit");
}

std::optional<std::string> Index::BackgroundError() const { return listener_->error(); }

absl::Status Index::Resume() { return FromRocksStatus(db_->Resume(), "resuming the index"); }

absl::StatusOr<std::optional<Location>> Index::FindChunk(const Digest& d) {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), chunks(), KeyOf(d), &v);
  if (s.IsNotFound()) return std::optional<Location>();
  if (!s.ok()) return FromRocksStatus(s, "chunk lookup");
  absl::StatusOr<Location> l = Location::Decode(v);
  if (!l.ok()) return l.status();
  return std::optional<Location>(*l);
}

absl::StatusOr<bool> Index::HasObject(const Digest& id) {
  absl::StatusOr<std::optional<std::string>> o = GetObject(id);
  if (!o.ok()) return o.status();
  return o->has_value();
}

absl::StatusOr<std::optional<std::string>> Index::GetObject(const Digest& id) {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), objects(), KeyOf(id), &v);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocksStatus(s, "object lookup");
  return std::optional<std::string>(std::move(v));
}

absl::StatusOr<std::optional<VolumeState>> Index::GetVolume(uint32_t id) {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta(), VolumeKey(id), &v);
  if (s.IsNotFound()) return std::optional<VolumeState>();
  if (!s.ok()) return FromRocksStatus(s, "volume lookup");
  if (v.size() != 9) return absl::DataLossError("volume state has a bad size");
  VolumeState st;
  st.durable_end = absl::little_endian::Load64(v.data());
  st.sealed = v[8] != 0;
  return std::optional<VolumeState>(st);
}

void Index::PutVolume(rocksdb::WriteBatch* b, rocksdb::ColumnFamilyHandle* meta, uint32_t id,
                      const VolumeState& v) {
  std::string val(9, '\0');
  absl::little_endian::Store64(val.data(), v.durable_end);
  val[8] = v.sealed ? 1 : 0;
  b->Put(meta, VolumeKey(id), val);
}

}  // namespace custody
