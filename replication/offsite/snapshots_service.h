// The custody.v1.Snapshots service of a cluster node (doc/offsite.md):
// snapshot create|list|show, offsite sync|status|verify|snapshots and
// restore, for the CLI (on an offsite peer it refuses them all, saying what
// to run instead); and the schedule that makes (and, with a peer, sends) a snapshot when
// the last one is older than --snapshot-every (the first one hour after the
// node starts), retries a sync the peer has not confirmed every hour, and a
// failed run after five minutes. One node keeps the schedule: with etcd
// the one elected through a lease (Node::KeepsSchedule), which another takes
// over within the lease's time when it dies; without, the map's first node.
#ifndef CUSTODY_REPLICATION_OFFSITE_SNAPSHOTS_SERVICE_H_
#define CUSTODY_REPLICATION_OFFSITE_SNAPSHOTS_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "common/job_loop.h"
#include "custody/v1/offsite.grpc.pb.h"
#include "replication/offsite/offsite_challenge.h"
#include "server/node.h"

namespace custody {

struct OffsiteOptions {
  std::string peer;                             // --offsite ADDR ("" = none)
  absl::Duration every = absl::Hours(24 * 30);  // --snapshot-every
  uint64_t rate_bytes_per_second = 0;           // --offsite-rate (0 = unlimited)
  int streams = 12;
  ChallengeOptions challenge;                            // --challenge-samples, --challenge-rate
  absl::Duration challenge_every = absl::Hours(24 * 7);  // --challenge-every
};

// Thread-safe. Work runs on the node's maintenance pool.
class SnapshotsService final : public v1::Snapshots::CallbackService {
 public:
  SnapshotsService(Node* node, OffsiteOptions options);
  ~SnapshotsService() override;

  // Starts the schedule if this node keeps it.
  void StartSchedule();

  grpc::ServerUnaryReactor* CreateSnapshot(grpc::CallbackServerContext* ctx,
                                           const v1::CreateSnapshotRequest* request,
                                           v1::SnapshotSummary* response) override;
  grpc::ServerUnaryReactor* ListSnapshots(grpc::CallbackServerContext* ctx,
                                          const v1::ListSnapshotsRequest* request,
                                          v1::ListSnapshotsResponse* response) override;
  grpc::ServerUnaryReactor* GetSnapshot(grpc::CallbackServerContext* ctx,
                                        const v1::SnapshotRef* request,
                                        v1::SnapshotDetail* response) override;
  grpc::ServerUnaryReactor* Sync(grpc::CallbackServerContext* ctx, const v1::SyncRequest* request,
                                 v1::SyncResult* response) override;
  grpc::ServerUnaryReactor* OffsiteStatus(grpc::CallbackServerContext* ctx,
                                          const v1::OffsiteStatusRequest* request,
                                          v1::OffsiteStatusResponse* response) override;
  grpc::ServerUnaryReactor* ChallengeOffsite(grpc::CallbackServerContext* ctx,
                                             const v1::ChallengeOffsiteRequest* request,
                                             v1::ChallengeReport* response) override;
  grpc::ServerUnaryReactor* VerifyOffsite(grpc::CallbackServerContext* ctx,
                                          const v1::VerifyOffsiteRequest* request,
                                          v1::OffsiteVerifyReport* response) override;
  grpc::ServerUnaryReactor* Restore(grpc::CallbackServerContext* ctx,
                                    const v1::RestoreRequest* request,
                                    v1::RestoreResult* response) override;
  grpc::ServerUnaryReactor* ListPeerSnapshots(grpc::CallbackServerContext* ctx,
                                              const v1::PeerSnapshotsRequest* request,
                                              v1::PeerSnapshotList* response) override;

 private:
  template <typename Work>
  grpc::ServerUnaryReactor* Run(grpc::CallbackServerContext* ctx, Action action,
                                const std::string& subject, Work work);
  // The peer to use: `asked`, else --offsite; FAILED_PRECONDITION if none.
  absl::StatusOr<std::string> Peer(const std::string& asked) const;
  absl::StatusOr<v1::SyncResult> DoSync(const v1::SyncRequest& request, const std::string& actor);
  absl::Status Status(v1::OffsiteStatusResponse* out);
  // One run of the schedule, and when the next is due after it.
  struct Run_ {
    absl::Time at;
    bool ok = true;
  };
  Run_ ScheduledRun();
  // The scheduled challenge of the peer, when one is due.
  void ChallengeIfDue();
  // When the next challenge is due: --challenge-every after the last (none
  // yet: now), or an hour after one that could not run.
  absl::Time ChallengeDue();
  std::atomic<absl::Time> challenge_retry_{absl::InfinitePast()};
  std::optional<absl::Time> NextDue(const std::optional<Run_>& last, absl::Time started);

  Node* node_;
  OffsiteOptions options_;
  std::unique_ptr<JobLoop<Run_>> schedule_;
};

}  // namespace custody

#endif  // CUSTODY_REPLICATION_OFFSITE_SNAPSHOTS_SERVICE_H_
