#include "server/objects/purger.h"

#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "custody/v1/manifest.pb.h"
#include "server/audit/audited_write.h"
#include "server/security/ledger.h"
#include "server/security/ledger_fold.h"
#include "server/storage/index.h"
#include "server/storage/manifest_scan.h"
#include "server/storage/volume_set.h"

namespace custody {

namespace {

std::vector<Digest> ChunksOf(const v1::LedgerEntry& e) {
  std::vector<Digest> out;
  for (absl::string_view hex : absl::StrSplit(EntryField(e, "chunks"), ',', absl::SkipEmpty())) {
    absl::StatusOr<Digest> d = Digest::Parse(absl::StrCat("sha256:", hex));
    if (d.ok()) out.push_back(*d);
  }
  return out;
}

}  // namespace

std::string Purger::TombstoneKey(const Digest& chunk) {
  return absl::StrCat("purged/c/", chunk.Raw());
}

absl::StatusOr<bool> Purger::IsTombstoned(Index* index, const Digest& chunk) {
  std::string v;
  rocksdb::Status s =
      index->db()->Get(rocksdb::ReadOptions(), index->meta(), TombstoneKey(chunk), &v);
  if (s.IsNotFound()) return false;
  if (!s.ok()) return FromRocksStatus(s, "purge tombstone lookup");
  return true;
}

absl::StatusOr<bool> Purger::IsPurged(const Digest& chunk) { return IsTombstoned(index_, chunk); }

absl::Status Purger::Apply(const v1::LedgerEntry& entry) {
  if (entry.kind() != "purge.executed") return absl::OkStatus();
  absl::MutexLock l(&mu_);
  const std::string request = entry.subject().substr(6);  // "purge:"
  // Where each chunk is: from its tombstone (an earlier, interrupted Apply)
  // or from the index.
  std::map<std::string, std::optional<Location>> where;
  std::vector<std::pair<Digest, std::optional<Location>>> fresh;
  for (const Digest& d : ChunksOf(entry)) {
    std::string v;
    rocksdb::Status s =
        index_->db()->Get(rocksdb::ReadOptions(), index_->meta(), TombstoneKey(d), &v);
    if (s.ok()) {
      absl::StatusOr<Location> loc = Location::Decode(absl::string_view(v).substr(0, 16));
      where[std::string(d.Raw())] = loc.ok() ? std::optional<Location>(*loc) : std::nullopt;
      continue;
    }
    ASSIGN_OR_RETURN(std::optional<Location> loc, index_->FindChunk(d));
    fresh.emplace_back(d, loc);
    where[std::string(d.Raw())] = loc;
  }
  if (!fresh.empty()) {
    uint64_t held = 0;
    for (const auto& [d, loc] : fresh) held += loc ? 1 : 0;
    v1::AuditEvent e = NewEvent("purge.applied", entry.subject(), "custodyd");
    AddDetail(&e, "chunks_removed_here", absl::StrCat(held));
    AddDetail(&e, "chunks_named", absl::StrCat(fresh.size()));
    RETURN_IF_ERROR(trail_->Write(std::move(e), [&](rocksdb::WriteBatch* b) {
      for (const auto& [d, loc] : fresh) {
        b->Put(index_->meta(), TombstoneKey(d),
               absl::StrCat(loc ? loc->Encode() : std::string(16, '\0'), request));
        if (loc) b->Delete(index_->chunks(), KeyOf(d));
      }
    }));
  }
  for (const auto& [raw, loc] : where) {
    if (loc && loc->length > 0) RETURN_IF_ERROR(volumes_->PunchPayload(*loc));
  }
  return absl::OkStatus();
}

absl::Status Purger::ApplyAll() {
  absl::Status failed;
  RETURN_IF_ERROR(fold_->Snapshot()->ForEachEntry(
      "purge:", [&](const std::string&, const Digest&, const v1::LedgerEntry& e) {
        if (failed.ok()) failed = Apply(e);
      }));
  return failed;
}

absl::StatusOr<std::vector<Digest>> Purger::InUse(const std::vector<Digest>& chunks,
                                                  const std::set<std::string>& exclude) {
  std::set<std::string> wanted;
  for (const Digest& d : chunks) wanted.insert(std::string(d.Raw()));
  ASSIGN_OR_RETURN(auto users, ObjectsUsingChunks(*index_, wanted));
  std::set<std::string> used;
  for (const auto& [object, its] : users) {
    if (exclude.count(object) == 0) used.insert(its.begin(), its.end());
  }
  return DigestsFromRaw(used);
}

}  // namespace custody
