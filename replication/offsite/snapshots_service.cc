#include "replication/offsite/snapshots_service.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/unary.h"
#include "replication/offsite/offsite_client.h"
#include "replication/offsite/offsite_sync.h"
#include "replication/offsite/restore_guard.h"
#include "replication/offsite/restorer.h"
#include "replication/offsite/snapshot_maker.h"

namespace custody {

namespace {

// A snapshot command sent to the offsite peer itself (refused there): what
// to run instead.
absl::Status OnThePeer(const absl::Status& refused) {
  return absl::Status(
      refused.code(),
      absl::StrCat(refused.message(),
                   ". To list the sealed snapshots this peer holds, ask a node of the "
                   "cluster: custody --server NODE offsite snapshots --peer ADDR"));
}

}  // namespace

SnapshotsService::SnapshotsService(Node* node, OffsiteOptions options)
    : node_(node), options_(std::move(options)) {}

SnapshotsService::~SnapshotsService() {
  if (schedule_) schedule_->Stop();
}

void SnapshotsService::StartSchedule() {
  // Without etcd the keeper is fixed (the map's first node); with it, every
  // node runs the loop and only the elected one makes snapshots.
  if (node_->membership() == nullptr && !node_->KeepsSchedule()) return;
  absl::Time started = absl::Now();
  schedule_ = std::make_unique<JobLoop<Run_>>(
      [this] { return ScheduledRun(); },
      [this, started](const std::optional<Run_>& last) { return NextDue(last, started); });
  schedule_->Start();
}

std::optional<absl::Time> SnapshotsService::NextDue(const std::optional<Run_>& last,
                                                    absl::Time started) {
  if (!node_->KeepsSchedule()) return absl::Now() + absl::Seconds(1);  // another node keeps it
  if (last && !last->ok) return last->at + absl::Minutes(5);
  absl::StatusOr<std::vector<KnownSnapshot>> all = KnownSnapshots(node_);
  if (!all.ok()) return absl::Now() + absl::Minutes(5);
  if (all->empty()) return started + std::min(options_.every, absl::Hours(1));
  absl::Time due = absl::FromUnixNanos(all->back().body.created_unix_nanos()) + options_.every;
  if (!options_.peer.empty() && all->back().receipt) due = std::min(due, ChallengeDue());
  if (!options_.peer.empty() && !all->back().receipt) {  // not confirmed offsite yet
    due = std::min(due, (last ? last->at : started) + std::min(options_.every, absl::Hours(1)));
  }
  return due;
}

SnapshotsService::Run_ SnapshotsService::ScheduledRun() {
  if (!node_->KeepsSchedule()) return Run_{absl::Now(), true};
  absl::StatusOr<KnownSnapshot> latest = FindSnapshot(node_, "");
  absl::Status s;
  if (!latest.ok() ||
      absl::Now() - absl::FromUnixNanos(latest->body.created_unix_nanos()) >= options_.every) {
    latest = MakeSnapshot(node_, "schedule", "custodyd");
    s = latest.status();
  }
  if (s.ok() && !options_.peer.empty() && !latest->receipt) {
    v1::SyncRequest req;
    req.set_snapshot_id(latest->body.id());
    s = DoSync(req, "custodyd").status();
  }
  if (!s.ok()) {
    LOG(ERROR) << "scheduled snapshot: " << s;
    v1::AuditEvent e = NewEvent("snapshot.schedule-failed", "offsite", "custodyd");
    AddDetail(&e, "error", s.ToString());
    (void)node_->Record(std::move(e));
  }
  ChallengeIfDue();
  return Run_{absl::Now(), s.ok()};
}

absl::Time SnapshotsService::ChallengeDue() {
  absl::StatusOr<std::optional<v1::ChallengeReport>> last = LastChallenge(node_);
  absl::Time due = absl::InfinitePast();  // none yet: due now
  if (last.ok() && last->has_value()) {
    due = absl::FromUnixNanos((*last)->finished_unix_nanos()) + options_.challenge_every;
  }
  return std::max(due, challenge_retry_.load());
}

void SnapshotsService::ChallengeIfDue() {
  const absl::Time now = absl::Now();
  if (options_.peer.empty() || ChallengeDue() > now) return;
  OffsiteClient client(options_.peer, node_->peer_credentials());
  absl::StatusOr<v1::ChallengeReport> r =
      ChallengePeer(node_, &client, options_.peer, options_.challenge, "custodyd");
  if (!r.ok()) {
    LOG(ERROR) << "scheduled offsite challenge: " << r.status();
    challenge_retry_ = absl::Now() + absl::Hours(1);  // no tight loop on a lasting failure
  } else if (r.ok() && !r->ok()) {
    LOG(ERROR) << "the offsite peer failed a challenge: " << r->missed_size() << " of "
               << r->samples() << " samples missed";
  }
}

template <typename Work>
grpc::ServerUnaryReactor* SnapshotsService::Run(grpc::CallbackServerContext* ctx, Action action,
                                                const std::string& subject, Work work) {
  return RunUnary(ctx, node_->maintenance_pool(), [=, this]() -> absl::Status {
    absl::StatusOr<v1::Principal> p = node_->Authorize(*ctx, action, subject);
    if (!p.ok() && node_->options().offsite_peer) return OnThePeer(p.status());
    RETURN_IF_ERROR(p.status());
    return work(*p);
  });
}

absl::StatusOr<std::string> SnapshotsService::Peer(const std::string& asked) const {
  if (!asked.empty()) return asked;
  if (!options_.peer.empty()) return options_.peer;
  return absl::FailedPreconditionError(
      "no offsite peer: start the node with --offsite ADDR, or pass --peer ADDR");
}

grpc::ServerUnaryReactor* SnapshotsService::CreateSnapshot(grpc::CallbackServerContext* ctx,
                                                           const v1::CreateSnapshotRequest*,
                                                           v1::SnapshotSummary* response) {
  return Run(ctx, Action::kSnapshot, "snapshot:new",
             [=, this](const v1::Principal& p) -> absl::Status {
               ASSIGN_OR_RETURN(KnownSnapshot s,
                                MakeSnapshot(node_, "on demand by " + p.name(), p.name()));
               *response = Summarize(s);
               return absl::OkStatus();
             });
}

grpc::ServerUnaryReactor* SnapshotsService::ListSnapshots(grpc::CallbackServerContext* ctx,
                                                          const v1::ListSnapshotsRequest*,
                                                          v1::ListSnapshotsResponse* response) {
  return Run(ctx, Action::kSnapshotRead, "snapshot:*",
             [=, this](const v1::Principal&) -> absl::Status {
               ASSIGN_OR_RETURN(std::vector<KnownSnapshot> all, KnownSnapshots(node_));
               for (const KnownSnapshot& s : all) *response->add_snapshots() = Summarize(s);
               return absl::OkStatus();
             });
}

grpc::ServerUnaryReactor* SnapshotsService::GetSnapshot(grpc::CallbackServerContext* ctx,
                                                        const v1::SnapshotRef* request,
                                                        v1::SnapshotDetail* response) {
  return Run(ctx, Action::kSnapshotRead, "snapshot:" + request->id(),
             [=, this](const v1::Principal&) -> absl::Status {
               ASSIGN_OR_RETURN(KnownSnapshot s, FindSnapshot(node_, request->id()));
               *response->mutable_summary() = Summarize(s);
               *response->mutable_snapshot() = s.snapshot;
               if (s.receipt) *response->mutable_receipt() = *s.receipt;
               return absl::OkStatus();
             });
}

absl::StatusOr<v1::SyncResult> SnapshotsService::DoSync(const v1::SyncRequest& request,
                                                        const std::string& actor) {
  ASSIGN_OR_RETURN(std::string peer, Peer(request.peer()));
  absl::StatusOr<KnownSnapshot> s = FindSnapshot(node_, request.snapshot_id());
  // Without one named: the latest until the peer verified it (so that a cut
  // sync resumes), then a new one.
  bool none = !s.ok() && absl::IsNotFound(s.status());
  if (request.snapshot_id().empty() && (none || (s.ok() && s->receipt))) {
    absl::Time t0 = absl::Now();
    s = MakeSnapshot(node_, "for a sync by " + actor, actor);
    LOG(INFO) << "snapshot for a sync made in " << absl::FormatDuration(absl::Now() - t0);
  }
  RETURN_IF_ERROR(s.status());
  SyncOptions o;
  o.peer = peer;
  o.actor = actor;
  o.rate_bytes_per_second = request.rate_bytes_per_second() ? request.rate_bytes_per_second()
                                                            : options_.rate_bytes_per_second;
  o.streams = request.streams() ? static_cast<int>(request.streams()) : options_.streams;
  OffsiteClient client(peer, node_->peer_credentials(), o.streams);
  absl::StatusOr<v1::SyncResult> r = SyncSnapshot(node_, *s, &client, o);
  if (!r.ok()) {
    v1::AuditEvent e = NewEvent("offsite.sync-failed", "snapshot:" + s->body.id(), actor);
    AddDetail(&e, "peer", peer);
    AddDetail(&e, "error", r.status().ToString());
    (void)node_->Record(std::move(e));
  }
  return r;
}

grpc::ServerUnaryReactor* SnapshotsService::Sync(grpc::CallbackServerContext* ctx,
                                                 const v1::SyncRequest* request,
                                                 v1::SyncResult* response) {
  return Run(ctx, Action::kSnapshot, "snapshot:" + request->snapshot_id(),
             [=, this](const v1::Principal& p) -> absl::Status {
               ASSIGN_OR_RETURN(*response, DoSync(*request, p.name()));
               return absl::OkStatus();
             });
}

absl::Status SnapshotsService::Status(v1::OffsiteStatusResponse* out) {
  ASSIGN_OR_RETURN(std::vector<KnownSnapshot> all, KnownSnapshots(node_));
  out->set_peer(options_.peer);
  out->set_schedule_seconds(absl::ToDoubleSeconds(options_.every));
  const KnownSnapshot* last = nullptr;
  for (const KnownSnapshot& s : all) {
    if (s.receipt) last = &s;
  }
  ASSIGN_OR_RETURN(auto now, ClusterObjects(node_));
  std::set<std::string> held;
  if (last != nullptr) {
    *out->mutable_last_verified() = Summarize(*last);
    absl::Duration age = absl::Now() - absl::FromUnixNanos(last->body.created_unix_nanos());
    out->set_age_seconds(absl::ToDoubleSeconds(age));
    out->set_overdue(age > options_.every);
    for (const v1::SnapshotObject& o : last->body.objects()) held.insert(o.id());
  } else {
    out->set_overdue(true);
  }
  for (const auto& [id, o] : now) {
    if (held.count(id)) continue;
    out->set_objects_behind(out->objects_behind() + 1);
    out->set_bytes_behind(out->bytes_behind() + o.size());
  }
  ASSIGN_OR_RETURN(std::optional<v1::ChallengeReport> challenge, LastChallenge(node_));
  if (challenge.has_value()) *out->mutable_last_challenge() = *challenge;
  if (last == nullptr) {
    out->set_warning("no snapshot was ever verified offsite: the archive has no offsite copy");
  } else if (out->overdue()) {
    out->set_warning(absl::StrCat("the last verified snapshot is ",
                                  static_cast<int64_t>(out->age_seconds() / 86400),
                                  " day(s) old, older than the schedule allows"));
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* SnapshotsService::OffsiteStatus(grpc::CallbackServerContext* ctx,
                                                          const v1::OffsiteStatusRequest*,
                                                          v1::OffsiteStatusResponse* response) {
  return Run(ctx, Action::kSnapshotRead, "offsite",
             [=, this](const v1::Principal&) { return Status(response); });
}

grpc::ServerUnaryReactor* SnapshotsService::VerifyOffsite(grpc::CallbackServerContext* ctx,
                                                          const v1::VerifyOffsiteRequest* request,
                                                          v1::OffsiteVerifyReport* response) {
  return Run(ctx, Action::kSnapshotRead, "offsite",
             [=, this](const v1::Principal& p) -> absl::Status {
               ASSIGN_OR_RETURN(std::string peer, Peer(request->peer()));
               OffsiteClient client(peer, node_->peer_credentials());
               ASSIGN_OR_RETURN(*response, client.Verify(request->snapshot_id()));
               v1::AuditEvent e = NewEvent("offsite.verify-requested", "offsite", p.name());
               AddDetail(&e, "peer", peer);
               AddDetail(&e, "ok", response->ok() ? "yes" : "no");
               AddDetail(&e, "corrupt", absl::StrCat(response->corrupt_size()));
               AddDetail(&e, "missing", absl::StrCat(response->missing_size()));
               return node_->Record(std::move(e));
             });
}

grpc::ServerUnaryReactor* SnapshotsService::ChallengeOffsite(
    grpc::CallbackServerContext* ctx, const v1::ChallengeOffsiteRequest* request,
    v1::ChallengeReport* response) {
  return Run(ctx, Action::kSnapshotRead, "offsite",
             [=, this](const v1::Principal& p) -> absl::Status {
               ASSIGN_OR_RETURN(std::string peer, Peer(request->peer()));
               ChallengeOptions o = options_.challenge;
               if (request->samples() > 0) o.samples = request->samples();
               if (request->rate_bytes_per_second() > 0) {
                 o.rate_bytes_per_second = request->rate_bytes_per_second();
               }
               OffsiteClient client(peer, node_->peer_credentials());
               ASSIGN_OR_RETURN(*response, ChallengePeer(node_, &client, peer, o, p.name()));
               return absl::OkStatus();
             });
}

grpc::ServerUnaryReactor* SnapshotsService::Restore(grpc::CallbackServerContext* ctx,
                                                    const v1::RestoreRequest* request,
                                                    v1::RestoreResult* response) {
  return Run(ctx, Action::kRestore, "cluster", [=, this](const v1::Principal& p) -> absl::Status {
    ASSIGN_OR_RETURN(std::string peer, Peer(request->peer()));
    OffsiteClient client(peer, node_->peer_credentials(), options_.streams);
    ASSIGN_OR_RETURN(*response, RestoreFromOffsite(node_, &client, *request, peer, p.name()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* SnapshotsService::ListPeerSnapshots(
    grpc::CallbackServerContext* ctx, const v1::PeerSnapshotsRequest* request,
    v1::PeerSnapshotList* response) {
  return Run(ctx, Action::kSnapshotRead, "offsite",
             [=, this](const v1::Principal&) -> absl::Status {
               ASSIGN_OR_RETURN(std::string peer, Peer(request->peer()));
               OffsiteClient client(peer, node_->peer_credentials());
               ASSIGN_OR_RETURN(*response, custody::ListPeerSnapshots(node_, &client, peer));
               return absl::OkStatus();
             });
}

}  // namespace custody
