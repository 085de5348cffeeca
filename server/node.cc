#include "server/node.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/files.h"
#include "common/hybrid_clock.h"
#include "common/log.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "common/units.h"
#include "server/audit/audited_write.h"
#include "server/records/etcd_archive_sequencer.h"
#include "server/records/etcd_hold_registry.h"
#include "server/storage/index_encryption.h"
#include "server/storage/local_blob_store.h"
#include "server/storage/recovery.h"
#include "server/storage/verifying_blob_store.h"

namespace custody {
namespace fs = std::filesystem;

namespace {

constexpr char kFormatLine[] = "custody-data-folder 1";

absl::Status MakeDir(const std::string& d) {
  std::error_code ec;
  fs::create_directories(d, ec);
  if (ec) return absl::InternalError(absl::StrCat("creating ", d, ": ", ec.message()));
  return absl::OkStatus();
}

absl::StatusOr<bool> VolumesHoldData(const std::string& dir) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(dir));
  for (const std::string& name : names) {
    struct stat st;
    const std::string path = dir + "/" + name;
    if (stat(path.c_str(), &st) != 0) return ErrnoStatus(errno, "reading the size of " + path);
    if (S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) > kFirstEntryOffset) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Node>> Node::Open(const NodeOptions& options) {
  std::unique_ptr<Node> n(new Node);
  n->options_ = options;
  RETURN_IF_ERROR(n->OpenFolder());
  n->cluster_ = options.cluster
                    ? options.cluster
                    : std::make_shared<const ClusterMap>(ClusterMap::Single(n->node_id_, ""));
  RETURN_IF_ERROR(n->OpenEtcd());
  RETURN_IF_ERROR(n->OpenStorage());
  RETURN_IF_ERROR(n->OpenParts());
  return n;
}

// Creates the folder layout, takes the lock, and reads (or writes) FORMAT.
absl::Status Node::OpenFolder() {
  const std::string& d = options_.data_dir;
  ASSIGN_OR_RETURN(int restricted, RestrictToOwner(d));  // evidence is the owner's alone
  if (restricted > 0) {
    LOG(WARNING) << "data folder " << d << ": " << restricted
                 << " entries were open to group or others; now kept to the owner";
  }
  RETURN_IF_ERROR(MakeDir(d + "/volumes"));
  RETURN_IF_ERROR(MakeDir(d + "/quarantine"));
  lock_fd_ = open((d + "/LOCK").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0 || flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("data folder ", d, " is in use by another custodyd"));
  }
  std::string path = d + "/FORMAT";
  ASSIGN_OR_RETURN(bool formatted, PathExists(path));
  if (!formatted) {
    node_id_ = options_.node_id;
    if (node_id_.empty()) {
      ASSIGN_OR_RETURN(node_id_, RandomHex(8, "a node id"));
    }
    chunk_size_ = options_.chunk_size;
    return ReplaceFile(
        path, absl::StrCat(kFormatLine, "\nnode_id=", node_id_, "\nchunk_size=", chunk_size_, "\n"),
        0600);
  }
  ASSIGN_OR_RETURN(std::string format, ReadFileToString(path));
  std::vector<std::string> lines = absl::StrSplit(format, '\n', absl::SkipEmpty());
  if (lines.empty() || lines[0] != kFormatLine) {
    return absl::FailedPreconditionError(absl::StrCat(path, " is not a custody data folder"));
  }
  for (const std::string& line : lines) {
    std::pair<std::string, std::string> kv = absl::StrSplit(line, absl::MaxSplits('=', 1));
    if (kv.first == "node_id") node_id_ = kv.second;
    if (kv.first == "chunk_size" && !absl::SimpleAtoi(kv.second, &chunk_size_)) {
      return absl::DataLossError(absl::StrCat(path, ": bad chunk_size"));
    }
  }
  if (chunk_size_ == 0 || node_id_.empty()) {
    return absl::DataLossError(absl::StrCat(path, " lacks node_id or chunk_size"));
  }
  if (!options_.node_id.empty() && options_.node_id != node_id_) {
    return absl::FailedPreconditionError(absl::StrCat("data folder ", d, " belongs to node ",
                                                      node_id_, ", not ", options_.node_id,
                                                      ": give each node its own folder"));
  }
  if (options_.chunk_size_set && options_.chunk_size != chunk_size_) {
    return absl::FailedPreconditionError(absl::StrCat("data folder ", d, " has chunk size ",
                                                      chunk_size_, "; it cannot change to ",
                                                      options_.chunk_size));
  }
  return absl::OkStatus();
}

