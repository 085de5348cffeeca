#include "server/committer.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/log.h"
#include "common/units.h"

namespace custody {
namespace {
constexpr size_t kMaxGroupRequests = 4096;
}  // namespace

// A group from the writing thread to the syncing thread: its bytes are
// [start, end) of `vol`, written unless `status` says otherwise.
struct Committer::Group {
  std::deque<WriteRequest> reqs;
  std::vector<WriteResult> results;
  std::vector<size_t> fresh;  // the requests written here
  Volume* vol = nullptr;
  uint64_t start = 0, end = 0;
  absl::Status status;
};

Committer::Committer(Index* index, VolumeSet* volumes, std::unique_ptr<FileWriter> writer,
                     CommitterOptions options, AuditLog* audit)
    : index_(index),
      volumes_(volumes),
      audit_(audit),
      writer_(std::move(writer)),
      options_(options),
      pos_(volumes->active()->end()) {
  write_thread_ = std::thread([this] { WriteLoop(); });
  sync_thread_ = std::thread([this] { SyncLoop(); });
}

Committer::~Committer() {
  {
    absl::MutexLock l(&mu_);
    stopping_ = true;
  }
  write_thread_.join();
  sync_thread_.join();
  std::free(staging_);
}

void Committer::Submit(WriteRequest r) {
  absl::MutexLock l(&mu_);
  mu_.Await(absl::Condition(
      +[](Committer* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->mu_) {
        return c->queued_bytes_ < c->options_.max_queued_bytes || c->stopping_;
      },
      this));
  queued_bytes_ += r.size();
  queue_.push_back(std::move(r));
}

absl::StatusOr<WriteResult> Committer::Write(WriteRequest r) {
  absl::Notification n;
  absl::StatusOr<WriteResult> out;
  r.done = [&](absl::StatusOr<WriteResult> res) {
    out = std::move(res);
    n.Notify();
  };
  Submit(std::move(r));
  n.WaitForNotification();
  return out;
}

void Committer::WriteLoop() {
  for (std::deque<WriteRequest> reqs; !(reqs = Take()).empty();) {
    PrepareVolume();
    Hand(WriteGroup(std::move(reqs)));
  }
  absl::MutexLock l(&mu_);
  written_all_ = true;
}

// The next group from the queue; empty once stopping with nothing queued.
std::deque<WriteRequest> Committer::Take() {
  std::deque<WriteRequest> group;
  absl::MutexLock l(&mu_);
  mu_.Await(absl::Condition(
      +[](Committer* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->mu_) {
        return c->stopping_ || !c->queue_.empty();
      },
      this));
  uint64_t bytes = 0;
  while (!queue_.empty() && group.size() < kMaxGroupRequests &&
         (group.empty() || bytes + queue_.front().size() <= options_.max_batch_bytes)) {
    bytes += queue_.front().size();
    group.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  queued_bytes_ -= bytes;
  return group;
}

// Before a group is laid out: after a failed group, or once the active
// volume is full, waits until every group handed on was answered, then
// gives back the bytes of the failed ones, or rolls to a new volume.
void Committer::PrepareVolume() {
  {
    absl::MutexLock l(&mu_);
    if (broken_.ok() && pos_ < volumes_->max_volume_bytes()) return;
    mu_.Await(absl::Condition(
        +[](Committer* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->mu_) { return c->unfinished_ == 0; },
        this));
    broken_ = absl::OkStatus();
  }
  Volume* vol = volumes_->active();
  if (pos_ > vol->end() && ftruncate(vol->write_fd(), static_cast<off_t>(vol->end())) != 0) {
    LOG(ERROR) << "truncating " << vol->path() << " after a failed write: " << std::strerror(errno);
  }
  pos_ = vol->end();
  if (!volumes_->ShouldRoll()) return;
  rocksdb::WriteBatch b;
  absl::Status s = volumes_->Roll(&b).status();
  if (s.ok()) s = index_->Commit(&b);
  if (!s.ok()) LOG(ERROR) << "sealing volume " << vol->path() << ": " << s;
  pos_ = volumes_->active()->end();
}

// Lays the group out, stages and writes its new entries (not synced yet),
// and lets go of every request's bytes.
Committer::Group Committer::WriteGroup(std::deque<WriteRequest> reqs) {
  Group g;
  g.reqs = std::move(reqs);
  g.results.resize(g.reqs.size());
  g.vol = volumes_->active();
  g.start = g.end = pos_;
  g.status = Place(&g);
  const bool bytes = g.status.ok() && g.end > g.start;
  if (bytes) Stage(g);
  if (bytes) g.status = CheckSpace(g.end - g.start);
  if (bytes && g.status.ok()) {
    WriteOp op{g.vol->write_fd(), g.start, {{staging_, g.end - g.start}}};
    g.status = writer_->WriteAndSync({op}, {});
    absl::MutexLock l(&mu_);
    if (!g.status.ok()) broken_ = g.status;  // its bytes are unspecified
  }
  for (WriteRequest& r : g.reqs) {
    std::string().swap(r.payload);
    r.shared_payload.reset();
  }
  if (!g.status.ok()) return g;
  pos_ = g.end;
  absl::MutexLock l(&mu_);
  for (size_t i : g.fresh) {
    in_flight_[{static_cast<int>(g.reqs[i].type), g.reqs[i].key}] = g.results[i].location;
  }
  return g;
}

// Drops what is held already or twice in the group, and gives every new
// entry its place: header + payload + padding each, from g->start on.
absl::Status Committer::Place(Group* g) {
  absl::flat_hash_map<EntryKey, size_t> seen;
  for (size_t i = 0; i < g->reqs.size(); ++i) {
    const WriteRequest& r = g->reqs[i];
    if (r.index_only) continue;
    EntryKey key(static_cast<int>(r.type), r.key);
    if (auto it = seen.find(key); it != seen.end()) {
      g->results[i] = WriteResult{g->results[it->second].location, true};
      continue;
    }
    seen[key] = i;
    absl::StatusOr<bool> held = r.replace ? false : IsHeld(r, &g->results[i]);
    if (!held.ok()) return held.status();
    if (*held) continue;
    g->results[i].location = Location{g->vol->id(), g->end, static_cast<uint32_t>(r.size())};
    g->end += EntryHeader::Span(g->results[i].location.length);
    g->fresh.push_back(i);
  }
  return absl::OkStatus();
}

// Whether the node already holds `r`'s key, or is syncing it; fills `res`
// if so. The syncing thread indexes an entry before it forgets it, so the
// in-flight set is looked at first.
absl::StatusOr<bool> Committer::IsHeld(const WriteRequest& r, WriteResult* res) {
  {
    absl::MutexLock l(&mu_);
    auto it = in_flight_.find(EntryKey(static_cast<int>(r.type), r.key));
    if (it != in_flight_.end()) {
      *res = WriteResult{it->second, true};
      return true;
    }
  }
  if (IsChunkEntry(r.type)) {
    absl::StatusOr<std::optional<Location>> found = index_->FindChunk(r.key);
    if (!found.ok()) return found.status();
    if (!found->has_value()) return false;
    *res = WriteResult{**found, true};
    return true;
  }
  absl::StatusOr<bool> has = index_->HasObject(r.key);
  if (!has.ok()) return has.status();
  res->existed = *has;
  return *has;
}

// Lays out the fresh entries, header + payload + zero padding each, in the
// aligned staging buffer (one write, O_DIRECT-ready).
void Committer::Stage(const Group& g) {
  uint64_t need = g.end - g.start;
  if (need > staging_size_) {
    std::free(staging_);
    staging_size_ = std::max<uint64_t>(need, options_.max_batch_bytes + kAlign * 16);
    staging_ = static_cast<char*>(std::aligned_alloc(kAlign, staging_size_));
    std::memset(staging_, 0, staging_size_);  // touch it now, once
  }
  for (size_t i : g.fresh) {
    const WriteRequest& r = g.reqs[i];
    EncodeEntryTo(staging_ + (g.results[i].location.offset - g.start), r.type,
                  {r.head, r.body(), r.tail},
                  IsChunkEntry(r.type) ? r.key : Digest::Of(r.body()));
  }
}

absl::Status Committer::CheckSpace(uint64_t bytes) const {
  struct statvfs st;
  if (statvfs(volumes_->dir().c_str(), &st) != 0) return absl::OkStatus();
  uint64_t free_bytes = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  if (free_bytes < bytes + options_.min_free_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "disk full: ", FormatBytes(free_bytes), " free, ", FormatBytes(bytes),
        " to write and ", FormatBytes(options_.min_free_bytes), " kept in reserve"));
  }
  return absl::OkStatus();
}

