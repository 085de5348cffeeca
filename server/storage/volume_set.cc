#include "server/storage/volume_set.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/files.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/units.h"
#include "server/storage/file_writer.h"

namespace custody {

namespace {

// "vol-00000001.dat" -> 1
bool ParseVolumeName(const std::string& name, uint32_t* id) {
  if (name.size() != 16 || name.rfind("vol-", 0) != 0 || name.substr(12) != ".dat") {
    return false;
  }
  return absl::SimpleAtoi(name.substr(4, 8), id);
}

}  // namespace

std::string VolumeSet::PathFor(uint32_t id) const {
  return absl::StrFormat("%s/vol-%08u.dat", dir_, id);
}

absl::StatusOr<std::unique_ptr<VolumeSet>> VolumeSet::Open(const std::string& dir,
                                                           const std::string& quarantine_dir,
                                                           uint32_t chunk_size,
                                                           uint64_t max_volume_bytes,
                                                           Index* index) {
  std::unique_ptr<VolumeSet> set(new VolumeSet);
  set->dir_ = dir;
  set->quarantine_dir_ = quarantine_dir;
  set->chunk_size_ = chunk_size;
  set->max_volume_bytes_ = max_volume_bytes;
  set->index_ = index;
  std::vector<uint32_t> ids;
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(dir));
  for (const std::string& name : names) {
    uint32_t id;
    if (ParseVolumeName(name, &id)) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  absl::MutexLock l(&set->mu_);
  for (size_t i = 0; i < ids.size(); ++i) {
    bool last = i + 1 == ids.size();
    ASSIGN_OR_RETURN(std::optional<VolumeState> st, index->GetVolume(ids[i]));
    // A read-only file was sealed even if the crash came before the index
    // learnt of it.
    // (The mode bit, not access(2): root may write to any file.)
    struct stat mode;
    if (stat(set->PathFor(ids[i]).c_str(), &mode) != 0) {
      return ErrnoStatus(errno, "reading the mode of " + set->PathFor(ids[i]));
    }
    bool writable = last && !(st && st->sealed) && (mode.st_mode & S_IWUSR) != 0;
    absl::StatusOr<std::unique_ptr<Volume>> v = Volume::Open(set->PathFor(ids[i]), writable);
    if (!v.ok() && last && v.status().code() == absl::StatusCode::kDataLoss) {
      LOG(WARNING) << set->PathFor(ids[i]) << ": " << v.status().message()
                   << "; moving it to quarantine";
      RETURN_IF_ERROR(MoveNoReplace(set->PathFor(ids[i]), absl::StrCat(quarantine_dir, "/vol-torn-",
                                                                       NowUnixNanos(), ".dat")));
      continue;
    }
    if (!v.ok()) return v.status();
    if ((*v)->id() != ids[i]) {
      return absl::DataLossError(
          absl::StrCat(set->PathFor(ids[i]), " says it is volume ", (*v)->id()));
    }
    if ((*v)->chunk_size() != chunk_size) {
      return absl::FailedPreconditionError(absl::StrCat(set->PathFor(ids[i]), " has chunk size ",
                                                        (*v)->chunk_size(),
                                                        " but the data folder's is ", chunk_size));
    }
    (*v)->set_end(st ? st->durable_end : kFirstEntryOffset);
    if (writable) set->active_ = v->get();
    set->volumes_[ids[i]] = std::move(*v);
  }
  if (set->active_ == nullptr) {
    uint32_t next = set->volumes_.empty() ? 1 : set->volumes_.rbegin()->first + 1;
    ASSIGN_OR_RETURN(auto v, Volume::Create(set->PathFor(next), next, chunk_size));
    rocksdb::WriteBatch b;
    index->PutVolume(&b, next, VolumeState{kFirstEntryOffset, false});
    RETURN_IF_ERROR(index->Commit(&b));
    set->active_ = v.get();
    set->volumes_[next] = std::move(v);
  }
  return set;
}

absl::StatusOr<Volume*> VolumeSet::Find(uint32_t id) const {
  absl::MutexLock l(&mu_);
  auto it = volumes_.find(id);
  if (it == volumes_.end()) return absl::DataLossError(absl::StrCat("volume ", id, " is missing"));
  return it->second.get();
}

absl::Status VolumeSet::PunchPayload(const Location& loc) {
  ASSIGN_OR_RETURN(Volume * v, Find(loc.volume));
  return v->PunchPayload(loc);
}

absl::StatusOr<std::string> VolumeSet::Read(const Location& loc, EntryType type,
                                            const Digest& hash) const {
  ASSIGN_OR_RETURN(Volume * v, Find(loc.volume));
  return v->Read(loc, type, hash);
}

absl::StatusOr<std::pair<EntryHeader, std::string>> VolumeSet::ReadEntry(
    const Location& loc) const {
  ASSIGN_OR_RETURN(Volume * v, Find(loc.volume));
  return v->ReadEntry(loc);
}

absl::StatusOr<std::string> VolumeSet::ReadRaw(const Location& loc) const {
  ASSIGN_OR_RETURN(Volume * v, Find(loc.volume));
  std::string out(EntryHeader::kSize + loc.length, '\0');
  ssize_t n = pread(v->fd(), out.data(), out.size(), static_cast<off_t>(loc.offset));
  if (n < 0) return ErrnoStatus(errno, absl::StrCat("reading ", v->path()));
  out.resize(static_cast<size_t>(n));
  return out;
}

absl::StatusOr<Volume*> VolumeSet::Roll(rocksdb::WriteBatch* batch) {
  RETURN_IF_ERROR(active_->Seal());
  uint32_t next = active_->id() + 1;
  ASSIGN_OR_RETURN(auto v, Volume::Create(PathFor(next), next, chunk_size_));
  LOG(INFO) << "sealed " << active_->path() << " at " << FormatBytes(active_->end())
            << "; new active volume " << v->path();
  index_->PutVolume(batch, active_->id(), VolumeState{active_->end(), true});
  index_->PutVolume(batch, next, VolumeState{kFirstEntryOffset, false});
  absl::MutexLock l(&mu_);
  active_ = v.get();
  volumes_[next] = std::move(v);
  return active_;
}

std::vector<Volume*> VolumeSet::All() const {
  absl::MutexLock l(&mu_);
  std::vector<Volume*> out;
  for (const auto& [id, v] : volumes_) out.push_back(v.get());
  return out;
}

uint64_t VolumeSet::TotalBytes() const {
  uint64_t n = 0;
  for (Volume* v : All()) n += v->end();
  return n;
}

absl::Status VolumeSet::QuarantineTail(Volume* v, uint64_t from, const std::string& why) {
  uint64_t size = v->FileSize();
  if (size <= from) return absl::OkStatus();
  std::string out =
      absl::StrFormat("%s/vol-%08u.tail-%u.%d", quarantine_dir_, v->id(), from, NowUnixNanos());
  LOG(WARNING) << v->path() << ": " << (size - from) << " bytes after offset " << from
               << " are not a complete entry (" << why << "); keeping them in " << out
               << " and truncating";
  // Durable before anything is cut off: the torn bytes are evidence too.
  RETURN_IF_ERROR(CopyTailToNewFile(v->fd(), from, out));
  if (truncate(v->path().c_str(), static_cast<off_t>(from)) != 0) {
    return ErrnoStatus(errno, absl::StrCat("truncating ", v->path()));
  }
  if (v->write_fd() >= 0 && fdatasync(v->write_fd()) != 0) {
    return ErrnoStatus(errno, "fdatasync");
  }
  return absl::OkStatus();
}

}  // namespace custody
