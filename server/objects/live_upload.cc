#include "server/objects/live_upload.h"

#include <algorithm>

#include "absl/base/internal/endian.h"
#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/live_chain.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "server/objects/purger.h"
#include "server/storage/chunk_io.h"

namespace custody {

namespace {

int64_t Now() { return absl::ToUnixNanos(absl::Now()); }

v1::UploadHeader AsUploadHeader(const v1::LiveInfo& info, const std::string& media_type) {
  v1::UploadHeader h;
  h.set_upload_id(info.live_id());
  h.set_file_name(info.file_name());
  h.set_media_type(media_type);
  h.mutable_metadata()->insert(info.metadata().begin(), info.metadata().end());
  return h;
}

// The upload as the API shows it.
v1::LiveInfo InfoOf(const internal::v1::LiveRecord& rec) {
  v1::LiveInfo info = rec.info();
  Sha256 hash;
  absl::StatusOr<Sha256> held = Sha256::RestoreState(rec.file_hash_state());
  if (info.held() > 0 && held.ok()) hash = *std::move(held);
  if (info.held() == 0 || held.ok()) info.set_held_sha256(hash.Finish().ToString());
  return info;
}

}  // namespace

std::string LiveRecordKey(const std::string& live_id) { return live_id + '\4'; }

v1::AuditEvent LiveEvent(const char* action, const v1::LiveInfo& info, const std::string& actor) {
  v1::AuditEvent e = NewEvent(action, "live:" + info.live_id(), actor);
  AddDetail(&e, "device", info.device());
  AddDetail(&e, "file_name", info.file_name());
  AddDetail(&e, "held", absl::StrCat(info.held()));
  return e;
}

internal::v1::UploadState LiveUploadState(const internal::v1::LiveRecord& rec) {
  const v1::LiveInfo& info = rec.info();
  internal::v1::UploadState st;
  st.set_upload_id(info.live_id());
  st.set_file_name(info.file_name());
  st.set_media_type(rec.media_type());
  st.mutable_metadata()->insert(info.metadata().begin(), info.metadata().end());
  st.set_created_unix_nanos(info.opened_unix_nanos());
  return st;
}

std::string LiveTailKey(const std::string& live_id, uint64_t offset) {
  char be[8];
  absl::big_endian::Store64(be, offset);
  return live_id + '\5' + std::string(be, sizeof(be));
}

// ------------------------------------------------------------- LiveStream --

LiveStream::~LiveStream() { mgr_->Release(rec_.info().live_id()); }

v1::LiveAck LiveStream::Ack() const {
  v1::LiveAck a;
  a.set_held(rec_.info().held());
  a.set_chain(rec_.info().chain());
  a.set_last_segment_unix_nanos(rec_.info().last_segment_unix_nanos());
  a.set_state(rec_.info().state());
  a.set_object_id(rec_.info().object_id());
  a.set_durable_replicas(1 + mirrored_);  // the full chunks are on their R homes
  return a;
}

absl::Status LiveStream::StoreChunk(const Digest& d, std::string data) {
  UploadManager* u = mgr_->uploads_;
  ASSIGN_OR_RETURN(bool purged, Purger::IsTombstoned(u->index_, d));
  if (purged) {
    return absl::FailedPreconditionError(
        absl::StrCat("chunk ", d.ToString(), " was purged; it is not stored again"));
  }
  if (u->placement_ == nullptr) {
    return u->committer_->Write(ChunkWrite(d, std::move(data), u->sealer_)).status();
  }
  absl::Notification done;
  absl::Status result;
  u->placement_->hashed_chunks()->Put(d, std::move(data), [&](absl::Status s) {
    result = s;
    done.Notify();
  });
  done.WaitForNotification();
  return result;
}

absl::StatusOr<v1::LiveAck> LiveStream::Append(const v1::LiveSegment& segment) {
  RETURN_IF_ERROR(broken_);
  const std::string& data = segment.data();
  v1::LiveInfo& info = *rec_.mutable_info();
  if (data.empty() || data.size() > LiveUploads::kMaxSegment) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a segment holds 1 byte to ", LiveUploads::kMaxSegment, ", not ", data.size()));
  }
  const std::string chain = NextLiveChain(info.chain(), info.held(), data);
  if (chain != segment.chain()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the segment at byte ", info.held(), " of ", info.live_id(),
        " does not follow the chain: a segment was dropped, repeated or reordered (resume from ",
        info.held(), ")"));
  }
  broken_ = absl::AbortedError("an earlier segment of this stream failed; resume on a new one");
  rocksdb::WriteBatch batch;
  const uint64_t held_before = info.held();
  const uint32_t first_new = next_chunk_;
  RETURN_IF_ERROR(AddBytes(data, &batch));
  info.set_held(info.held() + data.size());
  info.set_chain(chain);
  info.set_last_segment_unix_nanos(Now());
  rec_.set_file_hash_state(hash_.SaveState());
  batch.Put(mgr_->uploads_->index_->uploads(), LiveRecordKey(info.live_id()),
            rec_.SerializeAsString());
  RETURN_IF_ERROR(mgr_->uploads_->index_->Commit(&batch));
  RETURN_IF_ERROR(Mirror(first_new, held_before, data));
  broken_ = absl::OkStatus();
  return Ack();
}

