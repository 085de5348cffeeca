// A storage node's parts, wired together over one data folder:
//   DIR/FORMAT      node id and chunk size (fixed when the folder is made)
//   DIR/LOCK        held by the running custodyd
//   DIR/volumes/    append-only volume files
//   DIR/index/      RocksDB
//   DIR/quarantine/ bytes set aside (torn tails), never deleted
//   DIR/node.key    the node's Ed25519 audit key (mode 0600), and node.key.pub
#ifndef CUSTODY_SERVER_NODE_H_
#define CUSTODY_SERVER_NODE_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/event_throttle.h"
#include "common/idle_watchdog.h"
#include "common/job_loop.h"
#include "common/thread_pool.h"
#include "replication/cluster/anti_entropy.h"
#include "replication/cluster/cluster_map.h"
#include "replication/cluster/etcd_map_store.h"
#include "replication/cluster/node_reads.h"
#include "replication/cluster/placement.h"
#include "replication/cluster/scrubber.h"
#include "replication/etcd/etcd_client.h"
#include "replication/etcd/etcd_membership.h"
#include "server/audit/audit_history.h"
#include "server/audit/audit_log.h"
#include "server/audit/audited_write.h"
#include "server/node_space_watch.h"
#include "server/objects/live_upload.h"
#include "server/objects/purger.h"
#include "server/objects/upload.h"
#include "server/records/archive_sequencer.h"
#include "server/records/record_fold.h"
#include "server/records/record_keeper.h"
#include "server/security/access_fold.h"
#include "server/security/access_state.h"
#include "server/security/auth_throttle.h"
#include "server/security/ledger.h"
#include "server/security/ledger_fold.h"
#include "server/security/principals.h"
#include "server/storage/blob_store.h"
#include "server/storage/chunk_sealer.h"
#include "server/storage/committer.h"
#include "server/storage/index.h"
#include "server/storage/node_metrics.h"
#include "server/storage/object_store.h"
#include "server/storage/recovery.h"
#include "server/storage/volume_set.h"

namespace custody {

struct NodeOptions {
  std::string data_dir;
  uint32_t chunk_size = 4u << 20;  // used when the folder is created
  bool chunk_size_set = false;     // true if the operator asked for one
  uint64_t max_volume_bytes = 1ull << 30;
  std::string io_backend = "auto";  // auto | io_uring | pwrite
  uint64_t min_free_bytes = 64ull << 20;
  // Whether a put whose copies cannot span enough zones succeeds (marked
  // chunk.zone-degraded) or waits for the zone (doc/cluster.md).
  bool allow_zone_degraded = true;
  AuditOptions audit;
  bool rebuild_index = false;
  int stream_threads = 4;
  // Live streams (doc/live.md): each append waits on a synced write, so
  // many of them wait at once; their own pool, apart from uploads'.
  int live_threads = 16;
  int hash_threads = 2;
  int read_threads = 4;
  int fetch_threads = 2;
  absl::Duration idle_timeout = absl::Seconds(60);  // stalled upload streams
  // A live upload without a segment this long is sealed as truncated.
  absl::Duration live_timeout = absl::Hours(1);
  // With a cluster map: this node's id in it (a new data folder takes it; an
  // existing one must already have it). Without: a random id, a cluster of one.
  std::string node_id;
  std::shared_ptr<const ClusterMap> cluster;
  // The cluster's etcd (doc/etcd.md), "host:port" each; empty: none (a single
  // node, or archive numbers from each prefix's owner node).
  std::vector<std::string> etcd_endpoints;
  std::string etcd_root = "/custody/";  // the cluster's keys in etcd
  // The map file's text (the map etcd starts from, in a new cluster).
  std::string cluster_json;
  // Called once when etcd holds another map version than the node runs
  // (custodyd restarts itself on it); null: nothing.
  std::function<void()> on_map_change;
  // TESTS ONLY: this node's wall clock runs this far ahead (common/hybrid_clock.h).
  absl::Duration testing_clock_offset = absl::ZeroDuration();
  AntiEntropyOptions anti_entropy;  // used with a map of more than one node
  // How this node calls its peers (TLS with its own certificate, or
  // plaintext on loopback); null means plaintext.
  std::shared_ptr<grpc::ChannelCredentials> peer_credentials;
  bool tls = false;  // clients and peers must present certificates
  // With tls: the cluster CA's certificate. Decisions must be signed by
  // people whose certificates it issued (server/security/decisions.h).
  std::string ca_pem;
  // Encryption at rest: the data key file (outside the data folder), and
  // older keys that still open chunks sealed before a rotation. Empty: chunks
  // are stored in plaintext.
  std::string data_key_file;
  std::vector<std::string> old_data_key_files;
  ScrubOptions scrub;
  // Records (doc/records.md): tolerances and the archive-number format, and
  // an agency's own matter catalog (empty: the built-in one).
  RecordRules records;
  std::string catalog_file;
  // custodyd --role offsite (doc/offsite.md): only the offsite service, status
  // and the audit trail answer; every other action is refused.
  bool offsite_peer = false;
  // custodyd --role witness (doc/witness.md): only the witness service,
  // status and the audit trail answer.
  bool witness_only = false;
};

// Thread-safe once open.
class Node {
 public:
  static absl::StatusOr<std::unique_ptr<Node>> Open(const NodeOptions& options);
  ~Node();