absl::Status Node::OpenStorage() {
  const std::string& d = options_.data_dir;
  std::string index_dir = d + "/index";
  ASSIGN_OR_RETURN(bool have_index, PathExists(index_dir));
  ASSIGN_OR_RETURN(bool have_data, VolumesHoldData(d + "/volumes"));
  if (options_.rebuild_index && have_index) {
    std::string aside = absl::StrCat(index_dir, ".replaced-", NowUnixNanos());
    LOG(WARNING) << "--rebuild-index: keeping the old index as " << aside;
    RETURN_IF_ERROR(RenamePath(index_dir, aside));
  } else if (!options_.rebuild_index && !have_index && have_data) {
    return absl::FailedPreconditionError(
        absl::StrCat("the index folder ", index_dir, " is missing but the volumes hold data; ",
                     "start once with --rebuild-index to rebuild it from the volumes"));
  }
  RETURN_IF_ERROR(LoadDataKeys());  // recovery checks sealed chunks with them
  RETURN_IF_ERROR(PrepareIndex(index_dir));
  // Without it a start on a full disk may fail later; it is tried again.
  if (absl::Status s = EnsureReserveFile(d); !s.ok()) LOG(WARNING) << s;
  absl::StatusOr<std::unique_ptr<Index>> index = Index::Open(index_dir, index_env_.get());
  if (absl::IsResourceExhausted(index.status()) && ReleaseReserveFile(d)) {
    index = Index::Open(index_dir, index_env_.get());  // the room an open needs
  }
  ASSIGN_OR_RETURN(index_, std::move(index));
  ASSIGN_OR_RETURN(volumes_, VolumeSet::Open(d + "/volumes", d + "/quarantine", chunk_size_,
                                             options_.max_volume_bytes, index_.get()));
  if (options_.rebuild_index) {
    ASSIGN_OR_RETURN(RecoveryStats st, RebuildIndex(index_.get(), volumes_.get(), sealer_.get()));
    rebuilt_ = st;
    LOG(INFO) << "index rebuilt: " << st.entries_scanned << " entries, " << st.chunks_indexed
              << " chunks, " << st.objects_indexed << " objects in " << st.seconds << " s";
  } else {
    ASSIGN_OR_RETURN(RecoveryStats st,
                     RecoverActiveVolume(index_.get(), volumes_.get(), sealer_.get()));
    recovered_ = st;
  }
  return absl::OkStatus();
}

