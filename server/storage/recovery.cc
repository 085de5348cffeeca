#include "server/storage/recovery.h"

#include <functional>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/progress_log.h"
#include "common/status_macros.h"
#include "custody/v1/manifest.pb.h"
#include "server/storage/chunk_sealer.h"

namespace custody {
namespace {

constexpr int kEntriesPerBatch = 256;

// Indexes every valid entry of `v` from `from`; returns where valid entries
// end, after quarantining whatever follows them if `is_last`.
absl::StatusOr<uint64_t> IndexVolume(Index* index, VolumeSet* volumes, Volume* v, uint64_t from,
                                     bool is_last, const ChunkSealer* sealer, RecoveryStats* stats,
                                     const std::function<void()>& step) {
  rocksdb::WriteBatch batch;
  int pending = 0;
  auto visit = [&](const EntryHeader& h, const Location& loc,
                   const std::string& payload) -> absl::Status {
    ++stats->entries_scanned;
    step();
    if (IsChunkEntry(h.type)) {
      const Digest& id = h.hash;  // a sealed chunk's header names it too
      ASSIGN_OR_RETURN(std::optional<Location> have, index->FindChunk(id));
      if (!have) {
        batch.Put(index->chunks(), KeyOf(id), loc.Encode());
        ++stats->chunks_indexed;
      }
    } else {
      v1::ObjectManifest m;
      if (!m.ParseFromString(payload) || m.sha256().size() != Digest::kSize) {
        return absl::DataLossError(
            absl::StrCat(v->path(), " at ", loc.offset, ": manifest entry does not parse"));
      }
      ASSIGN_OR_RETURN(Digest id, Digest::FromRaw(m.sha256()));
      ASSIGN_OR_RETURN(bool have, index->HasObject(id));
      if (!have) {
        batch.Put(index->objects(), KeyOf(id), payload);
        ++stats->objects_indexed;
      }
    }
    if (++pending == kEntriesPerBatch) {
      RETURN_IF_ERROR(index->Commit(&batch));
      batch.Clear();
      pending = 0;
    }
    return absl::OkStatus();
  };
  ASSIGN_OR_RETURN(Volume::ScanResult r, v->Scan(from, visit, sealer));
  RETURN_IF_ERROR(index->Commit(&batch));
  if (!r.clean) {
    if (!is_last) {
      return absl::DataLossError(absl::StrCat("sealed volume ", v->path(), " is damaged at ",
                                              r.valid_end, ": ", r.problem));
    }
    stats->torn_bytes += v->FileSize() - r.valid_end;
    RETURN_IF_ERROR(volumes->QuarantineTail(v, r.valid_end, r.problem));
  }
  return r.valid_end;
}

}  // namespace

absl::StatusOr<RecoveryStats> RecoverActiveVolume(Index* index, VolumeSet* volumes,
                                                  const ChunkSealer* sealer) {
  RecoveryStats stats;
  Volume* v = volumes->active();
  uint64_t from = v->end();
  if (v->FileSize() == from) return stats;
  // The bytes past the durable end may have reached only the page cache
  // before the crash: made durable first, so that no index entry committed
  // below points to data a power cut could still take.
  RETURN_IF_ERROR(v->Sync());
  ASSIGN_OR_RETURN(uint64_t end, IndexVolume(index, volumes, v, from, true, sealer, &stats, [] {}));
  rocksdb::WriteBatch b;
  index->PutVolume(&b, v->id(), VolumeState{end, false});
  RETURN_IF_ERROR(index->Commit(&b));
  v->set_end(end);
  LOG(INFO) << "recovered " << v->path() << ": " << stats.entries_scanned
            << " entries after the durable end, " << stats.chunks_indexed << " chunks and "
            << stats.objects_indexed << " objects indexed, " << stats.torn_bytes
            << " torn bytes quarantined";
  return stats;
}

absl::StatusOr<RecoveryStats> RebuildIndex(Index* index, VolumeSet* volumes,
                                           const ChunkSealer* sealer) {
  RecoveryStats stats;
  std::vector<Volume*> all = volumes->All();
  ProgressLog progress("index rebuild: volume entries");
  for (size_t i = 0; i < all.size(); ++i) {
    Volume* v = all[i];
    bool last = v == volumes->active();
    if (last) RETURN_IF_ERROR(v->Sync());  // as in RecoverActiveVolume
    const std::string where = absl::StrCat("volume ", i + 1, " of ", all.size());
    ASSIGN_OR_RETURN(uint64_t end,
                     IndexVolume(index, volumes, v, kFirstEntryOffset, last, sealer, &stats,
                                 [&] { progress.Step(stats.entries_scanned, where); }));
    rocksdb::WriteBatch b;
    index->PutVolume(&b, v->id(), VolumeState{end, !last});
    RETURN_IF_ERROR(index->Commit(&b));
    v->set_end(end);
    LOG(INFO) << "rebuilt index from " << v->path();
  }
  progress.Done();
  stats.seconds = absl::ToDoubleSeconds(progress.elapsed());
  return stats;
}

}  // namespace custody