  const std::string& node_id() const { return node_id_; }
  uint32_t chunk_size() const { return chunk_size_; }
  absl::string_view io_backend() const { return committer_->io_backend(); }
  const NodeOptions& options() const { return options_; }
  // The cluster this node belongs to (a cluster of one without a map).
  const ClusterMap& cluster() const { return *cluster_; }
  // Credentials for calls to other nodes.
  std::shared_ptr<grpc::ChannelCredentials> peer_credentials() const;

  Index* index() { return index_.get(); }
  VolumeSet* volumes() { return volumes_.get(); }
  Committer* committer() { return committer_.get(); }
  AuditLog* audit() { return audit_.get(); }
  // Audit logs of an earlier cluster, brought back by a restore.
  AuditHistory* history() { return history_.get(); }
  // Appends `event` to the audit log and waits until it is durable.
  absl::Status Record(v1::AuditEvent event);
  // For what already happened: held in memory when the disk is full
  // (AuditTrail::RecordOrHold).
  absl::Status RecordOrHold(v1::AuditEvent event);
  // The audit trail the node's parts record through.
  AuditTrail* trail() { return trail_.get(); }
  // Why the node takes no new data now ("" when it does; server/node_space_watch.h).
  std::string ReadOnlyReason() const { return space_ ? space_->ReadOnlyReason() : ""; }
  // Signs a checkpoint over the log as it is now (or returns the latest if
  // nothing was logged since), durably.
  absl::StatusOr<std::string> SignCheckpointNow();
  BlobStore* chunks() { return verified_.get(); }  // verifies on read
  // This node's own chunks, NOT hashed on read (a sealed chunk is still
  // authenticated). Only for a reader whose receiver hashes every chunk it
  // takes and refuses a bad one (offsite sync), and who reads through
  // chunks() again when refused.
  BlobStore* unhashed_chunks() { return local_.get(); }
  // Users and access grants (doc/security.md).
  Ledger* ledger() { return ledger_.get(); }
  absl::StatusOr<std::shared_ptr<const AccessState>> access_state() {
    return std::make_shared<const AccessState>(fold_->Snapshot(), absl::Now());
  }
  LedgerFold* fold() { return fold_.get(); }
  // The caller of `ctx` if it may do `action` (server/security/principals.h);
  // otherwise its refusal, logged as access.refused about `subject`.
  absl::StatusOr<v1::Principal> Authorize(const grpc::ServerContextBase& ctx, Action action,
                                          const std::string& subject = "node");
  // The manifest of `id` if `p`'s clearance covers the object's
  // classification; otherwise the refusal is logged and the answer is the
  // same NOT_FOUND as for an object that does not exist.
  absl::StatusOr<v1::ObjectManifest> VisibleManifest(const v1::Principal& p, const Digest& id,
                                                     Action action);
  // The live grant of `reader` to `purpose` object `object_id`: one for the
  // object, or for a record that holds it now; nullopt without one.
  absl::StatusOr<std::optional<v1::AccessGrant>> LiveGrant(const std::string& reader,
                                                           const std::string& object_id,
                                                           const std::string& purpose);
  // Records a refusal of `who` (access.refused) and returns `why`.
  absl::Status Refuse(const std::string& who, Action action, const std::string& subject,
                      const absl::Status& why);
  // Seals chunks at rest; null without --data-key.
  const ChunkSealer* sealer() const { return sealer_.get(); }
  // Chunks anywhere in the cluster (this node's own first); the same as
  // chunks() without a cluster.
  BlobStore* cluster_chunks() { return placement_ ? placement_->chunks() : verified_.get(); }
  // The manifest of `id`, from this node or, in a cluster, from another.
  absl::StatusOr<v1::ObjectManifest> FindManifest(const Digest& id);
  UploadManager* uploads() { return uploads_.get(); }
  // Live uploads from cameras in the field (doc/live.md).
  LiveUploads* live() { return live_.get(); }
  ObjectStore* objects() { return objects_.get(); }
  ThreadPool* stream_pool() { return stream_pool_.get(); }
  ThreadPool* live_pool() { return live_pool_.get(); }
  ThreadPool* read_pool() { return read_pool_.get(); }
  // For chunk reads only: its tasks never wait on other tasks.
  ThreadPool* fetch_pool() { return fetch_pool_.get(); }
  IdleWatchdog* idle_watchdog() { return watchdog_.get(); }
  // Where other nodes are reached; null for a cluster of one.
  Placement* placement() { return placement_.get(); }
  // Null for a cluster of one.
  AntiEntropy* anti_entropy() { return anti_entropy_.get(); }
  Scrubber* scrubber() { return scrubber_.get(); }
  // Records, devices, archive numbers and reports.
  RecordKeeper* records() { return records_.get(); }
  // Removes the data of executed purges on this node; null until open.
  Purger* purger() { return purger_.get(); }
  // For maintenance requests (repair, scrub), which wait for long work.
  ThreadPool* maintenance_pool() { return maintenance_pool_.get(); }
  // Peers' ledger entries, received: work that never waits on another node.
  ThreadPool* ledger_pool() { return ledger_pool_.get(); }
  // The cluster's etcd client; null without --etcd.
  const EtcdClient* etcd() const { return etcd_.get(); }
  // Liveness and the scheduler's election in etcd; null without --etcd.
  const EtcdMembership* membership() const { return membership_.get(); }
  // The cluster map in etcd; null without --etcd.
  EtcdMapStore* map_store() { return map_store_.get(); }
  // Whether this node keeps the snapshot schedule: the elected one with
  // etcd, else the map's first node by id.
  bool KeepsSchedule() const;
  uint64_t FreeBytes() const;
  NodeMetrics* metrics() { return metrics_.get(); }
  // Counts a read by node `peer` through Replica.GetBlob and records the
  // replica.read event when one is due (replication/cluster/node_reads.h).
  void CountPeerRead(const std::string& peer, internal::v1::BlobKind kind, uint64_t bytes);
  // Records a refused Replica call (replica.refused, at most one a minute
  // per caller and reason) and returns `why`.
  absl::Status RefusePeer(const std::string& caller, const std::string& method,
                          const absl::Status& why);
  // Everything /metrics shows: the counters and the node's gauges.
  std::string RenderMetrics();