// Everything over the index and the volumes, in the order each needs the
// others; then the start is on record and background work begins.
absl::Status Node::OpenParts() {
  absl::Status werr;
  std::unique_ptr<FileWriter> writer = NewWriter(&werr);
  RETURN_IF_ERROR(werr);
  RETURN_IF_ERROR(OpenAudit());
  hash_pool_ = std::make_unique<ThreadPool>(options_.hash_threads);
  stream_pool_ = std::make_unique<ThreadPool>(options_.stream_threads);
  live_pool_ = std::make_unique<ThreadPool>(options_.live_threads);
  read_pool_ = std::make_unique<ThreadPool>(options_.read_threads);
  fetch_pool_ = std::make_unique<ThreadPool>(options_.fetch_threads);
  maintenance_pool_ = std::make_unique<ThreadPool>(4);
  ledger_pool_ = std::make_unique<ThreadPool>(2);
  CommitterOptions co;
  co.min_free_bytes = options_.min_free_bytes;
  co.sealer = sealer_.get();
  committer_ = std::make_unique<Committer>(index_.get(), volumes_.get(), std::move(writer), co,
                                           audit_.get());
  trail_ = std::make_unique<AuditTrail>(committer_.get(), audit_.get());
  local_ = std::make_unique<LocalBlobStore>(index_.get(), volumes_.get(), committer_.get(),
                                            sealer_.get());
  verified_ = std::make_unique<VerifyingBlobStore>(
      local_.get(), [m = metrics_.get()] { m->CorruptChunkFound(); });
  objects_ = std::make_unique<ObjectStore>(index_.get());
  history_ = std::make_unique<AuditHistory>(index_.get(), committer_.get(), audit_.get());
  if (cluster_->nodes().size() > 1) {
    placement_ = std::make_unique<Placement>(cluster_, node_id_, verified_.get(), local_.get(),
                                             peer_credentials());
    placement_->set_zone_policy({options_.allow_zone_degraded,
                                 [this](const Digest& chunk, const std::vector<std::string>& on) {
                                   ZoneDegraded(chunk, on);
                                 }});
  }
  RETURN_IF_ERROR(OpenLedger());
  uploads_ = std::make_unique<UploadManager>(index_.get(), committer_.get(), hash_pool_.get(),
                                             chunk_size_, audit_.get());
  uploads_->set_sealer(sealer_.get());
  ASSIGN_OR_RETURN(int forgotten, uploads_->ForgetOldFinished());
  if (forgotten > 0) LOG(INFO) << "forgot " << forgotten << " uploads finished over a week ago";
  uploads_->set_required_replicas(static_cast<uint32_t>(cluster_->replication_factor()));
  if (placement_) uploads_->set_placement(placement_.get());
  live_ = std::make_unique<LiveUploads>(uploads_.get(), trail_.get());
  watchdog_ = std::make_unique<IdleWatchdog>(options_.idle_timeout);
  RETURN_IF_ERROR(OpenRecords());
  space_ = std::make_unique<SpaceWatch>(index_.get(), trail_.get(), options_.data_dir,
                                        options_.min_free_bytes, [this] { FinishPurges(); });
  // A node starts on a full disk: its start is held in memory and written
  // when there is room (AuditTrail::Record); it takes no new data until then.
  RETURN_IF_ERROR(UnlessDiskFull(RecordStart()));
  RETURN_IF_ERROR(UnlessDiskFull(RecordRecovery()));
  // Finishes a purge a crash cut short; on a full disk, as soon as there is
  // room (SpaceWatch); any other failure stops the start, as before.
  if (absl::Status s = purger_->ApplyAll(); !s.ok()) {
    RETURN_IF_ERROR(UnlessDiskFull(s));
    purges_pending_ = true;
  }
  StartBackgroundWork();
  StartArchiveRepair();
  if (rebuilt_) RETURN_IF_ERROR(UnlessDiskFull(RecordRebuild()));
  RETURN_IF_ERROR(UnlessDiskFull(SignCheckpointNow().status()));
  if (std::string why = ReadOnlyReason(); !why.empty()) LOG(WARNING) << "started: " << why;
  return absl::OkStatus();
}

// Called where the last copy landed (maybe the committer's thread, or a
// peer's callback while the node stops): the event is queued, and written
// within 2 s (SpaceWatch) or by the next Record.
void Node::ZoneDegraded(const Digest& chunk, const std::vector<std::string>& holders) {
  metrics_->ZoneDegraded();
  v1::AuditEvent e = NewEvent("chunk.zone-degraded", chunk.ToString(), "custodyd");
  AddDetail(&e, "holders", absl::StrJoin(holders, ", "));
  AddDetail(&e, "why", "a home node was down or full; anti-entropy moves the copy home");
  trail_->Enqueue(std::move(e));
}

void Node::FinishPurges() {
  if (!purges_pending_.load()) return;
  absl::Status s = purger_->ApplyAll();
  if (s.ok()) {
    purges_pending_ = false;
  } else {
    LOG(ERROR) << "finishing executed purges (tried again every 2 s): " << s;
  }
}

