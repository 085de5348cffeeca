#include <memory>

#include "absl/base/internal/endian.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/roles.h"
#include "common/status_macros.h"
#include "common/units.h"
#include "custody/internal/v1/storage.pb.h"
#include "rocksdb/db.h"
#include "server/objects/upload.h"

namespace custody {

std::string UploadStateKey(const std::string& upload_id) { return upload_id + '\0'; }

std::string UploadChunkKey(const std::string& upload_id, uint32_t idx) {
  std::string k = upload_id + '\1';
  char be[4];
  absl::big_endian::Store32(be, idx);
  k.append(be, 4);
  return k;
}

std::string UploadKeyEnd(const std::string& upload_id) { return upload_id + '\2'; }

std::string UploadDoneKey(const std::string& upload_id) { return upload_id + '\3'; }

UploadManager::UploadManager(Index* index, Committer* committer, ThreadPool* hash_pool,
                             uint32_t chunk_size, AuditLog* audit, UploadLimits limits)
    : index_(index),
      committer_(committer),
      hash_pool_(hash_pool),
      chunk_size_(chunk_size),
      audit_(audit),
      limits_(limits) {}

absl::Status UploadManager::Validate(const v1::UploadHeader& h) const {
  const std::string& id = h.upload_id();
  if (id.empty() || id.size() > limits_.max_id) {
    return absl::InvalidArgumentError(
        absl::StrCat("upload_id must have 1 to ", limits_.max_id, " characters"));
  }
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return absl::InvalidArgumentError("upload_id may only hold [A-Za-z0-9._-]");
    }
  }
  if (h.file_name().size() > limits_.max_file_name) {
    return absl::InvalidArgumentError(absl::StrCat("file name is ", h.file_name().size(),
                                                   " bytes; at most ", limits_.max_file_name));
  }
  if (h.media_type().size() > limits_.max_media_type) {
    return absl::InvalidArgumentError("media type is too long");
  }
  if (h.size() > limits_.max_size) {
    return absl::InvalidArgumentError(absl::StrCat("file of ", FormatBytes(h.size()),
                                                   " exceeds the limit of ",
                                                   FormatBytes(limits_.max_size)));
  }
  if (h.metadata_size() > static_cast<int>(limits_.max_metadata_entries)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metadata has ", h.metadata_size(), " entries; at most ", limits_.max_metadata_entries));
  }
  size_t total = 0;
  for (const auto& [k, v] : h.metadata()) {
    if (k.empty() || k.size() > limits_.max_metadata_key) {
      return absl::InvalidArgumentError(
          absl::StrCat("metadata key must have 1 to ", limits_.max_metadata_key, " bytes"));
    }
    if (v.size() > limits_.max_metadata_value) {
      return absl::InvalidArgumentError(absl::StrCat("metadata value of \"", k, "\" is ", v.size(),
                                                     " bytes; at most ",
                                                     limits_.max_metadata_value));
    }
    total += k.size() + v.size();
  }
  if (total > limits_.max_metadata_total) {
    return absl::InvalidArgumentError(
        absl::StrCat("metadata is ", total, " bytes in all; at most ", limits_.max_metadata_total));
  }
  if (!h.sha256().empty() && !Digest::Parse(h.sha256()).ok()) {
    return absl::InvalidArgumentError("the header's sha256 is not \"sha256:<64 lowercase hex>\"");
  }
  auto level = h.metadata().find("classification");
  if (level != h.metadata().end() && LevelRank(level->second) < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("classification \"", level->second,
                     "\" is not one of public, internal, privacy, trade-secret, state-secret"));
  }
  return absl::OkStatus();
}

absl::StatusOr<UploadManager::Persisted> UploadManager::Load(const std::string& upload_id) {
  Persisted p;
  std::string end = UploadKeyEnd(upload_id);
  rocksdb::Slice upper(end);  // the scan stops at this upload's keys
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(index_->db()->NewIterator(ro, index_->uploads()));
  for (it->Seek(UploadStateKey(upload_id)); it->Valid() && it->key().compare(end) < 0; it->Next()) {
    if (it->key() == UploadStateKey(upload_id)) {
      if (!p.state.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        return absl::DataLossError("stored upload state does not parse");
      }
      p.known = true;
      continue;
    }
    internal::v1::UploadChunk c;
    if (!c.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("stored upload chunk does not parse");
    }
    ASSIGN_OR_RETURN(Digest d, Digest::FromRaw(c.sha256()));
    p.chunks.push_back(d);
    p.committed += c.length();
    p.last_hash_state = c.file_hash_state();
  }
  RETURN_IF_ERROR(FromRocksStatus(it->status(), "reading upload state"));
  return p;
}

