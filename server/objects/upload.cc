#include "server/objects/upload.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "common/units.h"
#include "custody/internal/v1/storage.pb.h"
#include "custody/v1/manifest.pb.h"
#include "server/audit/audited_write.h"
#include "server/objects/manifest_writer.h"
#include "server/objects/purger.h"
#include "server/storage/chunk_io.h"

namespace custody {

Upload::Upload(UploadManager* mgr, v1::UploadHeader header, uint32_t chunk_size)
    : mgr_(mgr),
      header_(std::move(header)),
      chunk_size_(chunk_size),
      hash_strand_(std::make_shared<SerialExecutor>(mgr->hash_pool_)) {
  header_.clear_offset();
}

Upload::~Upload() {
  WaitForChunks().IgnoreError();
  mgr_->Release(header_.upload_id());
}

absl::Status Upload::Append(absl::string_view data) {
  if (received_ + data.size() > header_.size()) {
    return absl::InvalidArgumentError(absl::StrCat("the upload declared ", header_.size(),
                                                   " bytes but the stream carries more (",
                                                   received_ + data.size(), " so far)"));
  }
  {
    absl::MutexLock l(&mu_);
    if (!error_.ok()) return error_;
  }
  // Hash piece by piece, so that the state saved with a chunk covers exactly
  // the bytes up to that chunk's end.
  while (!data.empty()) {
    if (buffer_.capacity() < chunk_size_) buffer_.reserve(chunk_size_);
    size_t n = std::min<size_t>(data.size(), chunk_size_ - buffer_.size());
    file_hash_.Update(data.data(), n);
    buffer_.append(data.data(), n);
    received_ += n;
    data.remove_prefix(n);
    if (buffer_.size() == chunk_size_) CutChunk();
  }
  return absl::OkStatus();
}

// Hands the full buffer to the hash strand; blocks while the upload has
// max_inflight_chunks chunks hashing or committing.
void Upload::CutChunk() {
  {
    absl::MutexLock l(&mu_);
    mu_.Await(absl::Condition(
        +[](Upload* u) ABSL_EXCLUSIVE_LOCKS_REQUIRED(u->mu_) {
          return u->inflight_ < u->mgr_->limits_.max_inflight_chunks;
        },
        this));
    ++inflight_;
  }
  std::string state = file_hash_.SaveState();
  auto data = std::make_shared<std::string>(std::move(buffer_));
  buffer_ = std::string();
  uint32_t idx = next_chunk_++;
  hash_strand_->Schedule([this, idx, data, state = std::move(state)]() mutable {
    HashAndSubmit(idx, std::move(data), std::move(state));
  });
}

void Upload::HashAndSubmit(uint32_t idx, std::shared_ptr<std::string> data,
                           std::string hash_state) {
  Digest d = Digest::Of(*data);
  absl::StatusOr<bool> purged = Purger::IsTombstoned(mgr_->index_, d);
  if (!purged.ok() || *purged) {  // purged data is not stored again
    return ChunkDone(idx, d,
                     purged.ok() ? absl::FailedPreconditionError(absl::StrCat(
                                       "chunk ", d.ToString(),
                                       " of this file was purged (its "
                                       "record's retention had ended); it is not stored again"))
                                 : purged.status());
  }
  if (mgr_->placement_ != nullptr) return PlaceAndRecord(idx, d, std::move(*data), hash_state);
  uint32_t length = static_cast<uint32_t>(data->size());
  WriteRequest r = ChunkWrite(d, std::move(*data), mgr_->sealer_);
  r.on_index = [this, idx, d, length, hash_state = std::move(hash_state)](rocksdb::WriteBatch* b,
                                                                          const WriteResult&) {
    RecordProgress(b, idx, d, length, hash_state);
  };
  r.done = [this, idx, d](absl::StatusOr<WriteResult> res) { ChunkDone(idx, d, res.status()); };
  mgr_->committer_->Submit(std::move(r));
}

void Upload::PlaceAndRecord(uint32_t idx, const Digest& d, std::string data,
                            std::string hash_state) {
  uint32_t length = static_cast<uint32_t>(data.size());
  // `d` was computed from these bytes (HashAndSubmit): not hashed again here.
  mgr_->placement_->hashed_chunks()->Put(
      d, std::move(data), [this, idx, d, length, hash_state](absl::Status s) {
        if (!s.ok()) return ChunkDone(idx, d, s);
        WriteRequest r;
        r.index_only = true;
        r.on_index = [this, idx, d, length, hash_state](rocksdb::WriteBatch* b,
                                                        const WriteResult&) {
          RecordProgress(b, idx, d, length, hash_state);
        };
        r.done = [this, idx, d](absl::StatusOr<WriteResult> res) {
          ChunkDone(idx, d, res.status());
        };
        mgr_->committer_->Submit(std::move(r));
      });
}

void Upload::RecordProgress(rocksdb::WriteBatch* b, uint32_t idx, const Digest& d, uint32_t length,
                            const std::string& hash_state) {
  rocksdb::ColumnFamilyHandle* cf = mgr_->index_->uploads();
  if (idx == 0) {
    internal::v1::UploadState st;
    st.set_upload_id(header_.upload_id());
    st.set_file_name(header_.file_name());
    st.set_size(header_.size());
    st.set_media_type(header_.media_type());
    st.mutable_metadata()->insert(header_.metadata().begin(), header_.metadata().end());
    st.set_created_unix_nanos(NowUnixNanos());
    b->Put(cf, UploadStateKey(header_.upload_id()), st.SerializeAsString());
  }
  internal::v1::UploadChunk c;
  c.set_sha256(std::string(d.Raw()));
  c.set_length(length);
  c.set_file_hash_state(hash_state);
  b->Put(cf, UploadChunkKey(header_.upload_id(), idx), c.SerializeAsString());
}

void Upload::ChunkDone(uint32_t idx, const Digest& d, const absl::Status& s) {
  absl::MutexLock l(&mu_);
  if (s.ok()) {
    if (chunks_.size() <= idx) chunks_.resize(idx + 1);
    chunks_[idx] = d;
  } else if (error_.ok()) {
    error_ = s;
  }
  --inflight_;
}

absl::Status Upload::WaitForChunks() {
  absl::MutexLock l(&mu_);
  mu_.Await(absl::Condition(
      +[](Upload* u) ABSL_EXCLUSIVE_LOCKS_REQUIRED(u->mu_) { return u->inflight_ == 0; }, this));
  return error_;
}

// Forgets the upload's progress so that a retry starts from byte 0. The
// chunks already stored stay (they are immutable and may be shared).
absl::Status Upload::Discard() {
  rocksdb::WriteBatch b;
  b.DeleteRange(mgr_->index_->uploads(), UploadStateKey(header_.upload_id()),
                UploadKeyEnd(header_.upload_id()));
  return mgr_->index_->Commit(&b);
}

// The event of a finished upload: the object stored (with its metadata), the
// same bytes put again (nothing stored, this upload's metadata not kept), or
// only their hash presented for an object the cluster holds (no bytes came,
// or part of them before the hash).
v1::AuditEvent Upload::StoredEvent(const Digest& id, bool existed) const {
  const char* action = from_digest_ ? "object.digest-presented"
                       : existed    ? "object.stored-again"
                                    : "object.stored";
  v1::AuditEvent e = NewEvent(action, id.ToString(), actor_);
  AddDetail(&e, "size", absl::StrCat(header_.size()));
  AddDetail(&e, "file_name", header_.file_name());
  AddDetail(&e, "media_type", header_.media_type());
  AddDetail(&e, "upload_id", header_.upload_id());
  AddDetail(&e, "resumed_from", absl::StrCat(start_offset_));
  AddDetail(&e, "bytes_received", absl::StrCat(received_this_stream()));
  if (from_digest_) {
    AddDetail(&e, "checked",
              received_this_stream() == 0
                  ? "the client's hash only: it sent no bytes; nothing was stored"
                  : "the client's hash only: it named it after part of the bytes, which were "
                    "not checked against it; nothing new was stored");
    if (!existed) AddDetail(&e, "manifest", "copied here from another node that holds it");
  }
  if (!peer_.empty()) AddDetail(&e, "peer", peer_);
  std::map<std::string, std::string> sorted(header_.metadata().begin(), header_.metadata().end());
  for (const auto& [k, v] : sorted) AddDetail(&e, "meta." + k, v);
  return e;
}

v1::UploadResponse Upload::Response(const Digest& id, bool held,
                                    const std::vector<std::string>& holders) const {
  v1::UploadResponse resp;
  resp.set_id(id.ToString());
  resp.set_size(header_.size());
  resp.set_already_stored(held);
  resp.set_bytes_received(received_this_stream());
  // The nodes that hold the manifest durably (its chunks were placed on
  // their own R home nodes before it).
  resp.set_durable_replicas(static_cast<uint32_t>(holders.size()));
  resp.set_required_replicas(mgr_->required_replicas_);
  return resp;
}

absl::Status Upload::NameHash(absl::string_view sha256) {
  if (!header_.sha256().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the file's hash was named already (", header_.sha256(), ")"));
  }
  absl::StatusOr<Digest> d = Digest::Parse(sha256);
  if (!d.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the hash message's sha256 is malformed: ", d.status().message()));
  }
  header_.set_sha256(d->ToString());
  return absl::OkStatus();
}

absl::StatusOr<v1::UploadResponse> Upload::FinishFromDigest() {
  ASSIGN_OR_RETURN(Digest id, Digest::Parse(header_.sha256()));
  RETURN_IF_ERROR(WaitForChunks());  // the progress StoreManifest forgets is exact
  ASSIGN_OR_RETURN(std::optional<v1::ObjectManifest> m, HeldManifest(id));
  if (!m.has_value() || m->size() != header_.size()) {
    return absl::NotFoundError(absl::StrCat("no object ", id.ToString(), " of ", header_.size(),
                                            " bytes is held: send its bytes"));
  }
  from_digest_ = true;
  std::vector<std::string> holders;
  ASSIGN_OR_RETURN(bool held, StoreManifest(id, m->SerializeAsString(), &holders));
  (void)held;  // held by the cluster either way, if not on this node before
  return Response(id, /*held=*/true, holders);
}

absl::StatusOr<v1::UploadResponse> Upload::Finish(absl::string_view client_sha256) {
  if (received_ != header_.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("finish after ", received_, " of ", header_.size(), " declared bytes"));
  }
  ASSIGN_OR_RETURN(Digest claimed, Digest::Parse(client_sha256));
  // The header's hash, if it named one, must be the finish's and the bytes'.
  ASSIGN_OR_RETURN(Digest named, header_.sha256().empty() ? absl::StatusOr<Digest>(claimed)
                                                          : Digest::Parse(header_.sha256()));
  if (!buffer_.empty()) CutChunk();
  RETURN_IF_ERROR(WaitForChunks());
  Digest actual = file_hash_.Finish();
  const Digest& said = actual != claimed ? claimed : named;
  if (said != actual) {
    RETURN_IF_ERROR(Discard());
    return absl::DataLossError(absl::StrCat("hash mismatch: the client says ", said.ToString(),
                                            " but the node received ", actual.ToString(),
                                            "; no object was stored"));
  }
  v1::ObjectManifest m;
  m.set_sha256(std::string(actual.Raw()));
  m.set_size(header_.size());
  m.set_file_name(header_.file_name());
  m.set_media_type(header_.media_type());
  m.mutable_metadata()->insert(header_.metadata().begin(), header_.metadata().end());
  m.set_stored_at_unix_nanos(NowUnixNanos());
  m.set_chunk_size(chunk_size_);
  m.set_uploaded_by(actor_);
  if (mgr_->placement_ != nullptr) m.set_coordinator(mgr_->placement_->self());
  {
    absl::MutexLock l(&mu_);
    for (const Digest& c : chunks_) m.add_chunks(std::string(c.Raw()));
  }
  ASSIGN_OR_RETURN(m, FirstManifest(actual, std::move(m)));
  std::vector<std::string> holders;
  ASSIGN_OR_RETURN(bool held, StoreManifest(actual, m.SerializeAsString(), &holders));
  return Response(actual, held, holders);
}