absl::Status Node::UnlessDiskFull(const absl::Status& s) {
  if (!absl::IsResourceExhausted(s)) return s;
  LOG(WARNING) << "starting on a full disk: " << s;
  return absl::OkStatus();
}

// The security ledger: entries spread to every other node; an executed purge
// removes data here once stored.
absl::Status Node::OpenLedger() {
  if (options_.testing_clock_offset != absl::ZeroDuration()) {
    SetWallClockOffsetForTesting(options_.testing_clock_offset);
  }
  ledger_ = std::make_unique<Ledger>(index_.get(), trail_.get(), node_id_,
                                     static_cast<int>(cluster_->nodes().size()));
  if (options_.tls) ledger_->Trust(options_.ca_pem);
  RETURN_IF_ERROR(ledger_->RestoreClock());
  // The fold is made under the CA decisions are checked against: another CA
  // (or none) folds the ledger again.
  fold_ = std::make_unique<LedgerFold>(index_.get());
  access_rules_ = std::make_unique<AccessRules>(ledger_.get());
  book_rules_ = std::make_unique<BookRules>(ledger_.get());
  fold_->AddRules(access_rules_.get());
  fold_->AddRules(book_rules_.get());
  RETURN_IF_ERROR(fold_->Open(
      absl::StrCat(kFoldVersion, ";ca=", options_.tls ? Digest::Of(options_.ca_pem).Hex() : "")));
  ledger_->SetFold(fold_.get());
  purger_ = std::make_unique<Purger>(index_.get(), volumes_.get(), trail_.get(), fold_.get());
  ledger_->SetAfterStore([purger = purger_.get()](const v1::LedgerEntry& e) {
    absl::Status s = purger->Apply(e);
    if (!s.ok()) LOG(ERROR) << "applying " << e.subject() << ": " << s << " (retried at start-up)";
  });
  if (!placement_) return absl::OkStatus();
  ledger_->SetSpreader([p = placement_.get()](const Digest& id, const std::string& bytes) {
    int reached = 0;
    for (const Placement::Other& n : p->Others()) {
      absl::Status s = n.peer->PutLedger(id, bytes);
      if (s.ok()) {
        ++reached;
      } else {
        LOG(WARNING) << "ledger entry " << id.ToString() << " did not reach " << n.info->id << ": "
                     << s << " (anti-entropy will bring it)";
      }
    }
    return reached;
  });
  return absl::OkStatus();
}

// Records, devices, archive numbers and reports, over the ledger.
absl::Status Node::OpenRecords() {
  Catalog catalog = Catalog::BuiltIn();
  if (!options_.catalog_file.empty()) {
    ASSIGN_OR_RETURN(catalog, Catalog::Load(options_.catalog_file));
  }
  RETURN_IF_ERROR(ValidateArchiveFormat(options_.records.archive_format));
  if (etcd_) {
    sequencer_ = std::make_unique<EtcdArchiveSequencer>(etcd_.get(), options_.etcd_root);
    holds_ = std::make_unique<EtcdHoldRegistry>(etcd_.get(), options_.etcd_root);
    membership_ = std::make_unique<EtcdMembership>(etcd_.get(),
                                                   MembershipOptions{options_.etcd_root, node_id_});
  }
  RecordKeeperDeps deps{node_id_,         ledger_.get(),
                        fold_.get(),      purger_.get(),
                        placement_.get(), [this](const Digest& id) { return FindManifest(id); },
                        sequencer_.get(), holds_.get()};
  records_ = std::make_unique<RecordKeeper>(std::move(deps), options_.records, std::move(catalog));
  // A purge.executed from a peer removes data only if this node derives it.
  ledger_->SetAdmission([keeper = records_.get()](const v1::LedgerEntry& e) {
    return e.kind() == "purge.executed" ? keeper->CheckExecutedPurge(e) : absl::OkStatus();
  });
  return absl::OkStatus();
}

