#include "server/services/audit_service.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/export_manifest.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/unary.h"
#include "replication/cluster/peer_metadata.h"

namespace custody {

namespace {

// Adds each other node's events about `subject` (asked as a peer, so that it
// answers with its own events only).
void MergeFromPeers(Node* node, const v1::AuditLogRequest& req, v1::AuditLogResponse* response) {
  if (node->placement() == nullptr) return;  // a cluster of one
  for (const Placement::Other& other : node->placement()->Others()) {
    const NodeInfo& peer = *other.info;
    auto stub = v1::Audit::NewStub(other.peer->channel());
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    AddPeerMetadata(&ctx, node->cluster(), node->node_id());
    v1::AuditLogResponse theirs;
    grpc::Status s = stub->Log(&ctx, req, &theirs);
    if (!s.ok()) {
      response->add_unreachable(absl::StrCat(peer.id, ": ", s.error_message()));
      continue;
    }
    for (const std::string& e : theirs.events()) response->add_events(e);
    if (theirs.truncated()) response->set_truncated(true);
  }
}

// Orders the events by time, then node and position.
void SortByTime(v1::AuditLogResponse* response) {
  std::vector<std::pair<std::tuple<int64_t, std::string, uint64_t>, std::string>> all;
  for (const std::string& bytes : response->events()) {
    v1::AuditEvent e;
    e.ParseFromString(bytes);
    all.push_back({{e.time_unix_nanos(), e.node_id(), e.seq()}, bytes});
  }
  std::sort(all.begin(), all.end());
  response->clear_events();
  for (auto& [key, bytes] : all) response->add_events(std::move(bytes));
}

}  // namespace

grpc::ServerUnaryReactor* AuditService::Log(grpc::CallbackServerContext* ctx,
                                            const v1::AuditLogRequest* request,
                                            v1::AuditLogResponse* response) {
  bool from_peer = !PeerNodeId(ctx).empty();
  return RunUnary(ctx, node_->read_pool(), [=, this]() -> absl::Status {
    ASSIGN_OR_RETURN(v1::Principal who, node_->Authorize(*ctx, Action::kAuditRead));
    if (request->subject().empty()) {
      RETURN_IF_ERROR(Register(*request, response));
      if (from_peer) return absl::OkStatus();  // the asking node filters for its caller
      if (node_->cluster().nodes().size() > 1) MergeFromPeers(node_, *request, response);
      DropUncleared(who, response);
      SortByTime(response);
      return absl::OkStatus();
    }
    if (absl::StatusOr<Digest> id = Digest::Parse(request->subject()); id.ok()) {
      absl::StatusOr<v1::ObjectManifest> m = node_->VisibleManifest(who, *id, Action::kAuditRead);
      if (!m.ok() && m.status().code() == absl::StatusCode::kNotFound &&
          node_->FindManifest(*id).ok()) {
        return absl::OkStatus();  // above the caller's clearance: as if never heard of
      }
    }
    const std::string& subject = request->subject();
    if (absl::StartsWith(subject, "record:")) {
      absl::StatusOr<v1::Record> r = node_->records()->Get(subject.substr(7));
      if (r.ok() && !Cleared(who, r->classification())) {
        (void)node_->Refuse(
            who.name(), Action::kAuditRead, subject,
            absl::PermissionDeniedError("the record is above the caller's clearance"));
        return absl::OkStatus();  // as if never heard of
      }
    }
    ASSIGN_OR_RETURN(std::vector<std::string> events, node_->audit()->Events(subject));
    for (std::string& e : events) response->add_events(std::move(e));
    ASSIGN_OR_RETURN(std::vector<std::string> restored, node_->history()->Events(subject));
    for (std::string& e : restored) response->add_events(std::move(e));
    // Objects, records, devices and live uploads (taken over by another
    // node: doc/live.md) have histories on several nodes.
    bool shared = absl::StartsWith(subject, "sha256:") || absl::StartsWith(subject, "record:") ||
                  absl::StartsWith(subject, "device:") || absl::StartsWith(subject, "snapshot:") ||
                  absl::StartsWith(subject, "live:");
    if (!from_peer && shared && node_->cluster().nodes().size() > 1) {
      MergeFromPeers(node_, *request, response);
    }
    // Restored logs and other nodes' events interleave with this node's.
    if (!from_peer) SortByTime(response);
    return absl::OkStatus();
  });
}

absl::Status AuditService::Register(const v1::AuditLogRequest& req,
                                    v1::AuditLogResponse* response) {
  if (req.to_unix_nanos() != 0 && req.to_unix_nanos() <= req.from_unix_nanos()) {
    return absl::InvalidArgumentError("--to must be after --from");
  }
  EventFilter filter{req.actor(), req.action(), req.from_unix_nanos(), req.to_unix_nanos()};
  bool truncated = false;
  ASSIGN_OR_RETURN(
      std::vector<std::string> events,
      node_->audit()->Select(filter, req.limit() == 0 ? 10000 : req.limit(), &truncated));
  for (std::string& e : events) response->add_events(std::move(e));
  if (truncated) response->set_truncated(true);
  return absl::OkStatus();
}

void AuditService::DropUncleared(const v1::Principal& who, v1::AuditLogResponse* response) {
  std::map<std::string, bool> cleared;  // by subject
  auto* events = response->mutable_events();
  v1::AuditEvent e;
  auto hidden = [&](const std::string& bytes) {
    if (!e.ParseFromString(bytes)) return true;
    auto [it, fresh] = cleared.try_emplace(e.subject(), true);
    if (fresh) it->second = SubjectCleared(who, e.subject());
    return !it->second;
  };
  events->erase(std::remove_if(events->begin(), events->end(), hidden), events->end());
}

// Whether `who` may see events about `subject`: objects and records above
// their clearance are left out of the register, as if never heard of.
bool AuditService::SubjectCleared(const v1::Principal& who, const std::string& subject) {
  if (absl::StatusOr<Digest> id = Digest::Parse(subject); id.ok()) {
    absl::StatusOr<v1::ObjectManifest> m = node_->FindManifest(*id);
    if (!m.ok()) return absl::IsNotFound(m.status()) ? true : Cleared(who, "state-secret");
    auto level = m->metadata().find("classification");
    return Cleared(who, level == m->metadata().end() ? "internal" : level->second);
  }
  if (absl::StartsWith(subject, "record:")) {
    absl::StatusOr<v1::Record> r = node_->records()->Get(subject.substr(7));
    return !r.ok() || Cleared(who, r->classification());
  }
  return true;
}

grpc::ServerUnaryReactor* AuditService::LatestCheckpoint(grpc::CallbackServerContext* ctx,
                                                         const v1::AuditCheckpointRequest* request,
                                                         v1::AuditCheckpointResponse* response) {
  return RunUnary(ctx, node_->read_pool(), [this, ctx, request, response]() -> absl::Status {
    RETURN_IF_ERROR(node_->Authorize(*ctx, Action::kAuditRead).status());
    std::string note;
    if (request->fresh()) {
      ASSIGN_OR_RETURN(note, node_->SignCheckpointNow());
    } else {
      ASSIGN_OR_RETURN(note, node_->audit()->LatestCheckpoint());
    }
    if (note.empty()) return absl::NotFoundError("the node has signed no checkpoint yet");
    if (attester_ != nullptr && attester_->enabled()) {
      // A fresh checkpoint is handed out: it is an export, asked for now.
      Attester::Attested a = request->fresh() ? attester_->Now(note) : attester_->Held(note);
      note = a.note;
      response->set_timestamp_token(a.token);
      response->set_timestamp_state(a.timestamp_state);
      response->set_witness_state(a.witness_state);
    }
    response->set_checkpoint(note);
    response->set_public_key_pem(node_->audit()->public_key_pem());
    return absl::OkStatus();
  });
}

// A bundle goes to those who read the audit trail, and to the holder of a
// live export grant for the object (custody export hands the record out).
absl::StatusOr<v1::Principal> AuditService::AuthorizeExport(const grpc::ServerContextBase& ctx,
                                                            const std::string& subject) {
  ASSIGN_OR_RETURN(v1::Principal who, node_->Authorize(ctx, Action::kStatus, subject));
  absl::Status audit = custody::Authorize(who, Action::kAuditRead);
  if (audit.ok()) return who;
  ASSIGN_OR_RETURN(std::optional<v1::AccessGrant> g,
                   node_->LiveGrant(who.name(), subject, "export"));
  if (g.has_value()) return who;
  return node_->Refuse(who.name(), Action::kAuditRead, subject, audit);
}

namespace {

// What an export's context says of the grant it ran under.
v1::ExportGrant GrantFacts(const v1::AccessGrant& g) {
  v1::ExportGrant out;
  out.set_request_id(g.request_id());
  out.set_requester(g.requester());
  out.set_reason(g.reason());
  out.set_purpose(g.purpose());
  out.set_requested_unix_nanos(g.requested_unix_nanos());
  out.set_expires_unix_nanos(g.expires_unix_nanos());
  out.set_record_id(g.record_id());
  for (const v1::Approval& a : g.approvals()) {
    v1::ExportApproval* x = out.add_approvals();
    x->set_by(a.by());
    x->set_role(a.role());
    x->set_time_unix_nanos(a.time_unix_nanos());
  }
  return out;
}

}  // namespace

absl::StatusOr<v1::ExportContext> AuditService::ExportContextFor(const v1::Principal& who,
                                                                 const std::string& id) {
  v1::ExportContext c;
  c.set_exported_by(who.name());
  absl::Time now = absl::Now();
  c.set_exported_unix_nanos(absl::ToUnixNanos(now));
  ASSIGN_OR_RETURN(std::shared_ptr<const RecordBook> book, node_->records()->book());
  ASSIGN_OR_RETURN(std::vector<std::string> holders, book->RecordsOf(id));
  for (const std::string& rid : holders) {
    ASSIGN_OR_RETURN(std::optional<FoldedRecord> f, book->Find(rid));
    if (!f || !Cleared(who, f->record.classification())) continue;
    v1::ExportRecord* r = c.add_records();
    r->set_id(rid);
    r->set_archive_number(f->record.archive_number());
    r->set_agency(f->record.agency());
  }
  // The grant for the object itself or for a record that holds it.
  ASSIGN_OR_RETURN(std::optional<v1::AccessGrant> g, node_->LiveGrant(who.name(), id, "export"));
  if (g.has_value()) *c.mutable_grant() = GrantFacts(*g);
  return c;
}

absl::Status AuditService::SignManifest(const v1::Principal& who, v1::AuditBundle* bundle) {
  absl::StatusOr<Digest> id = Digest::Parse(bundle->subject());
  if (!id.ok()) return absl::OkStatus();  // not an object: nothing to attest
  ASSIGN_OR_RETURN(v1::ObjectManifest m, node_->FindManifest(*id));
  bundle->set_manifest(m.SerializeAsString());
  const Ed25519Key& key = node_->audit()->key();
  ASSIGN_OR_RETURN(std::string sig,
                   key.Sign(ExportManifestMessage(bundle->subject(), bundle->manifest())));
  bundle->set_manifest_signature(sig);
  ASSIGN_OR_RETURN(v1::ExportContext c, ExportContextFor(who, bundle->subject()));
  bundle->set_export_context(c.SerializeAsString());
  ASSIGN_OR_RETURN(sig,
                   key.Sign(ExportContextMessage(bundle->subject(), bundle->export_context())));
  bundle->set_export_context_signature(sig);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* AuditService::Export(grpc::CallbackServerContext* ctx,
                                               const v1::AuditExportRequest* request,
                                               v1::AuditBundle* response) {
  std::string peer = ctx->peer();
  return RunUnary(ctx, node_->read_pool(), [this, ctx, request, response, peer]() -> absl::Status {
    ASSIGN_OR_RETURN(v1::Principal who, AuthorizeExport(*ctx, request->subject()));
    RETURN_IF_ERROR(node_->SignCheckpointNow().status());
    ASSIGN_OR_RETURN(*response, node_->audit()->Bundle(request->subject()));
    if (attester_ != nullptr && attester_->enabled()) {
      Attester::Attested a = attester_->Now(response->checkpoint());
      response->set_checkpoint(a.note);
      response->set_timestamp_token(a.token);
    }
    RETURN_IF_ERROR(SignManifest(who, response));
    v1::AuditEvent e = NewEvent("audit.exported", request->subject(), who.name());
    AddDetail(&e, "peer", peer);
    AddDetail(&e, "events", absl::StrCat(response->entries_size()));
    v1::ExportContext c;
    if (c.ParseFromString(response->export_context()) && c.has_grant()) {
      AddDetail(&e, "grant", c.grant().request_id());
    }
    return node_->Record(std::move(e));
  });
}

absl::Status AuditService::RecordVerification(const v1::AuditVerifyNodeResponse& r, bool unbroken) {
  v1::AuditEvent e =
      NewEvent(r.ok() ? "audit.verified" : "audit.verify-failed", "node", "custodyd");
  AddDetail(&e, "from_event", absl::StrCat(r.verified_from()));
  AddDetail(&e, "events", absl::StrCat(r.events()));
  AddDetail(&e, "seconds", absl::StrCat(r.seconds()));
  if (!r.ok()) AddDetail(&e, "problem", r.first_problem());
  // Only a verification unbroken from event 0 moves what the node remembers;
  // a failed one makes it forget, so the next one starts from 0.
  const bool remember = r.ok() && unbroken && r.verified_checkpoint() > 0;
  if (r.ok()) AddDetail(&e, "checkpoint", absl::StrCat(r.verified_checkpoint()));
  if (r.ok()) AddDetail(&e, "remembered", remember ? "yes" : "no: it started past the last one");
  absl::Status signed_ok;
  absl::Status s = node_->trail()->Write(std::move(e), [&](rocksdb::WriteBatch* b) {
    if (!r.ok()) node_->audit()->ForgetVerified(b);
    if (remember) signed_ok = node_->audit()->RememberVerified(b, r.verified_checkpoint());
  });
  return s.ok() ? signed_ok : s;
}

grpc::ServerUnaryReactor* AuditService::VerifyNode(grpc::CallbackServerContext* ctx,
                                                   const v1::AuditVerifyNodeRequest* request,
                                                   v1::AuditVerifyNodeResponse* response) {
  return RunUnary(ctx, node_->read_pool(), [this, ctx, request, response]() -> absl::Status {
    RETURN_IF_ERROR(node_->Authorize(*ctx, Action::kAuditRead).status());
    // From the auditor's checkpoint, from the last one verified here, or
    // from the start.
    absl::StatusOr<uint64_t> last = node_->audit()->LastVerified();
    if (request->since_last_verified() && !last.ok()) return last.status();
    uint64_t from = 0;
    if (!request->since_checkpoint().empty()) {
      absl::StatusOr<Checkpoint> kept =
          VerifyCheckpoint(request->since_checkpoint(), node_->audit()->public_raw());
      if (kept.ok()) from = kept->size;  // if not, VerifyAll says why
    } else if (request->since_last_verified()) {
      from = *last;
    }
    *response = node_->audit()->VerifyAll(request->since_checkpoint(), from);
    const bool unbroken = from == 0 || (last.ok() && from <= *last);
    ASSIGN_OR_RETURN(std::vector<v1::RestoredLogCheck> restored, node_->history()->Verify());
    for (v1::RestoredLogCheck& c : restored) {
      if (!c.ok() && response->ok()) {
        response->set_ok(false);
        response->set_first_problem(
            absl::StrCat("restored log of node ", c.node_id(), ": ", c.problem()));
      }
      *response->add_restored_logs() = std::move(c);
    }
    if (absl::Status s = RecordVerification(*response, unbroken); !s.ok()) {
      LOG(WARNING) << "could not put a verification on record: " << s;  // the answer stands
    }
    if (request->since_checkpoint().empty() || !response->ok()) return absl::OkStatus();
    ASSIGN_OR_RETURN(Checkpoint old,
                     VerifyCheckpoint(request->since_checkpoint(), node_->audit()->public_raw()));
    RETURN_IF_ERROR(node_->SignCheckpointNow().status());
    ASSIGN_OR_RETURN(auto latest, node_->audit()->ConsistencyFrom(old.size));
    response->set_latest_checkpoint(latest.first);
    for (const Digest& d : latest.second) response->add_consistency_proof(std::string(d.Raw()));
    return absl::OkStatus();
  });
}

}  // namespace custody