// Hands a written group to the syncing thread, once it took the last one.
void Committer::Hand(Group g) {
  absl::MutexLock l(&mu_);
  mu_.Await(absl::Condition(
      +[](Committer* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->mu_) { return c->handed_ == nullptr; },
      this));
  handed_ = std::make_unique<Group>(std::move(g));
  ++unfinished_;
}

void Committer::SyncLoop() {
  while (true) {
    std::unique_ptr<Group> g;
    bool ended = false;
    {
      absl::MutexLock l(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(
                               +[](Committer* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->mu_) {
                                 return c->handed_ != nullptr || c->written_all_;
                               },
                               this),
                           absl::Seconds(1));
      g = std::move(handed_);
      ended = g == nullptr && written_all_;
    }
    if (ended) return;
    if (g == nullptr) {  // idle: sign what is due, so recent events do not wait for more
      if (audit_ != nullptr) SignIfDue(absl::OkStatus());
      continue;
    }
    Finish(std::move(*g));
    absl::MutexLock l(&mu_);
    --unfinished_;
  }
}

// Syncs a written group, commits its index batch, then answers every
// request. Fails it when a group written before it failed.
void Committer::Finish(Group g) {
  absl::Status status = g.status;
  if (status.ok()) {
    absl::MutexLock l(&mu_);
    status = broken_;
  }
  const bool bytes = g.end > g.start;
  if (status.ok() && bytes) status = writer_->Sync(g.vol->write_fd());
  if (status.ok()) status = CommitIndex(g);
  AfterCommit(status);
  if (status.ok() && bytes) g.vol->set_end(g.end);
  if (!status.ok()) LOG(WARNING) << "group of " << g.reqs.size() << " writes failed: " << status;
  {
    absl::MutexLock l(&mu_);
    // A write that failed said so itself; these bytes were written.
    if (!status.ok() && bytes && g.status.ok() && broken_.ok()) broken_ = status;
    for (size_t i : g.fresh) in_flight_.erase({static_cast<int>(g.reqs[i].type), g.reqs[i].key});
  }
  for (size_t i = 0; i < g.reqs.size(); ++i) {
    if (status.ok()) std::move(g.reqs[i].done)(g.results[i]);
    else std::move(g.reqs[i].done)(status);
  }
}