// Anti-entropy (in a cluster) and the scrubber.
void Node::StartBackgroundWork() {
  if (placement_) {
    AntiEntropyDeps deps{index_.get(), verified_.get(), ledger_.get(),
                         trail_.get(), metrics_.get(),  placement_.get()};
    anti_entropy_ = std::make_unique<AntiEntropy>(std::move(deps), options_.anti_entropy);
    anti_entropy_->Start();
  }
  ScrubberDeps deps{node_id_,      index_.get(), volumes_.get(), committer_.get(),
                    sealer_.get(), trail_.get(), metrics_.get(), placement_.get()};
  scrubber_ = std::make_unique<Scrubber>(std::move(deps), options_.scrub);
  scrubber_->Start();
}

absl::Status Node::RecordStart() {
  v1::AuditEvent started = NewEvent("node.started", "node", "custodyd");
  AddDetail(&started, "io_backend", committer_->io_backend());
  AddDetail(&started, "chunk_size", absl::StrCat(chunk_size_));
  if (options_.records.testing_retention > absl::ZeroDuration()) {
    AddDetail(&started, "unsafe_testing_retention",
              absl::FormatDuration(options_.records.testing_retention));
    LOG(WARNING) << "--unsafe-testing-retention: archived records are kept only "
                 << absl::FormatDuration(options_.records.testing_retention)
                 << ", not the 2 years of article 19; for tests only";
  }
  if (options_.testing_clock_offset != absl::ZeroDuration()) {
    AddDetail(&started, "unsafe_testing_clock_offset",
              absl::FormatDuration(options_.testing_clock_offset));
    LOG(WARNING) << "--unsafe-testing-clock-offset: this node's clock runs "
                 << absl::FormatDuration(options_.testing_clock_offset) << " off; for tests only";
  }
  if (options_.records.archive_deadline != absl::Hours(24)) {
    AddDetail(&started, "unsafe_testing_archive_deadline",
              absl::FormatDuration(options_.records.archive_deadline));
    LOG(WARNING) << "--unsafe-testing-archive-deadline: records are overdue "
                 << absl::FormatDuration(options_.records.archive_deadline)
                 << " after their end, not the 24 h of article 17; for tests only";
  }
  AddDetail(&started, "time_zone", options_.records.time_zone);
  return RecordOrHold(std::move(started));
}

absl::Status Node::RecordRebuild() {
  v1::AuditEvent rebuilt = NewEvent("index.rebuilt", "node", "custodyd");
  AddDetail(&rebuilt, "entries", absl::StrCat(rebuilt_->entries_scanned));
  AddDetail(&rebuilt, "chunks", absl::StrCat(rebuilt_->chunks_indexed));
  AddDetail(&rebuilt, "objects", absl::StrCat(rebuilt_->objects_indexed));
  AddDetail(&rebuilt, "torn_bytes_quarantined", absl::StrCat(rebuilt_->torn_bytes));
  AddDetail(&rebuilt, "seconds", absl::StrFormat("%.1f", rebuilt_->seconds));
  AddDetail(
      &rebuilt, "entries_per_second",
      absl::StrFormat("%.0f",
                      rebuilt_->seconds > 0 ? rebuilt_->entries_scanned / rebuilt_->seconds : 0.0));
  return RecordOrHold(std::move(rebuilt));
}

// What start-up recovery found after a crash is on record too.
absl::Status Node::RecordRecovery() {
  if (!recovered_ || recovered_->entries_scanned + recovered_->torn_bytes == 0) {
    return absl::OkStatus();
  }
  v1::AuditEvent e = NewEvent("volume.recovered", "node", "custodyd");
  AddDetail(&e, "entries_indexed_after_crash", absl::StrCat(recovered_->entries_scanned));
  AddDetail(&e, "torn_bytes_quarantined", absl::StrCat(recovered_->torn_bytes));
  return RecordOrHold(std::move(e));
}

std::unique_ptr<FileWriter> Node::NewWriter(absl::Status* error) {
  if (options_.io_backend != "pwrite") {
    absl::StatusOr<std::unique_ptr<FileWriter>> w = NewUringFileWriter(64);
    if (w.ok()) {
      LOG(INFO) << "volume writes use io_uring";
      return std::move(*w);
    }
    if (options_.io_backend == "io_uring") {
      *error = w.status();
      return nullptr;
    }
    LOG(WARNING) << "io_uring unavailable (" << w.status().message()
                 << "); volume writes use pwrite";
  } else {
    LOG(INFO) << "volume writes use pwrite";
  }
  return NewPwriteFileWriter();
}