 private:
  Node() = default;
  absl::Status OpenFolder();
  // The index and the volumes, recovered (or rebuilt) after a crash.
  absl::Status OpenStorage();
  absl::Status OpenParts();
  absl::Status OpenAudit();
  // The parts above storage: ledger, placement, uploads, background work,
  // records and purges, each given only what it uses.
  absl::Status OpenLedger();
  absl::Status OpenRecords();
  void StartBackgroundWork();
  // With etcd: writes archive numbers reserved and not written (a node that
  // stopped in between), at start and every 30 s, until the node stops.
  void StartArchiveRepair();
  absl::Status OpenEtcd();
  void StartMapWatch();
  absl::Status RecordStart();  // node.started
  // OK for RESOURCE_EXHAUSTED (logged): what a start may leave to later.
  static absl::Status UnlessDiskFull(const absl::Status& s);
  void ZoneDegraded(const Digest& chunk, const std::vector<std::string>& holders);
  // Applies every executed purge here (Purger::ApplyAll) while one is due.
  void FinishPurges();
  absl::Status RecordRebuild();  // index.rebuilt after --rebuild-index
  absl::Status RecordRecovery();
  absl::Status LoadDataKeys();
  // With --data-key the index is encrypted (server/storage/index_encryption.h): a
  // plaintext index from before the key is copied into an encrypted one
  // first, and kept aside. Without it, an encrypted index is refused.
  absl::Status PrepareIndex(const std::string& dir);
  // Records that `peer`'s address is blocked for `block` (auth.throttled).
  void RecordThrottle(const std::string& peer, absl::Duration block);
  std::unique_ptr<FileWriter> NewWriter(absl::Status* error);