absl::Status LiveStream::AddBytes(const std::string& data, rocksdb::WriteBatch* batch) {
  const uint32_t chunk_size = mgr_->uploads_->chunk_size_;
  rocksdb::ColumnFamilyHandle* cf = mgr_->uploads_->index_->uploads();
  const std::string& id = rec_.info().live_id();
  const uint64_t tail_before = rec_.tail_offset(), held_before = rec_.info().held();
  uint64_t tail_size = held_before - tail_before;  // held after the last full chunk
  for (absl::string_view rest = data; !rest.empty();) {
    const size_t n = std::min<size_t>(rest.size(), chunk_size - tail_size);
    hash_.Update(rest.data(), n);
    if (tail_size + n < chunk_size) {
      tail_size += n;
      break;
    }
    std::string chunk;  // the tail's stored pieces, then this segment's bytes
    std::vector<uint64_t> pieces;
    if (tail_size > 0) RETURN_IF_ERROR(mgr_->LoadTail(rec_, &chunk, &pieces));
    chunk.append(rest.data(), n);
    rest.remove_prefix(n);
    const Digest d = Digest::Of(chunk);
    internal::v1::UploadChunk c;
    c.set_sha256(std::string(d.Raw()));
    c.set_length(chunk_size);
    c.set_file_hash_state(hash_.SaveState());
    RETURN_IF_ERROR(StoreChunk(d, std::move(chunk)));
    batch->Put(cf, UploadChunkKey(id, next_chunk_++), c.SerializeAsString());
    if (mgr_->mirror_ != nullptr) {
      chunks_.push_back(std::string(d.Raw()));
      chunks_hash_state_ = c.file_hash_state();
    }
    tail_size = 0;
    rec_.set_tail_offset(rec_.tail_offset() + chunk_size);
  }
  if (rec_.tail_offset() == tail_before) {  // no chunk filled: the segment is a piece
    batch->Put(cf, LiveTailKey(id, held_before), data);
    tail_pieces_.push_back(held_before);
    return absl::OkStatus();
  }
  // The pieces went into chunks; what is left, the segment's last bytes, is one piece.
  for (uint64_t at : tail_pieces_) batch->Delete(cf, LiveTailKey(id, at));
  tail_pieces_.clear();
  if (tail_size > 0) {
    batch->Put(cf, LiveTailKey(id, rec_.tail_offset()),
               rocksdb::Slice(data.data() + data.size() - tail_size, tail_size));
    tail_pieces_.push_back(rec_.tail_offset());
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::LiveAck> LiveStream::Finish(const std::string& sha256) {
  RETURN_IF_ERROR(broken_);
  broken_ = absl::AbortedError("the upload was sealed");
  std::string tail;
  std::vector<uint64_t> pieces;
  RETURN_IF_ERROR(mgr_->LoadTail(rec_, &tail, &pieces));
  ASSIGN_OR_RETURN(v1::LiveInfo sealed, mgr_->Seal(rec_, tail, sha256, rec_.info().owner(), ""));
  *rec_.mutable_info() = sealed;
  return Ack();
}

// ------------------------------------------------------------ LiveUploads --

LiveUploads::LiveUploads(UploadManager* uploads, AuditTrail* trail)
    : uploads_(uploads),
      trail_(trail),
      mirrors_(std::make_unique<LiveMirrorStore>(uploads->index_, uploads->chunk_size_)) {
  if (uploads->placement_ != nullptr && uploads->required_replicas_ > 1) {
    mirror_ = std::make_unique<LiveMirror>(uploads->placement_, uploads->required_replicas_);
  }
}

absl::StatusOr<internal::v1::LiveRecord> LiveUploads::Load(const std::string& live_id) {
  std::string v;
  Index* index = uploads_->index_;
  rocksdb::Status s =
      index->db()->Get(rocksdb::ReadOptions(), index->uploads(), LiveRecordKey(live_id), &v);
  if (s.IsNotFound()) return absl::NotFoundError(absl::StrCat("no live upload ", live_id));
  RETURN_IF_ERROR(FromRocksStatus(s, "reading a live upload"));
  internal::v1::LiveRecord rec;
  if (!rec.ParseFromString(v)) return absl::DataLossError("a live upload's record does not parse");
  return rec;
}

absl::StatusOr<std::unique_ptr<LiveStream>> LiveUploads::Open(const v1::LiveHeader& h,
                                                              const std::string& owner,
                                                              bool may_take_over) {
  if (!absl::StartsWith(h.live_id(), "live-") || h.device().empty()) {
    return absl::InvalidArgumentError("a live upload names its id (\"live-...\") and its device");
  }
  v1::UploadHeader as_upload;
  as_upload.set_upload_id(h.live_id());
  as_upload.set_file_name(h.file_name());
  as_upload.set_media_type(h.media_type());
  as_upload.mutable_metadata()->insert(h.metadata().begin(), h.metadata().end());
  RETURN_IF_ERROR(uploads_->Validate(as_upload));
  {
    absl::MutexLock l(&mu_);
    if (!active_.insert(h.live_id()).second) {
      return absl::AbortedError(
          absl::StrCat("live upload ", h.live_id(), " is being appended to on another stream"));
    }
  }
  internal::v1::LiveRecord fresh;
  fresh.mutable_info()->set_live_id(h.live_id());  // released with the stream, on error too
  std::unique_ptr<LiveStream> stream(new LiveStream(this, std::move(fresh)));
  absl::StatusOr<internal::v1::LiveRecord> rec = Load(h.live_id());
  if (!rec.ok() && !absl::IsNotFound(rec.status())) return rec.status();
  const bool moved = rec.ok() && rec->info().state() == "moved";
  if ((!rec.ok() || moved) && h.continues().empty() && mirror_ != nullptr) {
    absl::Status taken = TakeOver(h.live_id(), owner, owner);  // the client failed over here
    if (taken.ok()) {
      ASSIGN_OR_RETURN(rec, Load(h.live_id()));
    } else if (!absl::IsNotFound(taken)) {
      return taken;
    } else if (!moved && h.offset() > 0) {
      return absl::UnavailableError(absl::StrCat(
          "this node holds no copy of live upload ", h.live_id(), ", of which the client sent ",
          h.offset(), " bytes: its owner and mirrors are other nodes"));
    }
  }
  if (rec.ok() && rec->info().state() == "moved") {
    return absl::UnavailableError(absl::StrCat("live upload ", h.live_id(), " moved to node ",
                                               rec->info().moved_to(), ": stream there"));
  }
  if (!rec.ok() && h.continues().empty()) {
    RETURN_IF_ERROR(Create(h, owner, stream.get()));
    RETURN_IF_ERROR(stream->MirrorWhole());
    return stream;
  }
  if (!rec.ok()) {  // a docking station starts the rest of a sealed upload
    RETURN_IF_ERROR(CreateContinuation(h, owner, may_take_over));
    ASSIGN_OR_RETURN(rec, Load(h.live_id()));
  }
  const v1::LiveInfo& info = rec->info();
  if (!h.continues().empty() && h.continues() != h.live_id() && info.continues() != h.continues()) {
    return absl::FailedPreconditionError(
        absl::StrCat("live upload ", h.live_id(), " does not continue ", h.continues()));
  }
  const bool take_over = may_take_over && h.continues() == h.live_id();
  if (info.owner() != owner && !take_over) {
    return absl::PermissionDeniedError(absl::StrCat("live upload ", h.live_id(), " belongs to ",
                                                    info.owner(), "; only they append to it"));
  }
  if (info.state() != "recording") {
    return absl::FailedPreconditionError(
        absl::StrCat("live upload ", h.live_id(), " was ", info.state(), " as ", info.object_id()));
  }
  if (info.device() != h.device() || info.file_name() != h.file_name()) {
    return absl::FailedPreconditionError(
        absl::StrCat("live upload ", h.live_id(), " is of ", info.device(), " ", info.file_name()));
  }
  if (info.held() > 0) {
    ASSIGN_OR_RETURN(stream->hash_, Sha256::RestoreState(rec->file_hash_state()));
  }
  stream->next_chunk_ = static_cast<uint32_t>(rec->tail_offset() / uploads_->chunk_size_);
  std::string tail;  // checked here, read again when a chunk fills
  RETURN_IF_ERROR(LoadTail(*rec, &tail, &stream->tail_pieces_));
  stream->rec_ = *std::move(rec);
  RETURN_IF_ERROR(stream->MirrorWhole());  // on R nodes before the answer (and still its owner)
  if (stream->rec_.info().held() > 0 || take_over) {
    v1::AuditEvent e = LiveEvent("live.resumed", stream->rec_.info(), owner);
    AddDetail(&e, "client_held", absl::StrCat(h.offset()));
    if (take_over) AddDetail(&e, "docked_by", owner);
    RETURN_IF_ERROR(trail_->Write(std::move(e)));
  }
  return stream;
}

absl::Status LiveUploads::Create(const v1::LiveHeader& h, const std::string& owner,
                                 LiveStream* stream) {
  v1::LiveInfo& info = *stream->rec_.mutable_info();
  info.set_live_id(h.live_id());
  info.set_device(h.device());
  info.set_file_name(h.file_name());
  info.set_owner(owner);
  info.set_state("recording");
  info.set_chain(FirstLiveChain());
  info.set_opened_unix_nanos(Now());
  info.mutable_metadata()->insert(h.metadata().begin(), h.metadata().end());
  // Filed like docked footage (doc/records.md, "Ingest"): its device, and
  // its start unless the camera says otherwise.
  info.mutable_metadata()->insert({"device", h.device()});
  info.mutable_metadata()->insert(
      {"start", absl::FormatTime(absl::RFC3339_sec, absl::FromUnixNanos(info.opened_unix_nanos()),
                                 absl::UTCTimeZone())});
  stream->rec_.set_media_type(h.media_type());
  v1::AuditEvent e = LiveEvent("live.opened", info, owner);
  return trail_->Write(std::move(e), [&](rocksdb::WriteBatch* b) {
    b->Put(uploads_->index_->uploads(), UploadStateKey(h.live_id()),
           LiveUploadState(stream->rec_).SerializeAsString());
    b->Put(uploads_->index_->uploads(), LiveRecordKey(h.live_id()),
           stream->rec_.SerializeAsString());
  });
}

absl::Status LiveUploads::CreateContinuation(const v1::LiveHeader& h, const std::string& owner,
                                             bool may_take_over) {
  ASSIGN_OR_RETURN(internal::v1::LiveRecord old, Load(h.continues()));
  const v1::LiveInfo& o = old.info();
  if (o.state() == "recording") {
    return absl::FailedPreconditionError(absl::StrCat(
        "live upload ", o.live_id(), " is still recording: it is continued under its own id"));
  }
  if (o.device() != h.device() || o.file_name() != h.file_name()) {
    return absl::FailedPreconditionError(
        absl::StrCat("live upload ", o.live_id(), " is of ", o.device(), " ", o.file_name()));
  }
  if (o.owner() != owner && !may_take_over) {
    return absl::PermissionDeniedError(absl::StrCat("live upload ", o.live_id(), " belongs to ",
                                                    o.owner(), "; only they continue it"));
  }
  const uint32_t chunk_size = uploads_->chunk_size_;
  if (static_cast<uint64_t>(old.chunks_size()) != old.tail_offset() / chunk_size) {
    return absl::FailedPreconditionError(absl::StrCat(
        "live upload ", o.live_id(), " was sealed without its chunks: send the whole file"));
  }
  std::string tail;
  std::vector<uint64_t> pieces;
  RETURN_IF_ERROR(LoadTail(old, &tail, &pieces));
  internal::v1::LiveRecord rec;
  v1::LiveInfo& info = *rec.mutable_info();
  info.set_live_id(h.live_id());
  info.set_device(o.device());
  info.set_file_name(o.file_name());
  info.set_owner(owner);
  info.set_state("recording");
  info.set_held(o.held());
  info.set_chain(o.chain());
  info.set_opened_unix_nanos(Now());
  info.set_continues(o.live_id());
  info.mutable_metadata()->insert(o.metadata().begin(), o.metadata().end());
  for (const char* k : {"live", "live_id", "live_truncated_reason"})
    info.mutable_metadata()->erase(k);
  for (const auto& [k, v] : h.metadata()) (*info.mutable_metadata())[k] = v;
  (*info.mutable_metadata())["live_continues"] = o.live_id();
  if (!o.object_id().empty()) (*info.mutable_metadata())["live_extends"] = o.object_id();
  rec.set_tail_offset(old.tail_offset());
  rec.set_file_hash_state(old.file_hash_state());
  rec.set_media_type(h.media_type().empty() ? old.media_type() : h.media_type());
  v1::AuditEvent e = LiveEvent("live.opened", info, owner);
  AddDetail(&e, "continues", o.live_id());
  rocksdb::ColumnFamilyHandle* cf = uploads_->index_->uploads();
  return trail_->Write(std::move(e), [&](rocksdb::WriteBatch* b) {
    b->Put(cf, UploadStateKey(h.live_id()), LiveUploadState(rec).SerializeAsString());
    PutChunks(h.live_id(), old.chunks(), old.chunks_hash_state(), b);
    if (!tail.empty()) b->Put(cf, LiveTailKey(h.live_id(), rec.tail_offset()), tail);
    b->Put(cf, LiveRecordKey(h.live_id()), rec.SerializeAsString());
  });
}

absl::Status LiveUploads::LoadTail(const internal::v1::LiveRecord& rec, std::string* tail,
                                   std::vector<uint64_t>* pieces) {
  Index* index = uploads_->index_;
  const std::string& id = rec.info().live_id();
  const std::string begin = id + '\5', end = id + '\6';
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(index->db()->NewIterator(ro, index->uploads()));
  for (it->Seek(begin); it->Valid(); it->Next()) {
    const uint64_t at = absl::big_endian::Load64(it->key().data() + begin.size());
    if (at != rec.tail_offset() + tail->size()) {
      return absl::DataLossError(absl::StrCat("live upload ", id, ": a tail piece at ", at,
                                              " does not follow the bytes before it"));
    }
    tail->append(it->value().data(), it->value().size());
    pieces->push_back(at);
  }
  RETURN_IF_ERROR(FromRocksStatus(it->status(), "reading a live upload's tail"));
  if (rec.tail_offset() + tail->size() != rec.info().held()) {
    return absl::DataLossError(absl::StrCat("live upload ", id, " holds ", rec.info().held(),
                                            " bytes but its chunks and tail make ",
                                            rec.tail_offset() + tail->size()));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::LiveInfo> LiveUploads::Seal(internal::v1::LiveRecord rec,
                                               const std::string& tail, const std::string& claimed,
                                               const std::string& by, const std::string& reason) {
  v1::LiveInfo& info = *rec.mutable_info();
  const bool truncated = !reason.empty();
  Sha256 hash;
  if (info.held() > 0) {
    ASSIGN_OR_RETURN(hash, Sha256::RestoreState(rec.file_hash_state()));
  }
  const Digest actual = hash.Finish();
  if (!truncated) {
    ASSIGN_OR_RETURN(Digest said, Digest::Parse(claimed));
    if (said != actual) {
      return absl::DataLossError(absl::StrCat(
          "the file's hash is ", said.ToString(), " but the ", info.held(), " bytes held hash to ",
          actual.ToString(), ": nothing was sealed; the upload stays open"));
    }
  }
  (*info.mutable_metadata())["live_id"] = info.live_id();
  // The recording lasted at least until its last segment (a docked file
  // that continues another says its own end, if it knows it).
  if (info.continues().empty() && info.last_segment_unix_nanos() != 0) {
    info.mutable_metadata()->insert(
        {"end",
         absl::FormatTime(absl::RFC3339_sec, absl::FromUnixNanos(info.last_segment_unix_nanos()),
                          absl::UTCTimeZone())});
  }
  (*info.mutable_metadata())["live"] = truncated ? "truncated" : "complete";
  if (truncated) (*info.mutable_metadata())["live_truncated_reason"] = reason;
  if (info.held() > 0) {
    v1::UploadHeader h = AsUploadHeader(info, rec.media_type());
    h.set_size(info.held());
    h.set_offset(rec.tail_offset());
    internal::v1::UploadState st = LiveUploadState(rec);
    st.set_size(info.held());
    rocksdb::WriteBatch b;
    b.Put(uploads_->index_->uploads(), UploadStateKey(info.live_id()), st.SerializeAsString());
    RETURN_IF_ERROR(uploads_->index_->Commit(&b));
    // Kept with the sealed record (the upload's own go with it), so that a
    // docked file that extends it continues from here.
    ASSIGN_OR_RETURN(UploadManager::Persisted p, uploads_->Load(info.live_id()));
    rec.clear_chunks();
    for (const Digest& d : p.chunks) rec.add_chunks(std::string(d.Raw()));
    rec.set_chunks_hash_state(p.last_hash_state);
    ASSIGN_OR_RETURN(std::unique_ptr<Upload> up, uploads_->Begin(h, by));
    RETURN_IF_ERROR(up->Append(tail));
    ASSIGN_OR_RETURN(v1::UploadResponse r, up->Finish(actual.ToString()));
    info.set_object_id(r.id());
  }
  info.set_state(truncated ? "truncated" : "sealed");
  info.set_sealed_by(by);
  info.set_truncated_reason(reason);
  v1::AuditEvent e = LiveEvent(truncated ? "live.truncated" : "live.sealed", info, by);
  AddDetail(&e, "object", info.object_id().empty() ? "none: no byte arrived" : info.object_id());
  if (truncated) AddDetail(&e, "reason", reason);
  RETURN_IF_ERROR(trail_->Write(std::move(e), [&](rocksdb::WriteBatch* b) {
    b->Put(uploads_->index_->uploads(), LiveRecordKey(info.live_id()), rec.SerializeAsString());
  }));
  DropMirrors(rec);
  return InfoOf(rec);
}

absl::StatusOr<v1::LiveInfo> LiveUploads::SealTruncated(const std::string& live_id,
                                                        const std::string& by,
                                                        const std::string& reason, bool idle) {
  if (reason.empty()) return absl::InvalidArgumentError("sealing a live upload needs --reason");
  {
    absl::MutexLock l(&mu_);
    if (!active_.insert(live_id).second) {
      return absl::AbortedError(absl::StrCat(
          "live upload ", live_id, " is being appended to: it is sealed when its stream ends"));
    }
  }
  absl::Cleanup release = [&] { Release(live_id); };
  absl::StatusOr<internal::v1::LiveRecord> mine = Load(live_id);
  if (absl::IsNotFound(mine.status()) && mirror_ != nullptr) {  // its owner node is gone
    absl::StatusOr<LiveMirrorStore::Copy> copy = mirrors_->Load(live_id);
    if (copy.ok()) {
      RETURN_IF_ERROR(TakeOver(live_id, copy->rec.info().owner(), by));
      mine = Load(live_id);
    }
  }
  ASSIGN_OR_RETURN(internal::v1::LiveRecord rec, std::move(mine));
  if (rec.info().state() != "recording") {
    return absl::FailedPreconditionError(
        absl::StrCat("live upload ", live_id, " was ", rec.info().state(), " already"));
  }
  std::string tail;
  std::vector<uint64_t> pieces;
  RETURN_IF_ERROR(LoadTail(rec, &tail, &pieces));
  if (mirror_ != nullptr) {  // not if another node took it over while this one was away
    absl::StatusOr<std::string> taken = TakenBy(rec, tail);
    if (!taken.ok() && idle) return taken.status();  // the next round tries again
    if (!taken.ok()) LOG(WARNING) << "sealing " << live_id << " unmirrored: " << taken.status();
    if (taken.ok() && !taken->empty()) {
      RETURN_IF_ERROR(Demote(live_id, *taken));
      return absl::FailedPreconditionError(absl::StrCat(
          "live upload ", live_id, " was taken over by node ", *taken, ": it is sealed there"));
    }
  }
  return Seal(std::move(rec), tail, "", by, reason);
}

absl::StatusOr<v1::LiveInfo> LiveUploads::Query(const std::string& live_id) {
  absl::StatusOr<internal::v1::LiveRecord> rec = Load(live_id);
  if (absl::IsNotFound(rec.status()) && mirror_ != nullptr) {
    absl::StatusOr<LiveMirrorStore::Copy> copy = mirrors_->Load(live_id);
    if (copy.ok()) rec = std::move(copy->rec);
  }
  if (!rec.ok()) return rec.status();
  return InfoOf(*rec);
}

absl::StatusOr<std::vector<v1::LiveInfo>> LiveUploads::Find(const std::string& device,
                                                            const std::string& file_name) {
  std::vector<v1::LiveInfo> out;
  RETURN_IF_ERROR(ForEach([&](const v1::LiveInfo& i) {
    if (i.device() == device && i.file_name() == file_name && i.state() != "moved") {
      out.push_back(i);
    }
  }));
  return out;
}

absl::Status LiveUploads::ForEach(const std::function<void(const v1::LiveInfo&)>& fn,
                                  bool held_sha256) {
  return ForEachLiveRecord(uploads_->index_, '\4', [&](const internal::v1::LiveRecord& rec) {
    fn(held_sha256 ? InfoOf(rec) : rec.info());
  });
}

absl::StatusOr<std::vector<v1::LiveInfo>> LiveUploads::SealIdle(absl::Duration idle,
                                                                const std::string& by) {
  std::vector<std::string> due;
  const int64_t before = absl::ToUnixNanos(absl::Now() - idle);
  RETURN_IF_ERROR(ForEach(
      [&](const v1::LiveInfo& i) {
        int64_t last = std::max(i.last_segment_unix_nanos(), i.opened_unix_nanos());
        if (i.state() == "recording" && last < before) due.push_back(i.live_id());
      },
      /*held_sha256=*/false));
  const int64_t orphaned = absl::ToUnixNanos(absl::Now() - 2 * idle);
  if (mirror_ != nullptr) {
    RETURN_IF_ERROR(mirrors_->ForEach([&](const internal::v1::LiveRecord& r) {
      const v1::LiveInfo& i = r.info();
      int64_t last = std::max(i.last_segment_unix_nanos(), i.opened_unix_nanos());
      if (i.state() == "recording" && last < orphaned) due.push_back(i.live_id());
    }));
  }
  std::vector<v1::LiveInfo> sealed;
  for (const std::string& id : due) {
    absl::StatusOr<v1::LiveInfo> s = SealTruncated(
        id, by, absl::StrCat("no segment for ", absl::FormatDuration(idle), " (--live-timeout)"),
        /*idle=*/true);
    if (s.ok() && !s->object_id().empty()) sealed.push_back(*std::move(s));
  }
  return sealed;
}

bool LiveUploads::Streaming(const std::string& live_id) {
  absl::MutexLock l(&mu_);
  return active_.contains(live_id);
}

void LiveUploads::Release(const std::string& live_id) {
  absl::MutexLock l(&mu_);
  active_.erase(live_id);
}

}  // namespace custody
