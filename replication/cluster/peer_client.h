// One other node of the cluster, through its Replica service
// (proto/custody/internal/v1/replica.proto): every node-to-node call goes through the
// PeerClient of its peer, over one pooled channel. Every call carries this
// node's map version and id, and has a deadline, so a down or hung peer fails
// the call instead of blocking it. RemoteBlobStore (remote_blob_store.h) shows
// a peer's chunks as a BlobStore.
#ifndef CUSTODY_REPLICATION_CLUSTER_PEER_CLIENT_H_
#define CUSTODY_REPLICATION_CLUSTER_PEER_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <set>
#include <string>

#include "absl/time/time.h"
#include "common/thread_pool.h"
#include "custody/internal/v1/replica.grpc.pb.h"
#include "replication/cluster/buckets.h"
#include "replication/cluster/cluster_map.h"
#include "server/storage/blob_store.h"

namespace custody {

// Thread-safe (the stub and channel are).
// Channel settings for calls to other nodes and to the offsite peer: room for
// a chunk of up to 64 MiB, keepalives, and a short reconnect backoff.
grpc::ChannelArguments PeerChannelArguments();

class PeerClient {
 public:
  // `self` is this node's id; `map` is the map it runs with.
  PeerClient(std::shared_ptr<grpc::Channel> channel, std::shared_ptr<const ClusterMap> map,
             std::string self, absl::Duration deadline = absl::Seconds(30));

  // The pooled channel to the peer, for the node's services that call its
  // other services (audit merges, cluster status): one connection per peer.
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }

  // Chunks: one read back, for the reason `why` (server/storage/blob_store.h).
  absl::StatusOr<std::string> GetChunk(const Digest& digest, const ReadFor& why);
  // Asynchronous: the call runs on this client's own threads, and `done`
  // runs there when the peer answers (or the deadline passes).
  void PutChunk(const Digest& digest, std::string data,
                absl::AnyInvocable<void(absl::Status) &&> done);
  // Which of the keys of `kind` (chunks or manifests) the peer lacks.
  absl::StatusOr<std::vector<Digest>> FindMissing(internal::v1::BlobKind kind,
                                                  absl::Span<const Digest> digests);

  // Manifests (blocking): store one on the peer (`handoff_for` names the home
  // node it stands in for, "" when the peer is home), or read one back.
  // `repair` marks a copy made by anti-entropy rather than by an upload.
  absl::Status PutManifest(const Digest& id, const std::string& manifest,
                           const std::string& handoff_for, bool repair = false);
  absl::StatusOr<std::string> GetManifest(const Digest& id);
  // A security ledger entry (blocking).
  absl::Status PutLedger(const Digest& id, const std::string& entry);

  // Anti-entropy: the peer's bucket digests of what it holds in common with
  // this node.
  absl::StatusOr<BucketTable> Buckets(internal::v1::BlobKind kind);
  // With its own deadline (the live estimate asks every few seconds).
  absl::StatusOr<BucketTable> Buckets(internal::v1::BlobKind kind, absl::Duration deadline);
  // Maintenance on the peer, waited for up to `deadline`.
  absl::StatusOr<v1::RepairReport> RunRepair(absl::Duration deadline);
  absl::StatusOr<v1::ScrubReport> RunScrub(absl::Duration deadline);
  // Asks the owner of a record's archive-number sequence to archive it.
  absl::StatusOr<v1::Record> ArchiveRecord(const std::string& record_id, const std::string& actor);
  // Purge: which of `chunks` the peer's manifests (but those of `exclude`) use.
  absl::StatusOr<std::vector<Digest>> ChunksInUse(const std::vector<Digest>& chunks,
                                                  const std::set<std::string>& exclude);
  // The scrubber: the objects ("sha256:<hex>") whose manifests held on the
  // peer use `chunk`.
  absl::StatusOr<std::vector<std::string>> ObjectsUsing(const Digest& chunk);
  // Snapshots (replication/offsite/snapshot_source.h): the peer's objects after `after`,
  // its audit log up to a checkpoint signed now, and one page of that log.
  absl::StatusOr<internal::v1::ListObjectsResponse> ListObjects(const std::string& after,
                                                                uint32_t limit);
  absl::StatusOr<v1::SnapshotAuditLog> AuditSnapshot();
  absl::StatusOr<std::string> AuditPage(uint64_t page, uint64_t upto);
  // Live uploads (server/objects/live_mirror.h), within `deadline`: a
  // segment's mirror, and the hand-off of an upload the peer owns.
  absl::StatusOr<internal::v1::LiveMirrorResponse> MirrorLive(
      const internal::v1::LiveMirrorRequest& req, absl::Duration deadline);
  absl::StatusOr<internal::v1::LiveRecord> HandOffLive(const std::string& live_id, uint64_t held,
                                                       absl::Duration deadline);

 private:
  std::unique_ptr<grpc::ClientContext> NewContext() const { return NewContext(deadline_); }
  std::unique_ptr<grpc::ClientContext> NewContext(absl::Duration deadline) const;

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<internal::v1::Replica::Stub> stub_;
  std::shared_ptr<const ClusterMap> map_;
  std::string self_;
  absl::Duration deadline_;
  std::unique_ptr<ThreadPool> pool_;  // blocking PutBlob calls; last: joined first
};

}  // namespace custody

#endif  // CUSTODY_REPLICATION_CLUSTER_PEER_CLIENT_H_