  NodeOptions options_;
  std::string node_id_;
  uint32_t chunk_size_ = 0;
  int lock_fd_ = -1;
  std::unique_ptr<ThreadPool> hash_pool_, stream_pool_, live_pool_, read_pool_, fetch_pool_,
      maintenance_pool_, ledger_pool_;
  std::unique_ptr<rocksdb::Env> index_env_;  // encrypts the index; null without --data-key
  std::unique_ptr<Index> index_;
  std::unique_ptr<VolumeSet> volumes_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<AuditHistory> history_;
  std::unique_ptr<NodeMetrics> metrics_ = std::make_unique<NodeMetrics>();
  std::unique_ptr<Committer> committer_;
  std::unique_ptr<AuditTrail> trail_;
  std::unique_ptr<ChunkSealer> sealer_;
  std::unique_ptr<Ledger> ledger_;
  AuthThrottle auth_throttle_;
  NodeReads peer_reads_;
  EventThrottle peer_refusals_{absl::Minutes(1)};
  std::unique_ptr<LedgerFold> fold_;  // the records and access state, folded
  std::unique_ptr<AccessRules> access_rules_;
  std::unique_ptr<BookRules> book_rules_;
  std::unique_ptr<BlobStore> local_, verified_;
  std::shared_ptr<const ClusterMap> cluster_;
  std::unique_ptr<Placement> placement_;  // a cluster of more than one node
  std::unique_ptr<UploadManager> uploads_;
  std::unique_ptr<LiveUploads> live_;
  std::unique_ptr<ObjectStore> objects_;
  std::unique_ptr<IdleWatchdog> watchdog_;
  std::unique_ptr<AntiEntropy> anti_entropy_;
  std::unique_ptr<Scrubber> scrubber_;
  std::unique_ptr<RecordKeeper> records_;
  std::unique_ptr<EtcdClient> etcd_;             // with --etcd
  std::unique_ptr<EtcdMembership> membership_;   // with --etcd
  std::unique_ptr<EtcdMapStore> map_store_;      // with --etcd
  std::unique_ptr<JobLoop<bool>> map_watch_;     // every 2 s: a new map in etcd?
  std::unique_ptr<ArchiveSequencer> sequencer_;  // archive numbers from etcd
  std::unique_ptr<HoldRegistry> holds_;          // holds against purges through etcd
  std::thread archive_repair_;                   // CompleteReservedArchives, every 30 s
  absl::Notification stop_repair_;
  std::unique_ptr<Purger> purger_;
  std::unique_ptr<SpaceWatch> space_;        // null until the node is open
  std::atomic<bool> purges_pending_{false};  // set at start, cleared once applied
  std::optional<RecoveryStats> rebuilt_;     // set by --rebuild-index
  std::optional<RecoveryStats> recovered_;   // start-up recovery of the active volume
};

}  // namespace custody

#endif  // CUSTODY_SERVER_NODE_H_