// An object's manifest is fixed by its first upload: a file stored again
// (under other metadata too) places the manifest the cluster already holds,
// which its homes would otherwise refuse as different (server/objects/manifest_guard.h).
absl::StatusOr<v1::ObjectManifest> Upload::FirstManifest(const Digest& id,
                                                         v1::ObjectManifest fresh) {
  ASSIGN_OR_RETURN(std::optional<v1::ObjectManifest> held, HeldManifest(id));
  if (held.has_value()) return *std::move(held);
  return fresh;
}

absl::StatusOr<std::optional<v1::ObjectManifest>> Upload::HeldManifest(const Digest& id) {
  ASSIGN_OR_RETURN(std::optional<std::string> here, mgr_->index_->GetObject(id));
  v1::ObjectManifest local;
  if (here && local.ParseFromString(*here)) return local;
  if (mgr_->placement_ == nullptr) return std::nullopt;
  absl::StatusOr<v1::ObjectManifest> held = mgr_->placement_->FindManifest(id);
  if (held.ok()) return *std::move(held);
  if (absl::IsNotFound(held.status())) return std::nullopt;
  return absl::UnavailableError(absl::StrCat("could not learn whether ", id.ToString(),
                                             " is already stored: ", held.status().message()));
}

absl::StatusOr<bool> Upload::StoreManifest(const Digest& id, const std::string& manifest,
                                           std::vector<std::string>* holders) {
  bool held = false;
  // Point deletes, not a range: every finished upload left a range
  // tombstone that each later Load rebuilt and stepped over (issue 27: 72% of
  // a node's CPU during puts at 20,000 objects). All chunks are done here, so
  // the keys are the state and chunks [0, next_chunk_).
  internal::v1::UploadDone done;
  done.set_object_id(id.ToString());
  done.set_size(header_.size());
  done.set_finished_unix_nanos(absl::ToUnixNanos(absl::Now()));
  auto forget_upload = [&](rocksdb::WriteBatch* b) {
    b->Put(mgr_->index_->uploads(), UploadDoneKey(header_.upload_id()), done.SerializeAsString());
    b->Delete(mgr_->index_->uploads(), UploadStateKey(header_.upload_id()));
    for (uint32_t i = 0; i < next_chunk_; ++i) {
      b->Delete(mgr_->index_->uploads(), UploadChunkKey(header_.upload_id(), i));
    }
  };
  auto store_here = [&](const std::string& handoff_for) -> absl::Status {
    absl::StatusOr<bool> h = WriteManifest(
        mgr_->committer_, mgr_->index_, mgr_->audit_, id, manifest,
        [&](bool existed) {
          v1::AuditEvent e = StoredEvent(id, existed);
          if (!handoff_for.empty()) AddDetail(&e, "handoff_for", handoff_for);
          return e;
        },
        forget_upload);
    if (h.ok()) held = *h;
    return h.status();
  };
  if (mgr_->placement_ == nullptr) {
    RETURN_IF_ERROR(store_here(""));
    holders->push_back("self");
    return held;
  }
  ASSIGN_OR_RETURN(*holders, mgr_->placement_->PlaceManifest(id, manifest, store_here));
  if (std::find(holders->begin(), holders->end(), mgr_->placement_->self()) == holders->end()) {
    // Not a home of this object: the upload is done here; say where it went.
    v1::AuditEvent e = NewEvent("upload.placed", "upload:" + header_.upload_id(), actor_);
    AddDetail(&e, "object", id.ToString());
    AddDetail(&e, "nodes", absl::StrJoin(*holders, ","));
    if (!peer_.empty()) AddDetail(&e, "peer", peer_);
    RETURN_IF_ERROR(AuditedIndexWrite(mgr_->committer_, mgr_->audit_, std::move(e), forget_upload));
  }
  return held;
}

}  // namespace custody
