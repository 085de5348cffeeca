// The chunks of another node of the cluster, through its Replica service
// (proto/custody/v1/replica.proto). Every call carries this node's map version
// and id, and has a deadline, so a down or hung peer fails the call instead of
// blocking it.
#ifndef CUSTODY_SERVER_REMOTE_BLOB_STORE_H_
#define CUSTODY_SERVER_REMOTE_BLOB_STORE_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <set>
#include <string>

#include "absl/time/time.h"
#include "common/thread_pool.h"
#include "custody/v1/replica.grpc.pb.h"
#include "replication/buckets.h"
#include "replication/cluster_map.h"
#include "server/blob_store.h"

namespace custody {

// Thread-safe (the stub and channel are).
class RemoteBlobStore : public BlobStore {
 public:
  // `self` is this node's id; `map` is the map it runs with.
  RemoteBlobStore(std::shared_ptr<grpc::Channel> channel, std::shared_ptr<const ClusterMap> map,
                  std::string self, absl::Duration deadline = absl::Seconds(30));

  // The pooled channel to the peer, for the node's other services that call
  // it (audit merges, cluster status): one connection per peer.
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }

  absl::StatusOr<std::string> Get(const Digest& digest) override;
  absl::StatusOr<std::string> GetFor(const Digest& digest, const ReadFor& why) override;
  // Asynchronous: the call runs on this store's own threads, and `done`
  // runs there when the peer answers (or the deadline passes).
  void Put(const Digest& digest, std::string data,
           absl::AnyInvocable<void(absl::Status) &&> done) override;
  absl::StatusOr<std::vector<Digest>> FindMissing(absl::Span<const Digest> digests) override;
  // Which of the keys of `kind` (chunks or manifests) the peer lacks.
  absl::StatusOr<std::vector<Digest>> FindMissing(v1::BlobKind kind,
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
  absl::StatusOr<BucketTable> Buckets(v1::BlobKind kind);
  // Maintenance on the peer, waited for up to `deadline`.
  absl::StatusOr<v1::RepairReport> RunRepair(absl::Duration deadline);
  absl::StatusOr<v1::ScrubReport> RunScrub(absl::Duration deadline);
  // Asks the owner of a record's archive-number sequence to archive it.
  absl::StatusOr<v1::Record> ArchiveRecord(const std::string& record_id, const std::string& actor);
  // Purge: which of `chunks` the peer's manifests (but those of `exclude`) use.
  absl::StatusOr<std::vector<Digest>> ChunksInUse(const std::vector<Digest>& chunks,
                                                  const std::set<std::string>& exclude);
  // Snapshots (server/snapshot_source.h): the peer's objects after `after`,
  // its audit log up to a checkpoint signed now, and one page of that log.
  absl::StatusOr<v1::ListObjectsResponse> ListObjects(const std::string& after, uint32_t limit);
  absl::StatusOr<v1::SnapshotAuditLog> AuditSnapshot();
  absl::StatusOr<std::string> AuditPage(uint64_t page, uint64_t upto);

 private:
  std::unique_ptr<grpc::ClientContext> NewContext() const { return NewContext(deadline_); }
  std::unique_ptr<grpc::ClientContext> NewContext(absl::Duration deadline) const;

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Replica::Stub> stub_;
  std::shared_ptr<const ClusterMap> map_;
  std::string self_;
  absl::Duration deadline_;
  std::unique_ptr<ThreadPool> pool_;  // blocking PutBlob calls; last: joined first
};

}  // namespace custody

#endif  // CUSTODY_SERVER_REMOTE_BLOB_STORE_H_
