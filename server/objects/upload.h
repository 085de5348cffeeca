// Resumable uploads, independent of gRPC. An upload cuts the file into
// chunks, hashes each (on a separate pool, overlapping the whole-file hash),
// and commits each chunk together with the upload's progress, so that a
// broken upload can continue from its last durable chunk, even after a
// restart of the node.
#ifndef CUSTODY_SERVER_OBJECTS_UPLOAD_H_
#define CUSTODY_SERVER_OBJECTS_UPLOAD_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/digest.h"
#include "common/thread_pool.h"
#include "custody/internal/v1/storage.pb.h"
#include "custody/v1/custody.pb.h"
#include "custody/v1/manifest.pb.h"
#include "replication/cluster/placement.h"
#include "server/audit/audit_log.h"
#include "server/storage/chunk_sealer.h"
#include "server/storage/committer.h"
#include "server/storage/index.h"

namespace custody {

class UploadManager;

// One stream's worth of an upload. Not thread-safe: Append and Finish are
// called by one thread at a time, in order. The destructor waits for chunks
// in flight, so the upload's committed size is exact once it returns.
class Upload {
 public:
  ~Upload();

  // Adds the next bytes of the file; blocks while too many chunks are in
  // flight. INVALID_ARGUMENT if they go past the declared size.
  absl::Status Append(absl::string_view data);
  // Ends the upload: checks size and the client's hash ("sha256:<hex>"),
  // waits for every chunk to be durable, then commits the manifest durably.
  absl::StatusOr<v1::UploadResponse> Finish(absl::string_view client_sha256);
  // Names the file's hash after the header (an UploadHash message): Finish
  // must then be given the same. INVALID_ARGUMENT if it is malformed, or a
  // hash was named already.
  absl::Status NameHash(absl::string_view sha256);
  // Ends an upload whose hash was named (header.sha256, or NameHash), with
  // no bytes or only part of them: answered from the object the cluster
  // holds (the chunks in flight are waited for, a partial chunk dropped). Its
  // manifest is placed again as the cluster holds it (nothing new is stored
  // and this upload's metadata is not applied), with the event
  // object.digest-presented: no bytes were received or checked. NOT_FOUND
  // when no object of that hash and size is held (then send the bytes).
  absl::StatusOr<v1::UploadResponse> FinishFromDigest();

  uint64_t received_this_stream() const { return received_ - start_offset_; }
  uint64_t received() const { return received_; }
  uint64_t size() const { return header_.size(); }

 private:
  friend class UploadManager;
  Upload(UploadManager* mgr, v1::UploadHeader header, uint32_t chunk_size);

  void CutChunk();
  void HashAndSubmit(uint32_t idx, std::shared_ptr<std::string> data, std::string hash_state);
  void ChunkDone(uint32_t idx, const Digest& d, const absl::Status& s);
  // The upload's progress after chunk `idx`, into the batch that records it.
  void RecordProgress(rocksdb::WriteBatch* b, uint32_t idx, const Digest& d, uint32_t length,
                      const std::string& hash_state);
  // In a cluster: the chunk goes to its R home nodes, then its progress is
  // recorded here.
  void PlaceAndRecord(uint32_t idx, const Digest& d, std::string data, std::string hash_state);
  // Stores the manifest: here only, or on its home nodes in a cluster.
  // Returns whether it was held already, and the nodes that hold it.
  absl::StatusOr<v1::ObjectManifest> FirstManifest(const Digest& id, v1::ObjectManifest fresh);
  // The manifest of `id` as this node or, in a cluster, another holds it.
  absl::StatusOr<std::optional<v1::ObjectManifest>> HeldManifest(const Digest& id);
  v1::UploadResponse Response(const Digest& id, bool held,
                              const std::vector<std::string>& holders) const;
  absl::StatusOr<bool> StoreManifest(const Digest& id, const std::string& manifest,
                                     std::vector<std::string>* holders);
  absl::Status WaitForChunks();
  absl::Status Discard();
  v1::AuditEvent StoredEvent(const Digest& id, bool existed) const;