// The group's index batch: its chunks, the volume's new end, the callers'
// own changes and the audit log's.
absl::Status Committer::CommitIndex(Group& g) {
  rocksdb::WriteBatch b;
  for (size_t i : g.fresh) {
    if (IsChunkEntry(g.reqs[i].type)) {
      b.Put(index_->chunks(), KeyOf(g.reqs[i].key), g.results[i].location.Encode());
    }
  }
  if (g.end > g.start) index_->PutVolume(&b, g.vol->id(), VolumeState{g.end, false});
  for (size_t i = 0; i < g.reqs.size(); ++i) {
    if (g.reqs[i].on_index) g.reqs[i].on_index(&b, g.results[i]);
  }
  if (audit_ != nullptr) audit_->BeforeCommit(&b);
  return index_->Commit(&b);
}

// Tells the audit log how the group's batch ended, and signs a checkpoint
// when one is due.
void Committer::AfterCommit(const absl::Status& status) {
  if (audit_ == nullptr) return;
  audit_->OnCommit(status.ok());
  SignIfDue(status);
}

void Committer::SignIfDue(const absl::Status& status) {
  if (!status.ok() || !audit_->CheckpointDue()) return;
  rocksdb::WriteBatch b;
  absl::Status s = audit_->SignCheckpoint(&b).status();
  audit_->BeforeCommit(&b);
  if (s.ok()) s = index_->Commit(&b);
  if (!s.ok()) LOG(ERROR) << "signing an audit checkpoint: " << s;
}

}  // namespace custody
