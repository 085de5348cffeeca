#include "server/storage/committer.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/files.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/units.h"

namespace custody {
namespace {
constexpr size_t kMaxGroupRequests = 4096;
// The committer whose thread this is (null on every other thread).
thread_local const Committer* tls_committer = nullptr;
}  // namespace

Committer::Committer(Index* index, VolumeSet* volumes, std::unique_ptr<FileWriter> writer,
                     CommitterOptions options, CommitHook* hook)
    : index_(index), volumes_(volumes), hook_(hook), writer_(std::move(writer)), options_(options) {
  thread_ = std::thread([this] { Loop(); });
}

Committer::~Committer() {
  {
    absl::MutexLock l(&mu_);
    stopping_ = true;
  }
  thread_.join();
  std::free(staging_);
}

void Committer::Submit(WriteRequest r) {
  if (r.type == EntryType::kManifest && options_.sealer != nullptr) {  // metadata: not in the clear
    SealedParts p = options_.sealer->Seal(r.key, std::string(r.body()));
    r.type = EntryType::kSealedManifest;
    r.shared_payload.reset();
    r.head = std::move(p.head);
    r.payload = std::move(p.body);
    r.tail = std::move(p.tail);
  }
  absl::MutexLock l(&mu_);
  // A callback on the committer thread (on_index, done) may queue more work,
  // as the cluster's upload does once a chunk is placed; it must not wait for
  // the queue to drain, since only this thread drains it.
  if (tls_committer != this)
    mu_.Await(absl::Condition(
        +[](Committer* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->mu_) {
          return c->queued_bytes_ < c->options_.max_queued_bytes || c->stopping_;
        },
        this));
  queued_bytes_ += r.size();
  queue_.push_back(std::move(r));
}

absl::StatusOr<WriteResult> Committer::Write(WriteRequest r) {
  if (tls_committer == this) {
    return absl::InternalError(
        "Committer::Write called on the committer thread: it would wait for itself");
  }
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

void Committer::Loop() {
  tls_committer = this;
  while (true) {
    std::deque<WriteRequest> group;
    bool idle = false;
    {
      absl::MutexLock l(&mu_);
      idle = !mu_.AwaitWithTimeout(absl::Condition(
                                       +[](Committer* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->mu_) {
                                         return c->stopping_ || !c->queue_.empty();
                                       },
                                       this),
                                   absl::Seconds(1));
      if (!idle && queue_.empty()) return;
      uint64_t bytes = 0;
      while (!queue_.empty() && group.size() < kMaxGroupRequests &&
             (group.empty() || bytes + queue_.front().size() <= options_.max_batch_bytes)) {
        bytes += queue_.front().size();
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      queued_bytes_ -= bytes;
    }
    if (idle) {  // sign what is due, so recent events do not wait for more
      if (hook_ != nullptr) SignIfDue(absl::OkStatus());
      continue;
    }
    RunGroup(std::move(group));
  }
}

// Tells the hook how the group's batch ended, and commits what it has due
// (an audit checkpoint).
void Committer::AfterCommit(const absl::Status& status) {
  if (hook_ == nullptr) return;
  hook_->OnCommit(status.ok());
  SignIfDue(status);
}

void Committer::SignIfDue(const absl::Status& status) {
  if (!status.ok()) return;
  rocksdb::WriteBatch b;
  bool added = false;
  absl::Status s = hook_->AddDue(&b, &added);
  if (s.ok() && !added) return;
  hook_->BeforeCommit(&b);
  if (s.ok()) s = index_->Commit(&b);
  if (!s.ok()) LOG(ERROR) << "committing what the commit hook had due: " << s;
}

// Whether the node already holds `r`'s key; fills `res` if so.
absl::StatusOr<bool> Committer::IsHeld(const WriteRequest& r, WriteResult* res) {
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
void Committer::Stage(const std::deque<WriteRequest>& reqs, const std::vector<WriteResult>& results,
                      const std::vector<size_t>& fresh, uint64_t start, uint64_t end) {
  uint64_t need = end - start;
  if (need > staging_size_) {
    std::free(staging_);
    staging_size_ = std::max<uint64_t>(need, options_.max_batch_bytes + kAlign * 16);
    staging_ = static_cast<char*>(std::aligned_alloc(kAlign, staging_size_));
    std::memset(staging_, 0, staging_size_);  // touch it now, once
  }
  for (size_t i : fresh) {
    const WriteRequest& r = reqs[i];
    EncodeEntryTo(
        staging_ + (results[i].location.offset - start), r.type, {r.head, r.body(), r.tail},
        IsChunkEntry(r.type) || r.type == EntryType::kSealedManifest ? r.key
                                                                     : Digest::Of(r.body()));
  }
}

absl::Status Committer::CheckSpace(uint64_t bytes) const {
  // A file system that cannot say (an error here) is written to; the write
  // itself reports a full disk.
  absl::StatusOr<uint64_t> free = FreeBytes(volumes_->dir());
  if (!free.ok()) return absl::OkStatus();
  const uint64_t free_bytes = *free;
  const uint64_t reserve = std::max(options_.min_free_bytes, kHardReserveBytes);
  if (free_bytes < bytes + reserve) {
    return absl::ResourceExhaustedError(
        absl::StrCat("disk full: ", FormatBytes(free_bytes), " free, ", FormatBytes(bytes),
                     " to write and ", FormatBytes(reserve), " kept in reserve"));
  }
  return absl::OkStatus();
}

// One group: dedup, append every new entry to the active volume, sync, then
// commit the index batch; callbacks run last.
// One group commit: its requests, their results, and the span of the
// active volume it writes (start..pos).
struct Committer::Group {
  std::deque<WriteRequest> reqs;
  std::vector<WriteResult> results;
  std::vector<size_t> fresh;  // requests that get a new volume entry
  Volume* vol = nullptr;
  uint64_t start = 0, pos = 0;
};

void Committer::RefuseWhenFull(std::deque<WriteRequest>* reqs) {
  absl::StatusOr<uint64_t> free = FreeBytes(volumes_->dir());
  if (!free.ok()) return;  // the writes themselves will say
  uint64_t volume_bytes = 0;
  for (const WriteRequest& r : *reqs) {
    if (!r.index_only) volume_bytes += EntryHeader::Span(r.size());
  }
  const bool no_room = *free < kHardReserveBytes;
  const bool no_data_room =
      *free < volume_bytes + std::max(options_.min_free_bytes, kHardReserveBytes);
  if (!no_room && (volume_bytes == 0 || !no_data_room)) return;
  absl::Status refused = absl::ResourceExhaustedError(absl::StrCat(
      "disk full: ", FormatBytes(*free), " free; ",
      no_room ? absl::StrCat(FormatBytes(kHardReserveBytes),
                             " is the hard reserve (the index's own work and an orderly stop)")
              : absl::StrCat(FormatBytes(volume_bytes), " to write and ",
                             FormatBytes(options_.min_free_bytes), " kept in reserve")));
  std::deque<WriteRequest> kept;
  for (WriteRequest& r : *reqs) {
    if (no_room || !r.index_only) {
      std::move(r.done)(refused);
    } else {
      kept.push_back(std::move(r));
    }
  }
  *reqs = std::move(kept);
}

void Committer::RunGroup(std::deque<WriteRequest> reqs) {
  RefuseWhenFull(&reqs);
  if (reqs.empty()) return;
  Group g;
  g.results.resize(reqs.size());
  g.reqs = std::move(reqs);
  g.vol = volumes_->active();
  g.start = g.pos = g.vol->end();
  absl::Status status = Place(g);
  if (status.ok() && g.pos > g.start) status = WriteEntries(g);
  if (status.ok()) status = CommitIndex(g);
  AfterCommit(status);
  if (!status.ok() && g.pos > g.start) {
    // Nothing in the index points past `start`: give the bytes back.
    if (ftruncate(g.vol->write_fd(), static_cast<off_t>(g.start)) != 0) {
      LOG(ERROR) << "truncating " << g.vol->path()
                 << " after a failed write: " << std::strerror(errno);
    }
  }
  if (status.ok()) {
    g.vol->set_end(g.pos);
    RollIfFull();
  } else {
    LOG(WARNING) << "group of " << g.reqs.size() << " writes failed: " << status;
  }
  for (size_t i = 0; i < g.reqs.size(); ++i) {
    std::string().swap(g.reqs[i].payload);  // let go of the bytes before answering
    g.reqs[i].shared_payload.reset();
    if (status.ok()) {
      std::move(g.reqs[i].done)(g.results[i]);
    } else {
      std::move(g.reqs[i].done)(status);
    }
  }
}

// Gives every request that needs one a place in the volume; a key held
// already, or twice in the group, is written once.
absl::Status Committer::Place(Group& g) {
  absl::flat_hash_map<std::pair<int, Digest>, size_t> seen;
  for (size_t i = 0; i < g.reqs.size(); ++i) {
    WriteRequest& r = g.reqs[i];
    if (r.index_only) continue;
    auto key = std::make_pair(static_cast<int>(r.type), r.key);
    if (auto it = seen.find(key); it != seen.end()) {
      g.results[i] = WriteResult{g.results[it->second].location, true};
      continue;
    }
    seen[key] = i;
    absl::StatusOr<bool> held = r.replace ? false : IsHeld(r, &g.results[i]);
    if (!held.ok()) return held.status();
    if (*held) continue;
    g.results[i].location = Location{g.vol->id(), g.pos, static_cast<uint32_t>(r.size())};
    g.pos += EntryHeader::Span(g.results[i].location.length);
    g.fresh.push_back(i);
  }
  return absl::OkStatus();
}

absl::Status Committer::WriteEntries(Group& g) {
  Stage(g.reqs, g.results, g.fresh, g.start, g.pos);
  RETURN_IF_ERROR(CheckSpace(g.pos - g.start));
  WriteOp op{g.vol->write_fd(), g.start, {{staging_, g.pos - g.start}}};
  return writer_->WriteAndSync({op}, {g.vol->write_fd()});
}

// The group's index entries, the requests' own changes and the hook's, in
// one batch.
absl::Status Committer::CommitIndex(Group& g) {
  rocksdb::WriteBatch b;
  for (size_t i : g.fresh) {
    if (IsChunkEntry(g.reqs[i].type)) {
      b.Put(index_->chunks(), KeyOf(g.reqs[i].key), g.results[i].location.Encode());
    }
  }
  if (g.pos > g.start) index_->PutVolume(&b, g.vol->id(), VolumeState{g.pos, false});
  for (size_t i = 0; i < g.reqs.size(); ++i) {
    if (g.reqs[i].on_index) g.reqs[i].on_index(&b, g.results[i]);
  }
  if (hook_ != nullptr) hook_->BeforeCommit(&b);
  return index_->Commit(&b);
}

void Committer::RollIfFull() {
  if (!volumes_->ShouldRoll()) return;
  rocksdb::WriteBatch b;
  absl::Status s = volumes_->Roll(&b).status();
  if (s.ok()) s = index_->Commit(&b);
  if (!s.ok()) LOG(ERROR) << "sealing volume " << volumes_->active()->path() << ": " << s;
}

}  // namespace custody