absl::Status Node::OpenAudit() {
  ASSIGN_OR_RETURN(Ed25519Key key, Ed25519Key::LoadOrCreate(options_.data_dir + "/node.key"));
  ASSIGN_OR_RETURN(audit_, AuditLog::Open(index_.get(), node_id_, std::move(key), options_.audit));
  return absl::OkStatus();
}

absl::StatusOr<std::string> Node::SignCheckpointNow() { return trail_->SignCheckpointNow(); }

absl::Status Node::Record(v1::AuditEvent event) { return trail_->Record(std::move(event)); }

absl::Status Node::RecordOrHold(v1::AuditEvent event) {
  return trail_->RecordOrHold(std::move(event));
}

// The etcd client, and the cluster map: etcd's (the file bootstraps a new
// cluster), or when etcd does not answer, the last one this node ran.
absl::Status Node::OpenEtcd() {
  if (options_.etcd_endpoints.empty()) return absl::OkStatus();
  EtcdOptions eo;
  eo.endpoints = options_.etcd_endpoints;
  if (options_.tls) eo.credentials = peer_credentials();  // the cluster CA and this node's key
  ASSIGN_OR_RETURN(etcd_, EtcdClient::Create(eo));
  map_store_ = std::make_unique<EtcdMapStore>(etcd_.get(), options_.etcd_root);
  const std::string cache = options_.data_dir + "/cluster-map.json";
  absl::StatusOr<EtcdMapStore::Stored> stored = map_store_->Bootstrap(options_.cluster_json);
  std::string json = options_.cluster_json;
  if (stored.ok()) {
    json = stored->json;
  } else if (absl::StatusOr<std::string> last = ReadFileToString(cache); last.ok()) {
    LOG(WARNING) << "etcd did not give the cluster map (" << stored.status()
                 << "); running the last one this node ran, " << cache;
    json = *last;
  } else {
    LOG(WARNING) << "etcd did not give the cluster map (" << stored.status()
                 << "); running the map file";
  }
  ASSIGN_OR_RETURN(ClusterMap map, ClusterMap::Parse(json));
  if (map.Find(node_id_) == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "node ", node_id_, " is not in the cluster map version ", map.version(), " in etcd"));
  }
  if (map.version() != cluster_->version()) {
    LOG(WARNING) << "running the cluster map version " << map.version()
                 << " from etcd; the map file given is version " << cluster_->version()
                 << " (it only bootstraps a new cluster: change the map with custody cluster map "
                    "apply)";
  }
  cluster_ = std::make_shared<const ClusterMap>(std::move(map));
  return ReplaceFile(cache, json, 0600);
}

bool Node::KeepsSchedule() const {
  if (membership_) return membership_->leads();
  std::string first = node_id_;
  for (const NodeInfo& n : cluster_->nodes()) first = std::min(first, n.id);
  return first == node_id_;
}

void Node::StartMapWatch() {
  if (!map_store_) return;
  map_watch_ = std::make_unique<JobLoop<bool>>(
      [this] {
        absl::StatusOr<std::optional<EtcdMapStore::Stored>> now = map_store_->Get();
        if (!now.ok() || !*now || (*now)->map.version() == cluster_->version()) return false;
        LOG(INFO) << "the cluster map in etcd is version " << (*now)->map.version()
                  << "; this node runs " << cluster_->version() << ": switching";
        v1::AuditEvent e = NewEvent("cluster.map-switched", "node", "custodyd");
        AddDetail(&e, "from_version", absl::StrCat(cluster_->version()));
        AddDetail(&e, "to_version", absl::StrCat((*now)->map.version()));
        if (absl::Status s = RecordOrHold(std::move(e)); !s.ok()) LOG(ERROR) << s;
        if (options_.on_map_change) options_.on_map_change();
        return true;
      },
      [this](const std::optional<bool>& switched) -> std::optional<absl::Time> {
        if (switched && *switched) return std::nullopt;  // once: the node restarts
        return absl::Now() + absl::Seconds(2);
      });
  map_watch_->Start();
}

