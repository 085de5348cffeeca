// A live upload on R nodes (doc/live.md, "On R nodes"): the owner mirrors
// each step on R - 1 other nodes; a mirror node takes the upload over when
// the client fails over to it; a node that meets a later epoch than its
// own gives its upload up.
#include "absl/base/internal/endian.h"
#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "server/objects/live_upload.h"

namespace custody {

namespace {

v1::AuditEvent LiveNodeEvent(const char* action, const internal::v1::LiveRecord& rec,
                             const std::string& actor) {
  v1::AuditEvent e = LiveEvent(action, rec.info(), actor);
  AddDetail(&e, "epoch", absl::StrCat(rec.epoch()));
  return e;
}

}  // namespace

// ------------------------------------------------------------- LiveStream --

namespace {

// The whole upload as a mirror request: every chunk and the whole tail.
internal::v1::LiveMirrorRequest WholeMirrorOf(const internal::v1::LiveRecord& rec,
                                              const std::vector<std::string>& chunks,
                                              const std::string& chunks_hash_state,
                                              const std::string& tail) {
  internal::v1::LiveMirrorRequest req;
  *req.mutable_record() = rec;
  for (const std::string& c : chunks) req.mutable_record()->add_chunks(c);
  req.mutable_record()->set_chunks_hash_state(chunks_hash_state);
  req.set_offset(rec.tail_offset());
  req.set_data(tail);
  return req;
}

std::vector<std::string> RawChunks(const std::vector<Digest>& chunks) {
  std::vector<std::string> raw;
  for (const Digest& d : chunks) raw.push_back(std::string(d.Raw()));
  return raw;
}

}  // namespace

absl::StatusOr<internal::v1::LiveMirrorRequest> LiveStream::WholeMirror() {
  std::string tail;
  std::vector<uint64_t> pieces;
  RETURN_IF_ERROR(mgr_->LoadTail(rec_, &tail, &pieces));
  return WholeMirrorOf(rec_, chunks_, chunks_hash_state_, tail);
}

absl::Status LiveStream::Mirror(uint32_t first_chunk, uint64_t offset, const std::string& data) {
  if (mgr_->mirror_ == nullptr) return absl::OkStatus();
  internal::v1::LiveMirrorRequest step;
  *step.mutable_record() = rec_;
  for (size_t i = first_chunk; i < chunks_.size(); ++i)
    step.mutable_record()->add_chunks(chunks_[i]);
  if (first_chunk < chunks_.size())
    step.mutable_record()->set_chunks_hash_state(chunks_hash_state_);
  step.set_first_chunk(first_chunk);
  step.set_offset(offset);
  step.set_data(data);
  ASSIGN_OR_RETURN(LiveMirror::Sent sent,
                   mgr_->mirror_->Send(step, [this] { return WholeMirror(); }));
  const std::string& id = rec_.info().live_id();
  if (!sent.taken_by.empty()) {
    RETURN_IF_ERROR(mgr_->Demote(id, sent.taken_by));
    return absl::UnavailableError(absl::StrCat("live upload ", id, " was taken over by node ",
                                               sent.taken_by,
                                               " while this node was unreachable: stream there"));
  }
  mirrored_ = static_cast<uint32_t>(sent.nodes.size());
  return absl::OkStatus();
}

absl::Status LiveStream::MirrorWhole() {
  if (mgr_->mirror_ == nullptr) return absl::OkStatus();
  ASSIGN_OR_RETURN(UploadManager::Persisted p, mgr_->uploads_->Load(rec_.info().live_id()));
  chunks_ = RawChunks(p.chunks);
  chunks_hash_state_ = p.last_hash_state;
  ASSIGN_OR_RETURN(internal::v1::LiveMirrorRequest whole, WholeMirror());
  return Mirror(0, whole.offset(), whole.data());
}

// ------------------------------------------------------------ LiveUploads --

absl::StatusOr<std::vector<std::string>> LiveUploads::TailKeys(const std::string& live_id) {
  Index* index = uploads_->index_;
  const std::string begin = live_id + '\5', end = live_id + '\6';
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(index->db()->NewIterator(ro, index->uploads()));
  std::vector<std::string> keys;
  for (it->Seek(begin); it->Valid(); it->Next()) keys.push_back(it->key().ToString());
  RETURN_IF_ERROR(FromRocksStatus(it->status(), "reading a live upload's tail"));
  return keys;
}

void LiveUploads::PutChunks(const std::string& live_id,
                            const google::protobuf::RepeatedPtrField<std::string>& chunks,
                            const std::string& hash_state, rocksdb::WriteBatch* b) {
  for (int i = 0; i < chunks.size(); ++i) {
    internal::v1::UploadChunk c;
    c.set_sha256(chunks[i]);
    c.set_length(uploads_->chunk_size_);
    if (i + 1 == chunks.size()) c.set_file_hash_state(hash_state);
    b->Put(uploads_->index_->uploads(), UploadChunkKey(live_id, static_cast<uint32_t>(i)),
           c.SerializeAsString());
  }
}

absl::Status LiveUploads::TakeOver(const std::string& id, const std::string& owner,
                                   const std::string& actor) {
  ASSIGN_OR_RETURN(LiveMirrorStore::Copy copy, mirrors_->Load(id));
  if (copy.rec.info().owner() != owner) {
    return absl::PermissionDeniedError(absl::StrCat(
        "live upload ", id, " belongs to ", copy.rec.info().owner(), "; only they append to it"));
  }
  if (copy.rec.info().state() != "recording") {
    return absl::FailedPreconditionError(
        absl::StrCat("live upload ", id, " was ", copy.rec.info().state(), " on node ",
                     copy.rec.owner_node(), " as ", copy.rec.info().object_id()));
  }
  const std::string from = copy.rec.owner_node();
  absl::StatusOr<internal::v1::LiveRecord> there =
      mirror_->HandOff(from, id, copy.rec.info().held());
  if (there.ok()) {
    const v1::LiveInfo& t = there->info();
    if (t.state() == "sealed" || t.state() == "truncated") {
      return absl::FailedPreconditionError(absl::StrCat("live upload ", id, " was ", t.state(),
                                                        " on node ", from, " as ", t.object_id()));
    }
    if (t.state() == "moved" && there->info().moved_to() != mirror_->self()) {
      return absl::UnavailableError(absl::StrCat("live upload ", id, " moved to node ",
                                                 there->info().moved_to(), ": stream there"));
    }
  } else if (absl::IsAborted(there.status())) {
    return absl::UnavailableError(absl::StrCat("live upload ", id, " is being streamed on node ",
                                               from, ": ", there.status().message()));
  } else if (!absl::IsUnavailable(there.status()) && !absl::IsDeadlineExceeded(there.status()) &&
             !absl::IsNotFound(there.status())) {
    return there.status();
  }  // else its owner is down: the client could not reach it either
  internal::v1::LiveRecord rec = copy.rec;
  rec.clear_chunks();
  rec.clear_chunks_hash_state();
  rec.clear_owner_node();
  rec.mutable_info()->clear_moved_to();
  rec.set_epoch(copy.rec.epoch() + 1);
  ASSIGN_OR_RETURN(std::vector<std::string> stale, TailKeys(id));
  ASSIGN_OR_RETURN(UploadManager::Persisted before, uploads_->Load(id));  // when it was ours
  for (size_t i = copy.rec.chunks_size(); i < before.chunks.size(); ++i) {
    stale.push_back(UploadChunkKey(id, static_cast<uint32_t>(i)));
  }
  ASSIGN_OR_RETURN(std::vector<std::string> mirror_keys, mirrors_->Keys(id));
  v1::AuditEvent e = LiveNodeEvent("live.taken-over", rec, actor);
  AddDetail(&e, "from_node", from);
  AddDetail(&e, "owner_answered",
            there.ok() ? "handed off" : std::string(there.status().message()));
  rocksdb::ColumnFamilyHandle* cf = uploads_->index_->uploads();
  return trail_->Write(std::move(e), [&](rocksdb::WriteBatch* b) {
    for (const std::string& k : stale) b->Delete(cf, k);
    for (const std::string& k : mirror_keys) b->Delete(cf, k);
    b->Put(cf, UploadStateKey(id), LiveUploadState(rec).SerializeAsString());
    PutChunks(id, copy.rec.chunks(), copy.rec.chunks_hash_state(), b);
    if (!copy.tail.empty()) b->Put(cf, LiveTailKey(id, rec.tail_offset()), copy.tail);
    b->Put(cf, LiveRecordKey(id), rec.SerializeAsString());
  });
}

absl::StatusOr<std::string> LiveUploads::TakenBy(const internal::v1::LiveRecord& rec,
                                                 const std::string& tail) {
  ASSIGN_OR_RETURN(UploadManager::Persisted p, uploads_->Load(rec.info().live_id()));
  const internal::v1::LiveMirrorRequest whole =
      WholeMirrorOf(rec, RawChunks(p.chunks), p.last_hash_state, tail);
  ASSIGN_OR_RETURN(LiveMirror::Sent sent, mirror_->Send(whole, [&] { return whole; }));
  return sent.taken_by;
}

void LiveUploads::DropMirrors(const internal::v1::LiveRecord& sealed) {
  if (mirror_ == nullptr) return;
  internal::v1::LiveMirrorRequest step;
  *step.mutable_record() = sealed;
  step.mutable_record()->clear_chunks();
  step.set_offset(sealed.info().held());
  mirror_->Tell(step);  // every node: a stand-in that fell behind hears it too
}

absl::Status LiveUploads::Claim(const std::string& live_id, const std::string& by) {
  if (mirror_ == nullptr) return absl::OkStatus();
  absl::StatusOr<internal::v1::LiveRecord> own = Load(live_id);
  if (own.ok() || !absl::IsNotFound(own.status())) return own.status();
  absl::StatusOr<LiveMirrorStore::Copy> copy = mirrors_->Load(live_id);
  if (absl::IsNotFound(copy.status())) return absl::OkStatus();
  if (!copy.ok()) return copy.status();
  return TakeOver(live_id, copy->rec.info().owner(), by);
}

absl::Status LiveUploads::Demote(const std::string& live_id, const std::string& to) {
  ASSIGN_OR_RETURN(internal::v1::LiveRecord rec, Load(live_id));
  if (rec.info().state() != "recording") return absl::OkStatus();
  rec.mutable_info()->set_state("moved");
  rec.mutable_info()->set_moved_to(to);
  v1::AuditEvent e = LiveNodeEvent("live.moved", rec, "node:" + mirror_->self());
  AddDetail(&e, "to_node", to);
  return trail_->Write(std::move(e), [&](rocksdb::WriteBatch* b) {
    b->Put(uploads_->index_->uploads(), LiveRecordKey(live_id), rec.SerializeAsString());
  });
}

absl::StatusOr<internal::v1::LiveRecord> LiveUploads::HandOff(const std::string& live_id,
                                                              const std::string& to,
                                                              uint64_t held) {
  if (mirror_ == nullptr)
    return absl::FailedPreconditionError("live uploads are not mirrored here");
  {
    absl::MutexLock l(&mu_);
    if (!active_.insert(live_id).second) {
      return absl::AbortedError(absl::StrCat("a stream appends to live upload ", live_id));
    }
  }
  absl::Cleanup release = [&] { Release(live_id); };
  ASSIGN_OR_RETURN(internal::v1::LiveRecord rec, Load(live_id));
  if (rec.info().state() == "recording" && rec.info().held() > held) {
    return absl::AbortedError(absl::StrCat("node ", to, "'s copy of live upload ", live_id,
                                           " holds ", held, " bytes, this node ", rec.info().held(),
                                           ": it stays here"));
  }
  RETURN_IF_ERROR(Demote(live_id, to));
  return Load(live_id);
}

absl::StatusOr<internal::v1::LiveMirrorResponse> LiveUploads::ApplyMirror(
    const internal::v1::LiveMirrorRequest& req, const std::string& from) {
  const std::string& id = req.record().info().live_id();
  if (mirror_ == nullptr || !absl::StartsWith(id, "live-")) {
    return absl::FailedPreconditionError("live uploads are not mirrored here");
  }
  absl::StatusOr<internal::v1::LiveRecord> own = Load(id);
  if (!own.ok() && !absl::IsNotFound(own.status())) return own.status();
  if (own.ok() && own->info().state() != "moved") {
    // This node holds it (or sealed it: nobody takes a sealed upload over).
    if (own->epoch() >= req.record().epoch() || own->info().state() != "recording") {
      internal::v1::LiveMirrorResponse r;
      r.set_held_by(mirror_->self());
      return r;
    }
    // Taken over while this node was unreachable: given up to the sender.
    RETURN_IF_ERROR(HandOff(id, from, UINT64_MAX).status());
  }
  return mirrors_->Apply(req, from);
}

}  // namespace custody
