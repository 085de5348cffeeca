// Node::Authorize and Node::Refuse: who may do what on this node.
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/tls.h"
#include "server/node.h"

namespace custody {

absl::StatusOr<std::optional<v1::AccessGrant>> Node::LiveGrant(const std::string& reader,
                                                               const std::string& object_id,
                                                               const std::string& purpose) {
  ASSIGN_OR_RETURN(std::shared_ptr<const AccessState> st, access_state());
  std::vector<std::string> records;
  if (records_ != nullptr) {
    ASSIGN_OR_RETURN(std::shared_ptr<const RecordBook> book, records_->book());
    ASSIGN_OR_RETURN(records, book->RecordsOf(object_id));
  }
  return st->LiveGrant(reader, object_id, purpose, records);
}

absl::Status Node::Refuse(const std::string& who, Action action, const std::string& subject,
                          const absl::Status& why) {
  v1::AuditEvent e = NewEvent("access.refused", subject, who.empty() ? "unknown" : who);
  AddDetail(&e, "action", ActionName(action));
  AddDetail(&e, "code", absl::StatusCodeToString(why.code()));
  AddDetail(&e, "reason", why.message());
  absl::Status s = RecordOrHold(std::move(e));
  if (!s.ok()) LOG(ERROR) << "recording a refusal: " << s;
  return why;
}

void Node::CountPeerRead(const std::string& peer, internal::v1::BlobKind kind, uint64_t bytes) {
  std::optional<v1::AuditEvent> e = peer_reads_.Count(peer, kind, bytes);
  if (!e) return;
  absl::Status s = RecordOrHold(std::move(*e));
  if (!s.ok()) LOG(ERROR) << "recording a node's reads: " << s;
}

absl::Status Node::RefusePeer(const std::string& caller, const std::string& method,
                              const absl::Status& why) {
  std::optional<uint64_t> n = peer_refusals_.Admit(absl::StrCat(caller, "\n", why.message()));
  if (!n) return why;
  v1::AuditEvent e = NewEvent("replica.refused", "node", caller.empty() ? "unknown" : caller);
  AddDetail(&e, "method", method);
  AddDetail(&e, "code", absl::StatusCodeToString(why.code()));
  AddDetail(&e, "reason", why.message());
  AddDetail(&e, "refusals", absl::StrCat(*n));
  absl::Status s = RecordOrHold(std::move(e));
  if (!s.ok()) LOG(ERROR) << "recording a refused node call: " << s;
  return why;
}

void Node::RecordThrottle(const std::string& peer, absl::Duration block) {
  v1::AuditEvent e = NewEvent("auth.throttled", "node", "unauthenticated");
  AddDetail(&e, "address", AuthThrottle::Address(peer));
  AddDetail(&e, "blocked_for", absl::FormatDuration(block));
  AddDetail(&e, "refused_while_blocked_so_far", std::to_string(auth_throttle_.refused()));
  absl::Status s = RecordOrHold(std::move(e));
  if (!s.ok()) LOG(ERROR) << "recording a throttled address: " << s;
}

absl::StatusOr<v1::Principal> Node::Authorize(const grpc::ServerContextBase& ctx, Action action,
                                              const std::string& subject) {
  absl::StatusOr<std::shared_ptr<const AccessState>> state = access_state();
  if (!state.ok()) return state.status();
  // A token caller from an address that sent too many wrong tokens is refused
  // before its token is looked at; nothing here waits (server/security/auth_throttle.h).
  const bool token_call = options_.tls && PeerIdentity(ctx).empty();
  if (token_call) RETURN_IF_ERROR(auth_throttle_.Admit(ctx.peer()));
  absl::StatusOr<v1::Principal> p = Caller(ctx, options_.tls, options_.ca_pem, **state);
  if (!p.ok()) {
    if (token_call && absl::IsUnauthenticated(p.status())) {
      absl::Duration block = auth_throttle_.Failed(ctx.peer());
      if (block > absl::ZeroDuration()) RecordThrottle(ctx.peer(), block);
    }
    return Refuse(PeerIdentity(ctx), action, subject, p.status());
  }
  absl::Status allowed = custody::Authorize(*p, action);
  const bool answers = action == Action::kStatus || action == Action::kAuditRead;
  if (allowed.ok() && options_.offsite_peer && !answers && action != Action::kOffsitePeer &&
      action != Action::kWitness) {
    allowed = absl::PermissionDeniedError(
        "this node is an offsite peer (--role offsite): it keeps its cluster's snapshots, "
        "witnesses its checkpoints and takes no other request");
  }
  if (allowed.ok() && options_.witness_only && !answers && action != Action::kWitness) {
    allowed = absl::PermissionDeniedError(
        "this node is a witness (--role witness): it cosigns other nodes' audit checkpoints "
        "and takes no other request");
  }
  if (!allowed.ok()) return Refuse(p->name(), action, subject, allowed);
  return p;
}

absl::StatusOr<v1::ObjectManifest> Node::VisibleManifest(const v1::Principal& p, const Digest& id,
                                                         Action action) {
  absl::StatusOr<v1::ObjectManifest> m = FindManifest(id);
  if (!m.ok()) return m.status();
  auto level = m->metadata().find("classification");
  std::string l = level == m->metadata().end() ? "internal" : level->second;
  if (Cleared(p, l)) return m;
  (void)Refuse(p.name(), action, id.ToString(),
               absl::PermissionDeniedError(
                   absl::StrCat("the object is classified ", l, ", above the caller's clearance (",
                                p.clearance().empty() ? "internal" : p.clearance(), ")")));
  return ObjectNotFound(id);
}

}  // namespace custody