void Node::StartArchiveRepair() {
  StartMapWatch();
  if (membership_) membership_->Start();
  if (sequencer_ == nullptr) return;
  archive_repair_ = std::thread([this] {
    do {
      absl::StatusOr<int> written = records_->CompleteReservedArchives();
      if (!written.ok())
        LOG(WARNING) << "completing reserved archive numbers: " << written.status();
    } while (!stop_repair_.WaitForNotificationWithTimeout(absl::Seconds(30)));
  });
}

Node::~Node() {
  if (map_watch_) map_watch_->Stop();
  if (membership_) membership_->Stop();  // frees the election at once
  if (archive_repair_.joinable()) {
    stop_repair_.Notify();
    archive_repair_.join();
  }
  // Background work first; then the requests that waited for it.
  if (anti_entropy_) anti_entropy_->Stop();
  if (scrubber_) scrubber_->Stop();
  maintenance_pool_.reset();
  ledger_pool_.reset();
  anti_entropy_.reset();
  scrubber_.reset();
  watchdog_.reset();
  space_.reset();
  // Pools first: their tasks use everything below them.
  stream_pool_.reset();
  live_pool_.reset();
  read_pool_.reset();
  fetch_pool_.reset();
  hash_pool_.reset();
  if (committer_) {
    absl::Status s = RecordOrHold(NewEvent("node.stopped", "node", "custodyd"));
    if (s.ok()) s = SignCheckpointNow().status();
    if (!s.ok()) LOG(ERROR) << "recording node.stopped: " << s;
  }
  objects_.reset();
  uploads_.reset();
  verified_.reset();
  local_.reset();
  committer_.reset();
  audit_.reset();
  volumes_.reset();
  index_.reset();
  if (lock_fd_ >= 0) close(lock_fd_);
}

// Encryption at rest: the key must live outside the data folder, so that a
// copy of the folder (or of its disk) does not carry its own key.
absl::Status Node::LoadDataKeys() {
  if (options_.data_key_file.empty()) {
    LOG(WARNING) << "no --data-key: chunks are stored unencrypted";
    return absl::OkStatus();
  }
  std::error_code ec;
  fs::path key = fs::weakly_canonical(options_.data_key_file, ec);
  fs::path data = fs::weakly_canonical(options_.data_dir, ec);
  if (key.string().rfind(data.string() + "/", 0) == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--data-key ", options_.data_key_file, " is inside the data folder; keep it elsewhere"));
  }
  ASSIGN_OR_RETURN(DataKey current, DataKey::Load(options_.data_key_file));
  std::vector<DataKey> old;
  for (const std::string& f : options_.old_data_key_files) {
    ASSIGN_OR_RETURN(DataKey k, DataKey::Load(f));
    old.push_back(k);
  }
  index_env_ = NewIndexEnv(rocksdb::Env::Default(), current, old);
  sealer_ = std::make_unique<ChunkSealer>(current, std::move(old));
  LOG(INFO) << "chunks are sealed at rest with AES-256-GCM and the index encrypted with "
               "AES-256-CTR (data key "
            << absl::BytesToHexString(current.id) << ")";
  return absl::OkStatus();
}