absl::StatusOr<v1::QueryUploadResponse> UploadManager::Query(const std::string& upload_id) {
  ASSIGN_OR_RETURN(Persisted p, Load(upload_id));
  v1::QueryUploadResponse r;
  r.set_known(p.known);
  r.set_committed_size(p.committed);
  r.set_size(p.state.size());
  if (p.known) return r;
  std::string v;
  rocksdb::Status s =
      index_->db()->Get(rocksdb::ReadOptions(), index_->uploads(), UploadDoneKey(upload_id), &v);
  if (s.IsNotFound()) return r;
  RETURN_IF_ERROR(FromRocksStatus(s, "reading a finished upload"));
  internal::v1::UploadDone done;
  if (!done.ParseFromString(v)) return absl::DataLossError("a finished upload does not parse");
  if (absl::Now() - absl::FromUnixNanos(done.finished_unix_nanos()) > kUploadDoneKept) return r;
  r.set_known(true);
  r.set_completed(true);
  r.set_object_id(done.object_id());
  r.set_size(done.size());
  r.set_committed_size(done.size());
  return r;
}

absl::StatusOr<int> UploadManager::ForgetOldFinished() {
  std::unique_ptr<rocksdb::Iterator> it(
      index_->db()->NewIterator(rocksdb::ReadOptions(), index_->uploads()));
  rocksdb::WriteBatch b;
  int n = 0;
  const absl::Time now = absl::Now();
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    // Upload ids are [A-Za-z0-9._-]: the first control byte ends the id,
    // and only a finished upload's key has \3 there (a chunk key's index
    // bytes, after \1, may be anything).
    const rocksdb::Slice k = it->key();
    size_t end = 0;
    while (end < k.size() && static_cast<unsigned char>(k[end]) >= 0x20) ++end;
    if (end + 1 != k.size() || k[end] != '\3') continue;
    internal::v1::UploadDone done;
    if (done.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())) &&
        now - absl::FromUnixNanos(done.finished_unix_nanos()) <= kUploadDoneKept) {
      continue;
    }
    b.Delete(index_->uploads(), it->key());
    ++n;
  }
  RETURN_IF_ERROR(FromRocksStatus(it->status(), "reading finished uploads"));
  if (n > 0) RETURN_IF_ERROR(FromRocksStatus(index_->db()->Write({}, &b), "forgetting uploads"));
  return n;
}

namespace {

bool SameFile(const internal::v1::UploadState& s, const v1::UploadHeader& h) {
  if (s.size() != h.size() || s.file_name() != h.file_name() || s.media_type() != h.media_type() ||
      s.metadata_size() != h.metadata_size()) {
    return false;
  }
  for (const auto& [k, v] : h.metadata()) {
    auto it = s.metadata().find(k);
    if (it == s.metadata().end() || it->second != v) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Upload>> UploadManager::Begin(const v1::UploadHeader& h,
                                                             const std::string& actor,
                                                             const std::string& peer) {
  RETURN_IF_ERROR(Validate(h));
  {
    absl::MutexLock l(&mu_);
    if (!active_.insert(h.upload_id()).second) {
      return absl::AbortedError(
          absl::StrCat("upload ", h.upload_id(), " is in progress on another stream"));
    }
  }
  std::unique_ptr<Upload> up(new Upload(this, h, chunk_size_));  // releases on error
  up->actor_ = actor;
  up->peer_ = peer;
  ASSIGN_OR_RETURN(Persisted p, Load(h.upload_id()));
  if (p.known && !SameFile(p.state, h)) {
    return absl::FailedPreconditionError(
        absl::StrCat("upload ", h.upload_id(), " was started for another file (",
                     p.state.file_name(), ", ", p.state.size(), " bytes); use a new upload id"));
  }
  if (h.offset() != p.committed) {
    return absl::OutOfRangeError(absl::StrCat("upload ", h.upload_id(), " has ", p.committed,
                                              " bytes committed; resume at ", p.committed, ", not ",
                                              h.offset()));
  }
  // Here only the upload's progress is kept when the chunks go to their home
  // nodes (a cluster); each home checks its own room, and a full one hands
  // its copy to the next node. A node of its own needs room for the file.
  if (placement_ == nullptr) RETURN_IF_ERROR(committer_->CheckSpace(h.size() - p.committed));
  if (!p.chunks.empty()) {
    ASSIGN_OR_RETURN(up->file_hash_, Sha256::RestoreState(p.last_hash_state));
  }
  up->start_offset_ = up->received_ = p.committed;
  up->next_chunk_ = static_cast<uint32_t>(p.chunks.size());
  absl::MutexLock l(&up->mu_);
  up->chunks_ = std::move(p.chunks);
  return up;
}

void UploadManager::Release(const std::string& upload_id) {
  absl::MutexLock l(&mu_);
  active_.erase(upload_id);
}

}  // namespace custody