  UploadManager* mgr_;
  v1::UploadHeader header_;
  std::string actor_, peer_;
  uint32_t chunk_size_;
  uint64_t start_offset_ = 0;
  bool from_digest_ = false;  // FinishFromDigest: no bytes came
  uint64_t received_ = 0;
  Sha256 file_hash_;
  std::string buffer_;
  uint32_t next_chunk_ = 0;
  std::shared_ptr<SerialExecutor> hash_strand_;

  absl::Mutex mu_;
  std::vector<Digest> chunks_ ABSL_GUARDED_BY(mu_);
  int inflight_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
};

struct UploadLimits {
  size_t max_id = 128;
  size_t max_file_name = 1024;
  size_t max_media_type = 255;
  size_t max_metadata_entries = 64;
  size_t max_metadata_key = 128;
  size_t max_metadata_value = 4096;
  size_t max_metadata_total = 64 * 1024;
  uint64_t max_size = 1ull << 40;
  int max_inflight_chunks = 8;
};

// Thread-safe.
class UploadManager {
 public:
  // `audit` may be null (no events: tests of storage alone).
  UploadManager(Index* index, Committer* committer, ThreadPool* hash_pool, uint32_t chunk_size,
                AuditLog* audit = nullptr, UploadLimits limits = {});

  // Starts or continues the upload named in `header`. INVALID_ARGUMENT for a
  // bad header; OUT_OF_RANGE when header.offset is not the committed size;
  // FAILED_PRECONDITION when the id was used for another file; ABORTED when
  // another stream is using the id right now.
  // `actor` and `peer` go into the audit events of the upload.
  absl::StatusOr<std::unique_ptr<Upload>> Begin(const v1::UploadHeader& header,
                                                const std::string& actor = "anonymous",
                                                const std::string& peer = "");
  absl::StatusOr<v1::QueryUploadResponse> Query(const std::string& upload_id);
  // Removes the records of uploads that finished more than kUploadDoneKept
  // ago (at start); returns how many.
  absl::StatusOr<int> ForgetOldFinished();

  const UploadLimits& limits() const { return limits_; }
  // The cluster's R, reported with every stored upload (1 by default).
  void set_required_replicas(uint32_t r) { required_replicas_ = r; }
  // In a cluster of more than one node: where chunks and manifests go.
  void set_placement(Placement* p) { placement_ = p; }
  // Chunks are sealed under `s` (encryption at rest); null: plain.
  void set_sealer(const ChunkSealer* s) { sealer_ = s; }

 private:
  friend class Upload;
  friend class LiveStream;  // server/objects/live_upload.h: its chunks are an upload's
  friend class LiveUploads;
  struct Persisted {
    bool known = false;
    internal::v1::UploadState state;
    std::vector<Digest> chunks;
    uint64_t committed = 0;
    std::string last_hash_state;
  };
  absl::StatusOr<Persisted> Load(const std::string& upload_id);
  absl::Status Validate(const v1::UploadHeader& h) const;
  void Release(const std::string& upload_id);

  Index* index_;
  Committer* committer_;
  ThreadPool* hash_pool_;
  uint32_t chunk_size_;
  AuditLog* audit_;
  UploadLimits limits_;
  uint32_t required_replicas_ = 1;
  Placement* placement_ = nullptr;
  const ChunkSealer* sealer_ = nullptr;
  absl::Mutex mu_;
  absl::flat_hash_set<std::string> active_ ABSL_GUARDED_BY(mu_);
};

// Keys of the uploads column family.
std::string UploadStateKey(const std::string& upload_id);
std::string UploadChunkKey(const std::string& upload_id, uint32_t idx);
std::string UploadKeyEnd(const std::string& upload_id);
// A finished upload (internal::v1::UploadDone), kept kUploadDoneKept.
std::string UploadDoneKey(const std::string& upload_id);
inline constexpr absl::Duration kUploadDoneKept = absl::Hours(24 * 7);

}  // namespace custody

#endif  // CUSTODY_SERVER_OBJECTS_UPLOAD_H_