absl::Status Node::PrepareIndex(const std::string& dir) {
  ASSIGN_OR_RETURN(bool have_index, PathExists(dir + "/CURRENT"));
  if (!have_index) return absl::OkStatus();
  const bool encrypted = IndexIsEncrypted(dir);
  if (!index_env_) {
    if (!encrypted) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat("the index in ", dir,
                     " is encrypted: start the node with its --data-key (and "
                     "--old-data-key for keys it was encrypted with before)"));
  }
  if (encrypted) return absl::OkStatus();
  const std::string fresh = dir + ".encrypting";
  ASSIGN_OR_RETURN(bool unfinished, PathExists(fresh));
  if (unfinished) {  // an earlier copy that did not finish: this node's own
    std::string aside = absl::StrCat(fresh, "-unfinished-", NowUnixNanos());
    LOG(WARNING) << "keeping an unfinished encrypted copy of the index as " << aside;
    RETURN_IF_ERROR(RenamePath(fresh, aside));
  }
  {
    ASSIGN_OR_RETURN(std::unique_ptr<Index> plain, Index::Open(dir));
    ASSIGN_OR_RETURN(std::unique_ptr<Index> sealed, Index::Open(fresh, index_env_.get()));
    RETURN_IF_ERROR(Index::CopyAll(plain.get(), sealed.get()));
  }
  const std::string aside = absl::StrCat(dir, ".plaintext-", NowUnixNanos());
  std::error_code ec;
  fs::rename(dir, aside, ec);
  if (!ec) fs::rename(fresh, dir, ec);
  if (ec)
    return absl::InternalError(absl::StrCat("swapping in the encrypted index: ", ec.message()));
  RETURN_IF_ERROR(SyncDir(options_.data_dir));
  LOG(WARNING) << "the index is now encrypted with the data key; the plaintext index was kept "
                  "as "
               << aside
               << ": it holds metadata in the clear, so remove it (shred) once the node "
                  "runs well";
  return absl::OkStatus();
}

std::shared_ptr<grpc::ChannelCredentials> Node::peer_credentials() const {
  return options_.peer_credentials ? options_.peer_credentials : grpc::InsecureChannelCredentials();
}

uint64_t Node::FreeBytes() const { return custody::FreeBytes(options_.data_dir).value_or(0); }

std::string Node::RenderMetrics() {
  std::string out = metrics_->Render();
  auto gauge = [&out](const char* name, const char* help, uint64_t v) {
    absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " gauge\n", name, " ", v,
                    "\n");
  };
  gauge("custody_objects", "Objects held (approximate).", objects()->ApproximateCount());
  gauge("custody_volume_bytes", "Bytes in volume files.", volumes()->TotalBytes());
  gauge("custody_free_bytes", "Free bytes on the data folder's file system.", FreeBytes());
  gauge("custody_audit_events", "Events in the audit log.", audit()->size());
  gauge("custody_cluster_map_version", "Version of the cluster map (0: none).",
        cluster().version());
  gauge("custody_under_replicated",
        "Replication backlog: copies a home node still lacks, as the last anti-entropy round "
        "counted them.",
        anti_entropy_ ? anti_entropy_->under_replicated() : 0);
  std::optional<v1::UnderReplication> now =
      anti_entropy_ ? anti_entropy_->estimate() : std::nullopt;
  gauge("custody_under_replicated_now",
        "Copies a home node lacks, as this node's live estimate (every 5 s) counts them.",
        now ? now->copies() : 0);
  gauge("custody_read_only", "1 while the node takes no new data (status says why).",
        ReadOnlyReason().empty() ? 0 : 1);
  gauge("custody_audit_events_held",
        "Audit events refused for lack of space, held in memory until there is room.",
        trail_->held());
  absl::StrAppend(&out, peer_reads_.Render());
  absl::StrAppend(&out,
                  "# HELP custody_auth_throttled_total Calls with a token refused at once because "
                  "their address sent too many wrong tokens.\n"
                  "# TYPE custody_auth_throttled_total counter\ncustody_auth_throttled_total ",
                  auth_throttle_.refused(), "\n");
  return out;
}

absl::StatusOr<v1::ObjectManifest> Node::FindManifest(const Digest& id) {
  absl::StatusOr<v1::ObjectManifest> m = objects_->GetManifest(id);
  if (m.ok() || !placement_ || m.status().code() != absl::StatusCode::kNotFound) return m;
  m = placement_->FindManifest(id);
  if (m.ok() || m.status().code() != absl::StatusCode::kNotFound) return m;
  LOG(INFO) << m.status();  // which nodes were asked
  return ObjectNotFound(id);
}

}  // namespace custody
